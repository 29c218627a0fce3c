"""Synthetic catalogs with planted structure, for the store's tests and benchmarks.

Each category is a random unit center with its own random low-dimensional subspace; a part's
identity is its center plus an offset in that subspace (low intrinsic dimension, like real
embeddings, so nearest neighbours are well defined and HNSW recall is meaningful) plus a little
isotropic noise; its text, image and geometry vectors are the identity plus independent noise,
and its K views are its image vector plus noise. Everything is L2-normalized, so cosine rankings
are predictable: a query made of one part's vectors finds that part first, its category mates next.
"""

from __future__ import annotations

import hashlib

import numpy as np

from store.schema import CollectionSpec, PartRecord

TAG_VOCABULARY = ("metric", "imperial", "steel", "brass", "plastic", "printed", "stock", "custom")


def _unit(array: np.ndarray) -> np.ndarray:
    return (array / np.linalg.norm(array, axis=-1, keepdims=True)).astype(np.float32)


class SyntheticCatalog:
    """A deterministic catalog generator: ``records(start, count)`` gives parts start.. in order.

    spread : norm of a part's offset from its category center, within the category subspace
    intrinsic_dim : dimension of each category's subspace
    jitter : norm of a part's isotropic offset (all D dimensions)
    noise : norm of each modality's offset from the part identity
    view_noise : norm of each view's offset from the part's image vector
    """

    def __init__(
        self,
        spec: CollectionSpec,
        categories: int = 30,
        seed: int = 0,
        spread: float = 0.8,
        intrinsic_dim: int = 16,
        jitter: float = 0.1,
        noise: float = 0.2,
        view_noise: float = 0.3,
    ):
        self.spec = spec
        self.categories = categories
        self.seed = seed
        self.spread, self.jitter, self.noise, self.view_noise = spread, jitter, noise, view_noise
        rng = np.random.default_rng([seed, 0])
        self.centers = _unit(rng.normal(size=(categories, spec.dim)))
        rank = min(intrinsic_dim, spec.dim)
        gauss = rng.normal(size=(categories, spec.dim, rank))
        self.bases = np.linalg.qr(gauss)[0].astype(np.float32)  # (C, D, r) orthonormal columns

    def category(self, index: int) -> str:
        return f"cat{index % self.categories:02d}"

    def _noise(self, rng: np.random.Generator, shape: tuple[int, ...], scale: float) -> np.ndarray:
        return rng.standard_normal(size=shape, dtype=np.float32) * np.float32(
            scale / np.sqrt(self.spec.dim)
        )

    def vectors(self, start: int, count: int) -> dict[str, np.ndarray]:
        """Batch vectors of parts start..start+count: name -> (count, D) or (count, K, D)."""
        d, k = self.spec.dim, self.spec.view_count
        rng = np.random.default_rng([self.seed, 1, start, count])
        cats = (np.arange(start, start + count) % self.categories).astype(int)
        rank = self.bases.shape[2]
        offsets = rng.standard_normal(size=(count, rank), dtype=np.float32) / np.sqrt(rank)
        in_subspace = np.einsum("ndr,nr->nd", self.bases[cats], offsets) * self.spread
        identity = _unit(
            self.centers[cats] + in_subspace + self._noise(rng, (count, d), self.jitter)
        )
        out = {
            name: _unit(identity + self._noise(rng, (count, d), self.noise))
            for name in ("text", "image", "geometry")
        }
        out["views"] = _unit(
            out["image"][:, None, :] + self._noise(rng, (count, k, d), self.view_noise)
        )
        return out

    def records(self, start: int, count: int, views: bool = True) -> list[PartRecord]:
        """PartRecords of parts start..start+count (sizes and tags drawn per batch)."""
        vectors = self.vectors(start, count)
        rng = np.random.default_rng([self.seed, 2, start, count])
        sizes = np.round(np.exp(rng.uniform(np.log(2.0), np.log(400.0), size=(count, 3))), 2)
        origins = np.round(rng.uniform(-50, 50, size=(count, 3)), 2)
        records = []
        for row in range(count):
            index = start + row
            part_id = f"part-{index:07d}"
            tags = [
                TAG_VOCABULARY[(index + j * 3) % len(TAG_VOCABULARY)] for j in range(1 + index % 3)
            ]
            part_vectors = {name: vectors[name][row] for name in ("text", "image", "geometry")}
            if views:
                part_vectors["views"] = vectors["views"][row]
            records.append(
                PartRecord(
                    part_id=part_id,
                    vectors=part_vectors,
                    category=self.category(index),
                    content_sha256=(sha := hashlib.sha256(part_id.encode()).hexdigest()),
                    fingerprint=f"sha256:{sha}",
                    bbox_min=origins[row].tolist(),
                    bbox_max=(origins[row] + sizes[row]).tolist(),
                    name=f"synthetic part {index}",
                    tags=tags,
                    description=f"a {self.category(index)} part",
                    source_uri=f"synthetic://{part_id}.stl",
                    face_count=int(100 + index % 900),
                    view_urls=[f"views/{part_id}/{v}.png" for v in range(self.spec.view_count)],
                    meta={"index": index},
                )
            )
        return records
