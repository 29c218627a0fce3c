"""Batching chosen by measurement on the replica's own device: the timing helpers, the batch a
replica forms from a measured gain, and the ImageEncoder class (no cluster) applying it."""

from __future__ import annotations

import time

import pytest

from serve.replica import batch_gain, batch_size_for, least_time


def _spin(seconds: float) -> None:
    """Burn CPU (not sleep: the helpers time CPU)."""
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass


def test_least_time_takes_the_least_disturbed_run():
    calls = iter([0.03, 0.004, 0.02])
    best = least_time(lambda: _spin(next(calls)), repeats=3)
    assert 0.004 <= best < 0.015


def test_batch_gain_sees_a_per_call_overhead_and_a_batch_that_costs_more():
    # 4 ms a call plus 1 ms an item: 8 items alone take 40 ms, together 12 ms
    overhead = batch_gain(lambda items: _spin(0.004 + 0.001 * len(items)), list(range(8)))
    assert overhead > 2.0
    # an item costs 2 ms alone and 4 ms in a batch (as batches ran on one AMX CPU)
    worse = batch_gain(
        lambda items: _spin(0.002 if len(items) == 1 else 0.004 * len(items)), [0] * 8
    )
    assert worse < 0.7


def test_batch_size_for_batches_unless_batching_measured_slower():
    assert batch_size_for(16, None) == 16  # not measured: as asked
    assert batch_size_for(16, 1.4) == 16
    assert batch_size_for(16, 0.97) == 16  # within the margin: a batch saves per-pass overhead
    assert batch_size_for(16, 0.87) == 1  # measured slower: single images
    assert batch_size_for(1, 2.0) == 1


@pytest.fixture(scope="module")
def image_encoder():
    import torch

    from serve.image_encoder import ImageEncoder

    threads = torch.get_num_threads()
    try:
        yield ImageEncoder.func_or_class("cad-mini")
    finally:
        torch.set_num_threads(threads)


def test_image_encoder_batches_as_its_measured_gain_says(image_encoder):
    encoder = image_encoder
    assert encoder.batch_gain > 0 and encoder.info()["batch_gain"] == round(encoder.batch_gain, 3)
    encoder.reconfigure({"max_batch_size": 16, "batch_wait_timeout_s": 0.005})
    assert encoder.batching["max_batch_size"] == batch_size_for(16, encoder.batch_gain)
    # a device where batches lose (as measured on one AMX CPU: gain 0.87) forms none
    measured = encoder.batch_gain
    try:
        encoder.batch_gain = 0.87
        encoder.reconfigure({"max_batch_size": 16})
        assert encoder.batching["max_batch_size"] == 1
        encoder.batch_gain = 1.3
        encoder.reconfigure({"max_batch_size": 16})
        assert encoder.batching["max_batch_size"] == 16
    finally:
        encoder.batch_gain = measured
    # a runtime change measures again, on what queries will run
    encoder.reconfigure({"max_batch_size": 16, "runtime": "torch"})
    assert encoder.clip.runtime["image"] == "torch" and encoder.batch_gain != measured
