"""The training step with more than one worker: AlignModel under DistributedDataParallel with the
loss (and its learnable temperature) computed outside the wrapped forward, as
``encoders.train.loop.train_loop`` does. Two gloo processes on this machine, different batches:
every parameter, the temperature included, must stay identical on both ranks."""

from __future__ import annotations

import socket

import numpy as np
import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F
from torch import nn

from encoders.train.loop import PAIRS, AlignModel
from encoders.train.losses import ContrastiveLoss

DIM, BATCH, STEPS = 16, 8, 3


class _PointMean(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(3, DIM)

    def forward(self, points: torch.Tensor) -> torch.Tensor:
        return self.linear(points).mean(dim=1)


def _model() -> AlignModel:
    torch.manual_seed(0)  # the same initial weights on every rank
    visual = nn.Sequential(nn.Flatten(), nn.Linear(3 * 4 * 4, DIM))
    loss = ContrastiveLoss(PAIRS["B"], 0.07, 0.3)
    return AlignModel(_PointMean(), visual, loss, train_image=True)


def _steps(rank: int, model: AlignModel, wrapped: nn.Module) -> None:
    optimizer = torch.optim.AdamW(model.parameters(), lr=0.05)
    generator = torch.Generator().manual_seed(100 + rank)  # each rank its own batches
    for _ in range(STEPS):
        points = torch.randn(BATCH, 32, 3, generator=generator)
        pixels = torch.randn(BATCH, 3, 4, 4, generator=generator)
        text = F.normalize(torch.randn(BATCH, DIM, generator=generator), dim=-1)
        labels = torch.randint(0, 3, (BATCH,), generator=generator)
        geometry, image = wrapped(points, pixels)
        total, _ = model.loss({"geometry": geometry, "image": image, "text": text}, labels)
        optimizer.zero_grad(set_to_none=True)
        total.backward()
        optimizer.step()


def _worker(rank: int, world: int, port: int, queue) -> None:
    dist.init_process_group(
        "gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world
    )
    try:
        torch.set_num_threads(1)
        model = _model()
        _steps(rank, model, nn.parallel.DistributedDataParallel(model))
        # numpy, not tensors: a queue passes tensors as shared memory that dies with this process
        shared = {name: p.detach().numpy().copy() for name, p in model.named_parameters()}
        alone = _model()  # the control: the same steps without DDP
        _steps(rank, alone, alone)
        queue.put((rank, shared, float(alone.loss.logit_scale.detach())))
    finally:
        dist.destroy_process_group()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.timeout(180)
def test_two_workers_keep_one_temperature_and_one_model():
    context = mp.get_context("spawn")
    queue = context.Queue()
    port = _free_port()
    processes = [context.Process(target=_worker, args=(r, 2, port, queue)) for r in range(2)]
    for p in processes:
        p.start()
    answers = [queue.get(timeout=150) for _ in processes]
    results = {rank: (shared, alone) for rank, shared, alone in answers}
    for p in processes:
        p.join(timeout=30)
        assert p.exitcode == 0
    (first, alone_0), (second, alone_1) = results[0], results[1]
    initial = float(_model().loss.logit_scale.detach())
    assert float(first["loss.logit_scale"]) != pytest.approx(initial, abs=1e-4)  # it learned
    for name, value in first.items():
        np.testing.assert_allclose(value, second[name], rtol=0, atol=1e-6, err_msg=name)
    # without the all-reduce, the ranks' different batches give different temperatures
    assert alone_0 != pytest.approx(alone_1, abs=1e-4)
