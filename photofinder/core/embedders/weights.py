"""Model weights that are not bundled: torchvision downloads, or files the user imports.

Imported weights live in `<data_dir>/models/<method>.pt` (a plain state_dict, validated
against the architecture with `torch.load(weights_only=True)` before it is copied in)."""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from photofinder.core.errors import MethodUnavailableError, PhotoFinderError
from photofinder.core.storage.atomic import atomic_path

if TYPE_CHECKING:
    import torch

OFFLINE_ENV = "PHOTOFINDER_OFFLINE"  # set to 1: never try a download

StateDict = dict[str, "torch.Tensor"]


def models_dir(data_dir: Path) -> Path:
    """Learned codebooks and imported weights of a data folder."""
    return data_dir / "models"


@dataclass(frozen=True)
class OfficialWeights:
    """torchvision weights named without importing torchvision (listing methods stays cheap)."""

    builder: str  # e.g. "ResNet50_Weights"
    name: str  # e.g. "IMAGENET1K_V2"
    url: str

    @property
    def tag(self) -> str:
        return self.name.lower().replace("_", "-")

    def enum(self) -> Any:
        import torchvision.models as tvm

        return getattr(getattr(tvm, self.builder), self.name)


@dataclass(frozen=True)
class WeightsSource:
    """How a method's weights are obtained and checked.

    `build` makes the architecture the state dict must fit (random init, nothing downloaded);
    `convert` turns a loaded file into that state dict (e.g. strips a MoCo prefix);
    `official` names the torchvision weights to download when nothing was imported."""

    method: str
    build: Callable[[], torch.nn.Module]
    convert: Callable[[Mapping[str, Any]], StateDict]
    official: OfficialWeights | None = None
    size_hint: str = ""
    file_hint: str = "FILE"

    def import_command(self) -> str:
        return f"photofinder models import {self.method} {self.file_hint}"


def imported_file(folder: Path, method: str) -> Path:
    return folder / f"{method}.pt"


_hash_lock = threading.Lock()
_hashes: dict[Path, tuple[tuple[int, int], str]] = {}


def file_fingerprint(path: Path) -> str:
    """First 8 hex digits of the file's SHA-256 (cached while the file is unchanged)."""
    stat = path.stat()
    key = (stat.st_mtime_ns, stat.st_size)
    with _hash_lock:
        cached = _hashes.get(path)
        if cached is not None and cached[0] == key:
            return cached[1]
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    value = digest.hexdigest()[:8]
    with _hash_lock:
        _hashes[path] = (key, value)
    return value


def hub_file(source: WeightsSource) -> Path | None:
    """Where torchvision keeps the official weights once downloaded (None: no official ones)."""
    if source.official is None:
        return None
    return torch_hub_dir() / "checkpoints" / os.path.basename(source.official.url)


def torch_hub_dir() -> Path:
    """torch.hub.get_dir() without importing torch: $TORCH_HOME/hub or the XDG cache."""
    torch_home = os.environ.get("TORCH_HOME") or str(
        Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "torch"
    )
    return Path(torch_home).expanduser() / "hub"


@dataclass(frozen=True)
class WeightsState:
    present: bool
    tag: str  # goes into the method version: which weights made the vectors
    where: str


def weights_state(source: WeightsSource, folder: Path) -> WeightsState:
    imported = imported_file(folder, source.method)
    if imported.is_file():
        return WeightsState(True, f"imp-{file_fingerprint(imported)}", str(imported))
    if source.official is None:
        return WeightsState(False, "none", "")
    name = source.official.tag
    cached = hub_file(source)
    if cached is not None and cached.is_file():
        return WeightsState(True, name, str(cached))
    return WeightsState(False, name, "")


def missing_reason(source: WeightsSource) -> str:
    if source.official is None:
        return f"no weights imported: run `{source.import_command()}`"
    return (
        f"weights not on this machine yet: downloaded from torchvision on first use"
        f"{' (' + source.size_hint + ')' if source.size_hint else ''}, or offline "
        f"`{source.import_command()}`"
    )


def read_checkpoint(path: Path) -> Mapping[str, Any]:
    """Load a weights file safely (`weights_only=True`: tensors and plain containers only)."""
    import torch

    if not path.is_file():
        raise PhotoFinderError(f"cannot import weights: {path} is not a file")
    try:
        loaded = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # pickle errors, zip errors, unsafe globals: all "not weights"
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise PhotoFinderError(
            f"cannot import weights: {path} is not a PyTorch state_dict file ({first[:200]})"
        ) from exc
    if not isinstance(loaded, Mapping):
        raise PhotoFinderError(f"cannot import weights: {path} holds a {type(loaded).__name__}, "
                               "not a state_dict")
    return loaded


def validated_state_dict(source: WeightsSource, raw: Mapping[str, Any], label: str) -> StateDict:
    """Convert and load into the architecture (strict): the result is known to fit."""
    import torch

    try:
        state = source.convert(raw)
    except (KeyError, TypeError, ValueError) as exc:
        raise PhotoFinderError(
            f"{label} does not look like {source.method} weights: {exc}"
        ) from exc
    model = source.build()
    result = model.load_state_dict(state, strict=False)
    bad_shapes = []
    own = model.state_dict()
    for key, value in state.items():
        if key in own and isinstance(value, torch.Tensor) and own[key].shape != value.shape:
            bad_shapes.append(f"{key} {tuple(value.shape)} ≠ {tuple(own[key].shape)}")
    if result.missing_keys or result.unexpected_keys or bad_shapes:
        parts = []
        if result.missing_keys:
            parts.append(f"{len(result.missing_keys)} missing (e.g. {result.missing_keys[0]})")
        if result.unexpected_keys:
            parts.append(f"{len(result.unexpected_keys)} unexpected "
                         f"(e.g. {result.unexpected_keys[0]})")
        if bad_shapes:
            parts.append(f"wrong shapes (e.g. {bad_shapes[0]})")
        raise PhotoFinderError(
            f"{label} does not fit the {source.method} architecture: " + "; ".join(parts)
        )
    return state


def import_weights(source: WeightsSource, file: Path, folder: Path) -> Path:
    """Check `file` loads into the method's architecture, then store it in the models folder."""
    import torch

    file = Path(file).expanduser()
    try:
        state = validated_state_dict(source, read_checkpoint(file), str(file))
    except RuntimeError as exc:  # load_state_dict on a shape mismatch
        raise PhotoFinderError(
            f"{file} does not fit the {source.method} architecture: {str(exc)[:300]}"
        ) from exc
    target = imported_file(folder, source.method)
    with atomic_path(target) as tmp:
        torch.save(state, tmp)
    return target


def download_state_dict(source: WeightsSource) -> Mapping[str, Any]:
    """torchvision's download (checked hash, cached in the torch hub folder)."""
    assert source.official is not None
    state: Mapping[str, Any] = source.official.enum().get_state_dict(progress=True, check_hash=True)
    return state


def load_weights(source: WeightsSource, folder: Path) -> StateDict:
    """The imported weights, else torchvision's (downloaded once); a clear error offline."""
    imported = imported_file(folder, source.method)
    if imported.is_file():
        return validated_state_dict(source, read_checkpoint(imported), str(imported))
    if source.official is None:
        raise MethodUnavailableError(f"{source.method}: {missing_reason(source)}")
    cached = hub_file(source)
    if cached is not None and cached.is_file():
        return validated_state_dict(source, read_checkpoint(cached), str(cached))
    if os.environ.get(OFFLINE_ENV, "") not in ("", "0"):
        raise MethodUnavailableError(
            f"{source.method}: weights are not on this machine and downloads are off "
            f"({OFFLINE_ENV}); get them elsewhere ({source.official.url}) and run "
            f"`{source.import_command()}`"
        )
    try:
        raw = download_state_dict(source)
    except Exception as exc:
        raise MethodUnavailableError(
            f"{source.method}: weights are not on this machine and the download failed "
            f"({type(exc).__name__}: {str(exc)[:120]}); get {source.official.url} "
            f"elsewhere and run `{source.import_command()}`"
        ) from exc
    return validated_state_dict(source, raw, source.official.url)
