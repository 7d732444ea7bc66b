"""Methods whose metadata depends on files in the data folder (a learned codebook, imported
weights): described by a `MethodSpec` that reads `<data_dir>/models/` when asked."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from photofinder.core.embedders.base import Embedder, MethodInfo

InfoFn = Callable[[Path], MethodInfo]
LoadFn = Callable[[str, Path, Path], Embedder]  # (device, cache_dir, models_dir)
FitFn = Callable[[Sequence[Image.Image], Path], None]  # (sample photos, models_dir)
FittedFn = Callable[[Path], bool]


@dataclass(frozen=True)
class MethodSpec:
    """A method whose `info` (version, dim, availability) is read from the models folder.

    `fit` is set for methods that learn state (a codebook, a PCA) from the user's photos;
    `is_fitted` says whether that state exists. The version of a fitted method carries a
    fingerprint of the state, so vectors from different codebooks never mix."""

    name: str
    info: InfoFn
    load: LoadFn
    fit: FitFn | None = None
    is_fitted: FittedFn | None = None

    @property
    def needs_fit(self) -> bool:
        return self.fit is not None


FIT_SAMPLE = 500  # photos of the library a codebook is learned from
