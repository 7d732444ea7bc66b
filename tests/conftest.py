"""Shared fixtures: isolated data folders, generated photos and a fast fake embedder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from photofinder.core.library import Library
from tests.support.fake_embedder import load_fake_embedder
from tests.support.photos import make_library_with_copies


# GUI tests over about a second, left to the full run. They are marked here, not in their files,
# while tests/gui is being reworked; once it settles, `@pytest.mark.slow` on each replaces this.
@pytest.fixture(scope="session")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One ONNX export for the whole session (it takes seconds)."""
    return tmp_path_factory.mktemp("model-cache")


@pytest.fixture(autouse=True)
def isolated_dirs(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, model_cache: Path
) -> Path:
    data = tmp_path / "data"
    monkeypatch.setenv("PHOTOFINDER_DATA_DIR", str(data))
    monkeypatch.setenv("PHOTOFINDER_CACHE_DIR", str(model_cache))
    return data


@pytest.fixture
def fake_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("photofinder.core.library.load_embedder", load_fake_embedder)


@pytest.fixture
def library(fake_model: None, tmp_path: Path) -> Iterator[Library]:
    with Library(tmp_path / "data", device="cpu") as lib:
        yield lib


@pytest.fixture
def indexed_copies(library: Library, tmp_path: Path) -> Path:
    """`library` watching and indexed over tests.support.photos.make_library_with_copies."""
    folder = make_library_with_copies(tmp_path / "photos")
    library.add_roots([folder])
    library.update()
    return folder
