"""PointNet point-cloud encoder into the CLIP embedding space (the sketch's ``PointNetEncoder``).

A shared per-point MLP (1x1 convolutions, each followed by BatchNorm and ReLU), a max over the
points, and a projection head ``Linear -> BatchNorm -> ReLU -> Dropout -> Linear``; the output is
L2-normalized so that cosine similarity against CLIP text and image embeddings is a dot product.
The max over points makes the embedding invariant to the order of the points.
"""

from __future__ import annotations

import dataclasses
import numbers
from dataclasses import dataclass
from typing import Any, ClassVar

import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["PointNet", "PointNetConfig"]


def _positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


@dataclass(frozen=True)
class PointNetConfig:
    """PointNet hyper-parameters (the output width is a separate argument of the encoder)."""

    widths: tuple[int, ...] = (64, 128, 256, 512)  # output channels of each shared per-point layer
    head_width: int = 512  # hidden width of the projection head
    dropout: float = 0.3  # dropout before the head's last linear layer (training only)

    def __post_init__(self) -> None:  # validates, and normalizes to plain (JSON-able) types
        widths = tuple(_positive_int("widths", w) for w in self.widths)
        if not widths:
            raise ValueError("widths must name at least one per-point layer")
        object.__setattr__(self, "widths", widths)
        object.__setattr__(self, "head_width", _positive_int("head_width", self.head_width))
        object.__setattr__(self, "dropout", float(self.dropout))
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields (tuples as lists)."""
        return {
            f.name: list(v) if isinstance(v := getattr(self, f.name), tuple) else v
            for f in dataclasses.fields(self)
        }


class PointNet(nn.Module):
    """PointNet encoder.

    points : (B, N, 3) float  ->  (B, output_dim) float, L2-normalized.
    """

    config_class: ClassVar[type] = PointNetConfig

    def __init__(self, output_dim: int = 512, config: PointNetConfig | None = None) -> None:
        super().__init__()
        if output_dim < 1:
            raise ValueError(f"output_dim must be >= 1, got {output_dim}")
        cfg = config or PointNetConfig()
        self.config = cfg
        self.output_dim = int(output_dim)
        layers: list[nn.Module] = []
        for c_in, c_out in zip((3, *cfg.widths[:-1]), cfg.widths, strict=True):
            layers += [nn.Conv1d(c_in, c_out, 1), nn.BatchNorm1d(c_out), nn.ReLU()]
        self.point_mlp = nn.Sequential(*layers)
        self.head = nn.Sequential(
            nn.Linear(cfg.widths[-1], cfg.head_width),
            nn.BatchNorm1d(cfg.head_width),
            nn.ReLU(),
            nn.Dropout(cfg.dropout),
            nn.Linear(cfg.head_width, self.output_dim),
        )

    def forward(self, points: Tensor) -> Tensor:
        if points.ndim != 3 or points.shape[-1] != 3 or points.shape[1] < 1:
            raise ValueError(f"points must be (B, N, 3) with N >= 1, got {tuple(points.shape)}")
        per_point = self.point_mlp(points.transpose(1, 2))  # (B, widths[-1], N)
        return F.normalize(self.head(per_point.max(dim=-1).values), dim=-1)
