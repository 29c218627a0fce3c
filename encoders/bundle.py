"""Model bundles: bundle.json and safetensors weights in a directory, verified by sha256 before use.

bundle.json holds the open_clip model (name or config dict), where its weights come from
(a pretrained tag or a file in the bundle), the text tower source (pinned HF folder or open_clip),
the geometry encoder's arch and hyper-parameters, point count, view set, image size, what is
trained, and ``files``: the sha256 of every weight file. The bundle id is
``{name}-{sha256(canonical json of the rest)[:12]}``: it changes with any config or weight change,
and every stored vector carries it. Weights are read with safetensors only (nothing is unpickled).
An optional ``similarity.json`` beside them maps the bundle's match scores to percentages
(``ModelBundle.similarity_table``, docs/similarity.md); it is not part of the id.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # torch and open_clip load only when a model does
    import torch

    from cadsearch.settings import Settings
    from encoders.clip import ClipEncoder
    from store.schema import CollectionSpec
    from store.similarity import SimilarityTable

log = logging.getLogger(__name__)
FORMAT_VERSION = 1  # bundle.json layout version this code reads and writes
BUNDLE_FILE = "bundle.json"
MODEL_CARD_FILE = "MODEL_CARD.md"
CLIP_WEIGHTS = "clip.safetensors"  # open_clip state dict, less a pinned HF text tower
GEOMETRY_WEIGHTS = "geometry.safetensors"  # geometry encoder state dict
SHIPPED_DIR = Path(__file__).resolve().parent / "bundles"  # named bundles in the repository
STORAGE_DTYPES = ("float32", "float16", "bfloat16")
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle")  # refused in a bundle
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")


class BundleError(RuntimeError):
    """A bundle is malformed or cannot be used."""


class BundleNotFoundError(BundleError, FileNotFoundError):
    """Neither a shipped bundle name nor a bundle directory."""


class BundleIntegrityError(BundleError):
    """A weight file is missing or its sha256 differs from bundle.json, or the id does not match."""


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def compute_bundle_id(config: dict[str, Any]) -> str:
    """``{name}-{12 hex}`` over the canonical JSON of the config less its id (hashes included)."""
    body = {key: value for key, value in config.items() if key != "id"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return f"{config['name']}-{_sha256(canonical.encode())[:12]}"


def list_bundles() -> list[str]:
    """Names of the bundles shipped in encoders/bundles/."""
    if not SHIPPED_DIR.is_dir():
        return []
    return sorted(p.name for p in SHIPPED_DIR.iterdir() if (p / BUNDLE_FILE).is_file())


def bundle_path(name_or_path: str | Path) -> Path:
    """The directory of a bundle: a directory (or its bundle.json), else a shipped name. Always
    absolute: a bundle's path goes to Ray workers, whose working directory is not the caller's."""
    candidate = Path(name_or_path).expanduser()
    if candidate.name == BUNDLE_FILE and candidate.is_file():
        return candidate.parent.resolve()
    if (candidate / BUNDLE_FILE).is_file():
        return candidate.resolve()
    if isinstance(name_or_path, str) and _NAME.match(name_or_path):
        if (SHIPPED_DIR / name_or_path / BUNDLE_FILE).is_file():
            return SHIPPED_DIR / name_or_path
        raise BundleNotFoundError(
            f"unknown bundle {name_or_path!r}; shipped bundles: {list_bundles()} "
            "(or pass a bundle directory)"
        )
    raise BundleNotFoundError(f"no bundle at {candidate} (no {BUNDLE_FILE} there)")


@dataclass(frozen=True)
class ModelBundle:
    """A verified bundle: its parsed bundle.json and where it lives."""

    path: Path  # bundle directory
    name: str  # bundle name (also the id's prefix)
    id: str  # stable id: name + hash of config and weight hashes
    embed_dim: int  # length of every vector (text, image, geometry)
    clip: dict[str, Any]  # open_clip model, weights source, text tower, preprocess, locked towers
    geometry: dict[str, Any] | None  # {"arch", "output_dim", **hparams} of the point encoder
    num_points: int  # points per part the geometry encoder takes
    view_set: str  # rendered views per part (encoders.geometry.render.VIEW_SETS)
    image_size: int  # square view size in pixels
    trained: dict[str, bool]  # which components are trained (False: random, untrained)
    files: dict[str, str]  # weight file name -> sha256
    geometry_weights: str | None = None  # file name of the geometry encoder's weights
    storage_dtype: str = "float32"  # dtype of floats in the weight files (loading upcasts)
    format_version: int = FORMAT_VERSION
    config: dict[str, Any] = field(default_factory=dict, repr=False)  # bundle.json as read

    @classmethod
    def from_config(cls, config: dict[str, Any], path: Path) -> ModelBundle:
        """A bundle from parsed bundle.json; raises BundleError naming a missing key."""
        required = ("name", "id", "embed_dim", "clip", "num_points", "view_set", "image_size")
        missing = [key for key in (*required, "files") if key not in config]
        if missing:
            raise BundleError(f"{path / BUNDLE_FILE}: missing keys {missing}")
        version = config.get("format_version", FORMAT_VERSION)
        if version > FORMAT_VERSION:
            raise BundleError(
                f"{path / BUNDLE_FILE}: format_version {version} is newer than {FORMAT_VERSION}"
            )
        return cls(
            path=path,
            **{key: config[key] for key in required},
            geometry=config.get("geometry"),
            trained=dict(config.get("trained", {})),
            files=dict(config["files"]),
            geometry_weights=config.get("geometry_weights"),
            storage_dtype=config.get("storage_dtype", "float32"),
            format_version=version,
            config=config,
        )

    def verify(self) -> None:
        """Checks every weight file's sha256, that no weight file is unlisted, and the id."""
        for filename, expected in self.files.items():
            self._read_verified(filename, expected)
        listed = set(self.files)
        for item in self.path.iterdir():
            weight_like = item.suffix == ".safetensors" or item.suffix in PICKLE_SUFFIXES
            if item.is_file() and weight_like and item.name not in listed:
                raise BundleIntegrityError(
                    f"{item}: weight file not listed in {BUNDLE_FILE} 'files' (no sha256 to check)"
                )
        expected_id = compute_bundle_id(self.config)
        if expected_id != self.id:
            raise BundleIntegrityError(
                f"{self.path / BUNDLE_FILE}: id {self.id!r} does not match its content "
                f"({expected_id!r}); the config or hashes were edited: save the bundle again"
            )

    def collection_spec(self) -> CollectionSpec:
        """The collection this bundle's vectors fit: its id, embedding dim and view set."""
        from encoders.geometry.render import get_view_set
        from store.schema import CollectionSpec

        views = get_view_set(self.view_set)
        return CollectionSpec(self.id, self.embed_dim, len(views), self.view_set)

    def similarity_table(self) -> SimilarityTable | None:
        """The bundle's ``similarity.json`` (match score -> percent by query kind), or None when
        it has none or the file was fitted on another bundle's vectors (then the percentages are
        uncalibrated: docs/similarity.md#uncalibrated); BundleError when it is malformed."""
        from store.similarity import SIMILARITY_FILE, SimilarityTable

        path = self.path / SIMILARITY_FILE
        if not path.is_file():
            return None
        try:
            table = SimilarityTable.from_json(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError) as e:
            raise BundleError(f"{path}: {e}") from e
        if table.bundle_id != self.id:
            log.warning(
                "%s was fitted on bundle %s, not %s: similarity percentages are uncalibrated "
                "until it is fitted again (docs/similarity.md#recalibrate)",
                path,
                table.bundle_id,
                self.id,
            )
            return None
        return table

    def effective_settings(self, settings: Settings) -> Settings:
        """``settings`` with this bundle's input contract: point count, view set and image size."""
        return settings.model_copy(
            update={
                "sampling": settings.sampling.model_copy(update={"num_points": self.num_points}),
                "render": settings.render.model_copy(
                    update={"view_set": self.view_set, "image_size": self.image_size}
                ),
            }
        )

    def _read_verified(self, filename: str, expected: str | None = None) -> bytes:
        """A weight file's bytes, after checking them against the sha256 in bundle.json."""
        expected = expected or self.files.get(filename)
        if expected is None:
            raise BundleIntegrityError(f"{filename} is not listed in {self.path / BUNDLE_FILE}")
        if Path(filename).name != filename or not filename.endswith(".safetensors"):
            raise BundleIntegrityError(
                f"{self.path}: weight file {filename!r} must be a .safetensors file in the bundle"
            )
        path = self.path / filename
        try:
            data = path.read_bytes()
        except FileNotFoundError as e:
            raise BundleIntegrityError(
                f"{path}: weight file missing (expected sha256 {expected})"
            ) from e
        found = _sha256(data)
        if found != expected:
            raise BundleIntegrityError(f"{path}: expected sha256 {expected}, found {found}")
        return data

    def read_weights(self, filename: str) -> dict[str, torch.Tensor]:
        """A weight file as a state dict (safetensors; verified against its sha256)."""
        from safetensors.torch import load

        return load(self._read_verified(filename))

    def load_clip(
        self,
        device: str = "cpu",
        *,
        text_only: bool = False,
        image_only: bool = False,
        precision: str = "auto",
        torch_threads: int | None = None,
        offline: bool | None = None,
    ) -> ClipEncoder:
        """The bundle's CLIP towers as a ClipEncoder (text_only/image_only drop the other tower)."""
        from encoders.clip import ClipEncoder

        clip = self.clip
        runtime = dict(
            device=device,
            text_only=text_only,
            image_only=image_only,
            precision=precision,
            torch_threads=torch_threads,
        )
        if clip.get("weights"):
            encoder = ClipEncoder.from_config(
                clip["model"],
                self.read_weights(clip["weights"]),
                text_tower=clip.get("text_tower"),
                preprocess=clip.get("preprocess"),
                offline=offline,
                **runtime,
            )
        elif clip.get("pretrained"):
            if not isinstance(clip["model"], str):
                raise BundleError(f"{self.path}: a pretrained tag needs an open_clip model name")
            encoder = ClipEncoder.from_pretrained(
                clip["model"],
                clip["pretrained"],
                pretrained_sha256=clip.get("pretrained_sha256"),
                offline=offline,
                **runtime,
            )
        else:
            raise BundleError(f"{self.path}: clip section names neither 'weights' nor 'pretrained'")
        if encoder.embed_dim != self.embed_dim:
            raise BundleError(
                f"{self.path}: CLIP embed_dim {encoder.embed_dim} != bundle {self.embed_dim}"
            )
        encoder.bundle_id = self.id
        return encoder

    def load_geometry_encoder(self, device: str = "cpu") -> torch.nn.Module:
        """The geometry encoder with its weights, in eval mode on ``device``."""
        from encoders.point_encoders import build_geometry_encoder

        if not self.geometry or not self.geometry_weights:
            raise BundleError(f"bundle {self.id} has no geometry encoder")
        hparams = dict(self.geometry)
        arch, output_dim = hparams.pop("arch"), hparams.pop("output_dim")
        model = build_geometry_encoder(arch, output_dim, **hparams)
        try:
            model.load_state_dict(self.read_weights(self.geometry_weights), strict=True)
        except RuntimeError as e:
            raise BundleError(f"{self.path / self.geometry_weights}: does not fit {arch}") from e
        model.bundle_id = self.id
        return model.to(device).eval()


def load_bundle(name_or_path: str | Path) -> ModelBundle:
    """A shipped bundle by name (``"cad-mini"``) or a bundle directory, verified before use."""
    path = bundle_path(name_or_path)
    try:
        config = json.loads((path / BUNDLE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise BundleError(f"cannot read {path / BUNDLE_FILE}: {e}") from e
    if not isinstance(config, dict):
        raise BundleError(f"{path / BUNDLE_FILE}: expected a JSON object")
    bundle = ModelBundle.from_config(config, path)
    bundle.verify()
    return bundle


def _save_weights(state: dict[str, Any], path: Path, dtype: str) -> str:
    """Writes a state dict as safetensors (floats cast to ``dtype``); returns the file's sha256."""
    import torch
    from safetensors.torch import save

    target = getattr(torch, dtype)
    tensors = {
        key: (value.detach().to(target) if value.is_floating_point() else value.detach())
        .contiguous()
        .clone()
        .cpu()
        for key, value in state.items()
    }
    data = save(tensors, metadata={"format": "pt"})
    path.write_bytes(data)
    return _sha256(data)


def save_bundle(
    directory: str | Path,
    *,
    name: str,
    clip: ClipEncoder,
    geometry: torch.nn.Module | None,
    num_points: int,
    view_set: str = "canonical10",
    trained: dict[str, bool],
    locked: dict[str, bool] | None = None,
    clip_weights: bool = True,
    storage_dtype: str = "float32",
    model_card: str | None = None,
    overwrite: bool = False,
) -> ModelBundle:
    """Writes a bundle directory and returns it loaded (and so verified).

    clip_weights : False keeps a CLIP loaded by pretrained tag as model name + tag (no file);
        otherwise its state dict is stored, less an HF text tower that a pinned folder provides.
    trained : e.g. {"image_tower": False, "text_projection": False, "geometry_encoder": False}
    storage_dtype : float dtype in the files; "float16" halves the size, loading upcasts.
    """
    if not _NAME.match(name):
        raise BundleError(f"bad bundle name {name!r}: lowercase letters, digits, '.', '_', '-'")
    if storage_dtype not in STORAGE_DTYPES:
        raise BundleError(f"unknown storage_dtype {storage_dtype!r}; known: {STORAGE_DTYPES}")
    directory = Path(directory)
    if (directory / BUNDLE_FILE).exists() and not overwrite:
        raise BundleError(f"{directory} already holds a bundle; pass overwrite=True to replace it")
    directory.mkdir(parents=True, exist_ok=True)
    for stale in (CLIP_WEIGHTS, GEOMETRY_WEIGHTS):
        (directory / stale).unlink(missing_ok=True)

    files: dict[str, str] = {}
    clip_section: dict[str, Any] = {
        "model": clip.model_name or clip.model_config,
        "pretrained": None,
        "weights": None,
        "text_tower": clip.text_tower,
        "preprocess": clip.preprocess_cfg,
        "locked": dict(locked or {"image": False, "text": clip.text_tower["kind"] == "hf_folder"}),
    }
    if clip_weights or not clip.pretrained:
        clip_section["model"] = clip.model_config
        clip_section["weights"] = CLIP_WEIGHTS
        files[CLIP_WEIGHTS] = _save_weights(
            clip.state_dict_to_save(), directory / CLIP_WEIGHTS, storage_dtype
        )
    else:
        clip_section["pretrained"] = clip.pretrained

    geometry_section = None
    if geometry is not None:
        from encoders.point_encoders import geometry_config_dict

        geometry_section = geometry_config_dict(geometry)
        if geometry_section["output_dim"] != clip.embed_dim:
            raise BundleError(
                f"geometry output_dim {geometry_section['output_dim']} != CLIP embed_dim "
                f"{clip.embed_dim}: both must write vectors into the same space"
            )
        files[GEOMETRY_WEIGHTS] = _save_weights(
            geometry.state_dict(), directory / GEOMETRY_WEIGHTS, storage_dtype
        )

    image_size = clip.image_size
    if not isinstance(image_size, int):
        raise BundleError(f"views are square; the image tower takes {image_size}")
    config: dict[str, Any] = {
        "format_version": FORMAT_VERSION,
        "name": name,
        "id": "",
        "embed_dim": clip.embed_dim,
        "clip": clip_section,
        "geometry": geometry_section,
        "geometry_weights": GEOMETRY_WEIGHTS if geometry is not None else None,
        "num_points": int(num_points),
        "view_set": view_set,
        "image_size": image_size,
        "trained": dict(trained),
        "storage_dtype": storage_dtype,
        "files": files,
    }
    config = json.loads(json.dumps(config))  # as it will read back (tuples -> lists)
    config["id"] = compute_bundle_id(config)
    text = json.dumps(config, indent=2, ensure_ascii=True) + "\n"
    (directory / BUNDLE_FILE).write_text(text, encoding="utf-8")
    if model_card is not None:
        (directory / MODEL_CARD_FILE).write_text(model_card, encoding="utf-8")
    return load_bundle(directory)
