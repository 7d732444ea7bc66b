"""Shared plumbing of the methods with a learned codebook: state file, cached info, spec."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import numpy.typing as npt
from PIL import Image

from photofinder.core.embedders.base import MethodInfo
from photofinder.core.embedders.codebook import fingerprint, load_state, save_state
from photofinder.core.errors import MethodUnavailableError

State = dict[str, npt.NDArray[np.generic]]

_cache_lock = threading.Lock()
_cache: dict[Path, tuple[tuple[int, int], State]] = {}


def read_state(path: Path) -> State | None:
    """The saved state, or None when it is missing or unreadable (then it is refitted)."""
    try:
        stat = path.stat()
    except OSError:
        return None
    key = (stat.st_mtime_ns, stat.st_size)
    with _cache_lock:
        cached = _cache.get(path)
        if cached is not None and cached[0] == key:
            return cached[1]
    try:
        state = load_state(path)
    except (OSError, ValueError, KeyError):
        return None
    with _cache_lock:
        _cache[path] = (key, state)
    return state


@dataclass(frozen=True)
class FittedMethod:
    """A codebook method: base info (version prefix, nominal dim), fitting and loading."""

    base: MethodInfo
    fit_state: Callable[[Sequence[Image.Image]], State]
    dim_of: Callable[[State], int]

    def path(self, models_dir: Path) -> Path:
        return models_dir / f"{self.base.name}-codebook.npz"

    def state(self, models_dir: Path) -> State | None:
        return read_state(self.path(models_dir))

    def require_state(self, models_dir: Path, learned: str) -> State:
        """The fitted state, or a clear error saying how to get the `learned` thing."""
        state = self.state(models_dir)
        if state is None:
            name = self.base.name
            raise MethodUnavailableError(
                f"{name} has no {learned} yet: run `photofinder index --method {name}` "
                "(it learns one from your photos first)"
            )
        return state

    def info(self, models_dir: Path) -> MethodInfo:
        state = self.state(models_dir)
        if state is None:
            return replace(self.base, version=f"{self.base.version}-unfitted",
                           reason="codebook not learned yet: learned from up to 500 of your "
                                  "photos on the first `photofinder index`")
        arrays = [state[k] for k in sorted(state)]
        return replace(self.base, version=f"{self.base.version}-{fingerprint(*arrays)}",
                       dim=self.dim_of(state))

    def is_fitted(self, models_dir: Path) -> bool:
        return self.state(models_dir) is not None

    def fit(self, images: Sequence[Image.Image], models_dir: Path) -> None:
        save_state(self.path(models_dir), self.fit_state(images))
