"""Training: the loss against hand-computed cases, augmentations, the data job, a short Ray Train
run that lowers the loss, resume from a checkpoint, and the bundle it writes."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from encoders.train.augment import PointAugment
from encoders.train.losses import ContrastiveLoss, contrastive_loss, soft_targets

ROOT = Path(__file__).resolve().parents[1]

# -- loss ------------------------------------------------------------------------------------


def test_contrastive_loss_matches_hand_computed_two_by_two():
    a = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    b = torch.tensor([[1.0, 0.0], [0.6, 0.8]])
    scale = torch.tensor(2.0)
    # logits = 2 * a @ b.T = [[2, 1.2], [0, 1.6]]
    row = lambda own, other: -math.log(math.exp(own) / (math.exp(own) + math.exp(other)))  # noqa: E731
    forward = (row(2.0, 1.2) + row(1.6, 0.0)) / 2  # rows: a_i against every b
    backward = (row(2.0, 0.0) + row(1.6, 1.2)) / 2  # columns: b_j against every a
    expected = (forward + backward) / 2
    assert float(contrastive_loss(a, b, scale)) == pytest.approx(expected, rel=1e-6)


def test_soft_targets_share_mass_within_a_category_only():
    targets = soft_targets(torch.tensor([0, 0, 1, 0]), 4, category_weight=0.3)
    assert torch.allclose(targets.sum(dim=1), torch.ones(4))
    assert targets[0, 0] == pytest.approx(0.7) and targets[0, 1] == pytest.approx(0.15)
    assert targets[0, 3] == pytest.approx(0.15) and targets[0, 2] == 0
    assert targets[2, 2] == pytest.approx(1.0)  # alone in its category: plain one-hot
    assert torch.equal(soft_targets(None, 3, 0.3), torch.eye(3))


def test_loss_is_lower_for_aligned_pairs_and_temperature_learnable():
    torch.manual_seed(0)
    x = torch.nn.functional.normalize(torch.randn(8, 16), dim=-1)
    loss = ContrastiveLoss(("geometry-text",), temperature=0.07)
    aligned, parts = loss({"geometry": x, "text": x})
    shuffled, _ = loss({"geometry": x, "text": x[torch.randperm(8)]})
    assert float(aligned.detach()) < float(shuffled.detach())
    assert set(parts) == {"loss_geometry_text"}
    aligned.backward()
    assert loss.logit_scale.grad is not None
    assert float(loss.scale()) == pytest.approx(1 / 0.07, rel=1e-5)


# -- augmentation ----------------------------------------------------------------------------


def test_validation_parts_are_a_fixed_pick_whatever_the_order():
    from encoders.train.job import validation_parts

    ids = [f"part-{i:04d}" for i in range(500)]
    picked = validation_parts(ids, 40)
    assert len(picked) == 40 and set(picked) <= set(ids)
    assert validation_parts(list(reversed(ids)), 40) == picked  # block order does not matter
    assert validation_parts(ids + ids[:10], 40) == picked  # nor duplicates
    assert picked != ids[:40]  # spread over the ids, not the first ones
    assert set(validation_parts(ids, 20)) < set(picked)  # a smaller pick is a subset
    assert validation_parts(ids, 1000) == sorted(ids)


def test_point_augment_is_seeded_and_keeps_the_cloud_in_shape():
    rng = np.random.default_rng(0)
    cloud = rng.normal(size=(1024, 3)).astype(np.float32)
    cloud /= np.linalg.norm(cloud, axis=1, keepdims=True)
    augment = PointAugment()
    first = augment(cloud.copy(), 512, np.random.default_rng(7))
    again = augment(cloud.copy(), 512, np.random.default_rng(7))
    other = augment(cloud.copy(), 512, np.random.default_rng(8))
    assert first.shape == (512, 3) and first.dtype == np.float32
    assert np.array_equal(first, again) and not np.array_equal(first, other)
    radius = np.linalg.norm(first, axis=1)  # rotation keeps radii; scale and jitter are small
    assert 0.85 < radius.min() and radius.max() < 1.15
    rigid = PointAugment(tilt_deg=0, scale=0, jitter=0, dropout=0)(
        cloud.copy(), 1024, np.random.default_rng(1)
    )
    assert np.allclose(
        np.sort(np.linalg.norm(rigid, axis=1)), np.sort(np.linalg.norm(cloud, axis=1)), atol=1e-5
    )


# -- data job, training run, resume, bundle --------------------------------------------------


@pytest.fixture(scope="module")
def training_data(ray_local, tmp_path_factory):
    from cadsearch.settings import Settings
    from data_jobs.catalog.generate import generate_catalog
    from data_jobs.training_data import build_training_data
    from encoders.make_bundle import build_cad_mini

    root = tmp_path_factory.mktemp("train")
    generate_catalog(
        root / "catalog", n=24, seed=11, families=["hex_nut", "flat_washer", "keyed_shaft"]
    )
    (root / "catalog" / "parts" / "broken.stl").write_bytes(b"solid broken\nfacet normal 0 0\n")
    with open(root / "catalog" / "manifest.jsonl", "a", encoding="utf-8") as f:
        f.write(
            json.dumps({"part_id": "broken", "file": "parts/broken.stl", "category": "nut"}) + "\n"
        )
    init = build_cad_mini(root / "init")
    summary = build_training_data(
        [f"tiny={root / 'catalog'}"],
        root / "data",
        bundle=str(init.path),
        settings=Settings(),
        extra_views=2,
    )
    return root, summary, init


def test_training_data_job_writes_shards_and_reports_bad_files(training_data):
    import pyarrow.parquet as pq

    root, summary, init = training_data
    assert summary.rows == 24 and summary.errors == 1
    errors = [
        json.loads(line) for line in (root / "data" / "errors.jsonl").read_text().splitlines()
    ]
    assert [e["part_id"] for e in errors] == ["broken"] and errors[0]["message"]
    table = pq.read_table(root / "data" / "shards")
    row = table.slice(0, 1).to_pylist()[0]
    assert row["source"] == "tiny" and row["split"] in ("train", "heldout")
    assert len(row["views_png"]) == 10 and len(row["extra_views_png"]) == 2
    assert row["views_png"][0][:8] == b"\x89PNG\r\n\x1a\n"
    points = np.frombuffer(row["points"], dtype=np.float32).reshape(-1, 3)
    assert points.shape == (2 * init.num_points, 3)
    assert row["descriptions"] and row["category"] in ("hex_nut", "flat_washer", "shaft")
    summary_file = json.loads((root / "data" / "summary.json").read_text())
    assert summary_file["categories"] == {"flat_washer": 8, "hex_nut": 8, "shaft": 8}


def test_training_row_without_extra_views(tmp_path):
    """``--extra-views 0``: the bundle's views and no random-angle ones (it failed every part)."""
    import trimesh

    from cadsearch.settings import Settings
    from data_jobs.training_data import prepare_training_row

    path = tmp_path / "box.stl"
    trimesh.creation.box((20, 10, 5)).export(path)
    row = {"part_id": "box", "uri": str(path), "file_type": "stl", "metadata": {}, "size": 1}
    row |= {"source": "test", "split": "train"}
    options = {"extra_views": 0, "points_factor": 2, "seed": 0}
    out = prepare_training_row(row, Settings(), options)
    assert not out.get("error"), out.get("error")
    assert out["extra_views_png"] == [] and len(out["views_png"]) == 10


def _fixed_loss(bundle_path, data_dir) -> dict[str, float]:
    """Contrastive losses of a bundle on all rows as one batch, without augmentation, eval mode."""
    import pyarrow.parquet as pq

    from encoders.bundle import load_bundle

    bundle = load_bundle(bundle_path)
    clip = bundle.load_clip()
    geometry = bundle.load_geometry_encoder()
    rows = pq.read_table(data_dir / "shards").to_pylist()
    points = torch.from_numpy(
        np.stack(
            [
                np.frombuffer(r["points"], np.float32).reshape(-1, 3)[: bundle.num_points]
                for r in rows
            ]
        )
    )
    with torch.no_grad():
        g = torch.nn.functional.normalize(geometry(points), dim=-1)
    text = torch.from_numpy(clip.encode_text([r["description"] for r in rows]))
    image = torch.from_numpy(clip.encode_images([r["views_png"][0] for r in rows]))
    labels = torch.tensor([hash(r["category"]) % 1000 for r in rows])
    loss = ContrastiveLoss(("image-text", "geometry-text", "geometry-image"), category_weight=0.3)
    with torch.no_grad():
        total, parts = loss({"geometry": g, "image": image, "text": text}, labels)
    return {"total": float(total), **parts}


def test_short_training_lowers_the_loss_resumes_and_writes_a_bundle(training_data, tmp_path):
    from cadsearch.settings import Settings
    from data_jobs.training_data import training_shards
    from encoders.bundle import load_bundle
    from encoders.train.job import TRAINING_FILE, run_training

    root, _, init = training_data
    settings = Settings()
    train = settings.train.model_copy(
        update={
            "epochs": 2,
            "batch_size": 8,
            "lr": 3e-3,
            "image_lr": 1e-3,
            "val_parts": 8,
            "warmup_epochs": 0.0,
            "torch_threads": 2,
        }
    )
    settings = settings.model_copy(update={"train": train})
    first = run_training(
        training_shards([root / "data"]),
        tmp_path / "two",
        init=str(init.path),
        train=settings.train,
        run_dir=tmp_path / "run",
    )
    assert [h["epoch"] for h in first.history] == [0, 1]
    # the same run folder and name, two more epochs: Ray Train resumes from the checkpoint
    more = settings.model_copy(update={"train": train.model_copy(update={"epochs": 4})})
    resumed = run_training(
        training_shards([root / "data"]),
        tmp_path / "four",
        init=str(init.path),
        train=more.train,
        run_dir=tmp_path / "run",
    )
    assert [h["epoch"] for h in resumed.history] == [0, 1, 2, 3]
    assert resumed.history[:2] == first.history  # epochs 0 and 1 were not run again
    bundle = load_bundle(tmp_path / "four")
    assert bundle.trained["geometry_encoder"] and bundle.trained["image_tower"]
    assert bundle.trained["text_tower"] and bundle.id != init.id
    assert bundle.num_points == init.num_points and bundle.geometry == init.geometry
    record = json.loads((bundle.path / TRAINING_FILE).read_text())
    assert record["mode"] == "B" and record["train_rows"] + record["val_rows"] == 24
    assert {"loss", "val_geometry_nn_top1", "samples_per_s"} <= set(record["history"][-1])
    assert record["init_bundle_id"] == init.id and record["init_trained"] is False
    before = _fixed_loss(init.path, root / "data")
    after = _fixed_loss(bundle.path, root / "data")
    assert after["total"] < before["total"], (before, after)
    assert after["loss_geometry_text"] < 0.85 * before["loss_geometry_text"], (before, after)


def test_geometry_pack_trains_without_ray_resumes_and_merges(training_data, tmp_path):
    """`cadsearch train --pack`, the loop alone in a fresh interpreter (torch and numpy: what a
    lent GPU machine has), a resumed run, then `--merge` into a bundle whose geometry moved."""
    from encoders.bundle import load_bundle
    from encoders.train.pack import PACK_FILE, load_pack

    root, _, init = training_data
    pack, run = tmp_path / "pack", tmp_path / "run"
    cli = [sys.executable, "-m", "cadsearch.cli", "train", "--data", str(root / "data")]
    done = subprocess.run(
        [*cli, "--init", str(init.path), "--pack", str(pack), "--pack-mb", "4"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["parts"] == 24 and summary["cut"] == 0 and summary["mb"] <= 4
    arrays, meta = load_pack(pack)
    assert arrays["points"].dtype == np.float16 and arrays["points"].shape[1:] == (
        init.num_points,
        3,
    )
    assert arrays["image"].shape == (24, init.embed_dim) and meta["bundle_id"] == init.id
    assert (arrays["text_ids"][:, 0] >= 0).all() and (arrays["text_ids"] >= 0).sum() > 24
    for ids in arrays["text_ids"]:  # a part's texts once each (its variants repeat its description)
        assert len(set(ids[ids >= 0])) == (ids >= 0).sum()
    tiny = subprocess.run(
        [*cli, "--init", str(init.path), "--pack", str(tmp_path / "tiny"), "--pack-mb", "2.2"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert json.loads(tiny.stdout.strip().splitlines()[-1])["cut"] > 0  # over the limit: cut
    assert (tmp_path / "tiny" / PACK_FILE).stat().st_size < 2.2 * 2**20

    # the loop with Ray and open_clip unimportable, as on a machine that has only torch
    loop = (
        "import sys; sys.modules['ray'] = sys.modules['open_clip'] = None\n"
        "from encoders.train.pack import main; main(sys.argv[1:])"
    )

    def train(epochs: int) -> dict:
        args = [str(pack), str(run), "--epochs", str(epochs), "--batch-size", "8"]
        done = subprocess.run(
            [sys.executable, "-c", loop, *args, "--lr", "3e-3", "--device", "cpu"],
            capture_output=True,
            text=True,
            timeout=300,
            cwd=ROOT,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return json.loads(done.stdout.strip().splitlines()[-1])["last_epoch"]

    assert train(1)["epoch"] == 0
    last = train(3)  # resumes after epoch 0
    assert last["epoch"] == 2 and {"loss", "val_geometry_text_top1"} <= set(last)
    history = json.loads((run / "history.json").read_text())["history"]
    assert [h["epoch"] for h in history] == [0, 1, 2]
    assert history[-1]["loss"] < history[0]["loss"], history

    merged = subprocess.run(
        [
            sys.executable,
            "-m",
            "cadsearch.cli",
            "train",
            "--init",
            str(init.path),
            "--merge",
            str(run),
            "--pack",
            str(pack),
            "--out",
            str(tmp_path / "bundle"),
            "--name",
            "packed",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert merged.returncode == 0, merged.stderr
    bundle = load_bundle(tmp_path / "bundle")
    assert bundle.id != init.id and bundle.trained["geometry_encoder"]
    trained = torch.load(run / "geometry.pt")
    got = bundle.load_geometry_encoder().state_dict()
    record = json.loads((bundle.path / "training.json").read_text())
    assert record["recipe"] == "pack" and record["init_bundle_id"] == init.id
    assert record["epochs"] == 3 and record["train_rows"] + record["val_rows"] == 24
    assert record["config"]["batch_size"] == 8 and record["data_dirs"] == [str(root / "data")]
    assert record["sources"] == ["tiny"]
    start = init.load_geometry_encoder().state_dict()
    # the trained weights, as the bundle stores them (its storage dtype), and not the start's
    assert all(
        torch.allclose(got[k].float(), v.float(), rtol=1e-2, atol=1e-3) for k, v in trained.items()
    )
    assert not all(torch.equal(start[k], got[k]) for k in start)
    # a run made from another bundle is refused
    other = subprocess.run(
        [
            sys.executable,
            "-m",
            "cadsearch.cli",
            "train",
            "--init",
            "cad-mini",
            "--merge",
            str(run),
            "--out",
            str(tmp_path / "other"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert other.returncode == 1 and "trained from bundle" in other.stderr


def test_model_card_carries_recipe_commands_and_the_eval_table(tmp_path):
    from encoders.make_bundle import build_cad_mini
    from encoders.train.card import main as write_card

    bundle = build_cad_mini(tmp_path / "b")
    training = {
        "mode": "B",
        "epochs": 3,
        "train_rows": 80,
        "val_rows": 20,
        "wall_s": 12.5,
        "categories": ["nut", "washer"],
        "data_dirs": ["/data/train"],
        "config": {
            "lr": 0.001,
            "image_lr": 0.001,
            "batch_size": 48,
            "num_workers": 1,
            "category_weight": 0.3,
            "weight_decay": 0.05,
            "warmup_epochs": 1.0,
        },
        "history": [{"epoch": 2, "loss": 4.25, "samples_per_s": 30.0}],
    }
    (bundle.path / "training.json").write_text(json.dumps(training))
    sample = {
        "mesh_map": 0.85,
        "text_recall_at_5": 0.95,
        "image_top1": None,
        "counts": {"parts": 600, "query_parts": 120, "categories": 28},
    }
    (tmp_path / "eval.json").write_text(json.dumps(sample))
    assert (
        write_card(
            [
                str(bundle.path),
                "--eval",
                f"sample={tmp_path / 'eval.json'}",
                "--command",
                "cadsearch train --data D --out O",
            ]
        )
        == 0
    )
    card = (bundle.path / "MODEL_CARD.md").read_text()
    assert bundle.id in card and "cadsearch train --data D --out O" in card
    assert "| metric | sample |" in card
    assert "| mesh -> part mAP (by category, query excluded) | 0.850 |" in card
    assert "| image -> part top-1 category (new angles, 160/320 px) | - |" in card
    assert "600 / 120 / 28" in card and "Mode B" in card
    assert "Started from" not in card
    # a run from a trained bundle is one stage of a longer recipe: the card says which
    training.update(init_bundle_id="cad-mini-0123456789ab", init_trained=True)
    (bundle.path / "training.json").write_text(json.dumps(training))
    assert write_card([str(bundle.path), "--command", "cadsearch train --init I"]) == 0
    card = (bundle.path / "MODEL_CARD.md").read_text()
    assert "Started from the trained bundle `cad-mini-0123456789ab`" in card
