"""PointNet: shapes, unit norm, order invariance, registry round trip."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from encoders.point_encoders import (
    GEOMETRY_ARCHS,
    build_geometry_encoder,
    encode_points,
    geometry_config_dict,
)
from encoders.pointnet import PointNet, PointNetConfig


def clouds(b, n, seed=0):
    return torch.randn(b, n, 3, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("output_dim", [256, 512])
def test_shape_and_unit_norm(output_dim):
    model = PointNet(output_dim).eval()
    with torch.inference_mode():
        out = model(clouds(4, 200))
    assert out.shape == (4, output_dim) and out.dtype == torch.float32
    torch.testing.assert_close(out.norm(dim=1), torch.ones(4))


def test_single_point_cloud_and_training_step():
    model = PointNet(32, PointNetConfig(widths=(8, 16), head_width=16))
    with torch.inference_mode():
        assert model.eval()(clouds(1, 1)).shape == (1, 32)
    model.train()
    model(clouds(3, 50)).sum().backward()
    assert all(p.grad is not None for p in model.parameters())


def test_permutation_invariance():
    model = PointNet(64).eval()
    x = clouds(3, 300)
    shuffled = torch.stack([c[torch.randperm(300)] for c in x])
    with torch.inference_mode():
        assert (model(x) - model(shuffled)).abs().max().item() <= 1e-4


def test_rejects_bad_shapes_and_config():
    with pytest.raises(ValueError, match="points must be"):
        PointNet(8)(torch.randn(2, 10, 2))
    with pytest.raises(ValueError, match="widths"):
        PointNetConfig(widths=())
    with pytest.raises(ValueError, match="dropout"):
        PointNetConfig(dropout=1.0)


def test_registry_round_trip():
    assert GEOMETRY_ARCHS["pointnet"] is PointNet
    model = build_geometry_encoder("pointnet", 128, widths=[32, 64], head_width=96, dropout=0.1)
    spec = geometry_config_dict(model)
    assert spec == {
        "arch": "pointnet",
        "output_dim": 128,
        "widths": [32, 64],
        "head_width": 96,
        "dropout": 0.1,
    }
    again = build_geometry_encoder(**json.loads(json.dumps(spec)))
    assert type(again) is PointNet and again.config == model.config
    again.load_state_dict(model.state_dict(), strict=True)
    points = np.random.default_rng(0).normal(size=(3, 64, 3)).astype(np.float32)
    np.testing.assert_allclose(encode_points(again, points), encode_points(model, points))
    with pytest.raises(TypeError, match="k"):
        build_geometry_encoder("pointnet", 128, k=20)


def test_default_config_dict():
    spec = geometry_config_dict(build_geometry_encoder("pointnet", 512))
    assert spec == {"arch": "pointnet", "output_dim": 512, **PointNetConfig().to_dict()}
    assert spec["widths"] == [64, 128, 256, 512] and spec["dropout"] == 0.3
