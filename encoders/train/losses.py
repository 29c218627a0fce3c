"""The CLIP-style symmetric contrastive loss with a learnable temperature."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

MAX_LOGIT_SCALE = 100.0  # CLIP's clamp: temperature never below 0.01


def soft_targets(labels: torch.Tensor | None, n: int, category_weight: float) -> torch.Tensor:
    """(n, n) row-stochastic targets: the item itself, plus ``category_weight`` of the mass
    spread over the batch's other items of the same label (0 or no labels: plain one-hot).

    With many parts of one category in a batch, one-hot targets push same-category parts apart;
    sharing some mass keeps categories together while the item keeps most of it.
    """
    eye = torch.eye(n)
    if labels is None or category_weight <= 0:
        return eye
    same = (labels[:, None] == labels[None, :]).float() - eye
    others = same.sum(dim=1, keepdim=True)
    shared = torch.where(others > 0, same / others.clamp(min=1), torch.zeros_like(same))
    weight = torch.where(others > 0, torch.full_like(others, category_weight), 0.0)
    return (1 - weight) * eye + weight * shared


def contrastive_loss(
    a: torch.Tensor,
    b: torch.Tensor,
    logit_scale: torch.Tensor,
    labels: torch.Tensor | None = None,
    category_weight: float = 0.0,
) -> torch.Tensor:
    """Symmetric InfoNCE of two (B, D) L2-normalized batches whose rows i belong together."""
    logits = logit_scale * a @ b.t()
    targets = soft_targets(labels, len(a), category_weight).to(logits.device, logits.dtype)
    forward = torch.sum(-targets * F.log_softmax(logits, dim=1), dim=1).mean()
    backward = torch.sum(-targets.t() * F.log_softmax(logits.t(), dim=1), dim=1).mean()
    return (forward + backward) / 2


class ContrastiveLoss(nn.Module):
    """Sum of symmetric contrastive losses over modality pairs, one learnable temperature.

    pairs : names of the pairs, e.g. ("geometry-text", "geometry-image"); ``forward`` takes the
        embeddings by modality and returns the total and each pair's loss
    """

    def __init__(
        self,
        pairs: tuple[str, ...],
        temperature: float = 0.07,
        category_weight: float = 0.0,
    ):
        super().__init__()
        self.pairs = tuple(pairs)
        self.category_weight = float(category_weight)
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1.0 / temperature)))

    def scale(self) -> torch.Tensor:
        return self.logit_scale.exp().clamp(max=MAX_LOGIT_SCALE)

    def forward(
        self, embeddings: dict[str, torch.Tensor], labels: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, dict[str, float]]:
        scale = self.scale()
        total = torch.zeros((), device=scale.device)
        parts: dict[str, float] = {}
        for pair in self.pairs:
            first, second = pair.split("-")
            loss = contrastive_loss(
                embeddings[first].float(),
                embeddings[second].float(),
                scale,
                labels,
                self.category_weight,
            )
            parts[f"loss_{first}_{second}"] = float(loss.detach())
            total = total + loss
        return total, parts
