"""Where PhotoFinder keeps its files: one place, overridable for tests and portable installs."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP_NAME = "PhotoFinder"
DATA_DIR_ENV = "PHOTOFINDER_DATA_DIR"
CACHE_DIR_ENV = "PHOTOFINDER_CACHE_DIR"


@dataclass(frozen=True)
class AppPaths:
    """The data folder (catalogue, indexes) and the cache folder (exported models)."""

    data_dir: Path
    cache_dir: Path

    @property
    def catalog(self) -> Path:
        return self.data_dir / "catalog.sqlite3"

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "indexes"

    @property
    def model_cache(self) -> Path:
        return self.cache_dir / "models"

    def ensure(self) -> AppPaths:
        for folder in (self.data_dir, self.index_dir, self.model_cache):
            folder.mkdir(parents=True, exist_ok=True)
        return self


def resolve_paths(data_dir: Path | str | None = None) -> AppPaths:
    """Explicit argument, then PHOTOFINDER_DATA_DIR, then the platform's user data folder."""
    chosen = data_dir or os.environ.get(DATA_DIR_ENV)
    data = Path(chosen).expanduser() if chosen else Path(platformdirs.user_data_dir(APP_NAME))
    cache_env = os.environ.get(CACHE_DIR_ENV)
    if cache_env:
        cache = Path(cache_env).expanduser()
    else:
        cache = Path(platformdirs.user_cache_dir(APP_NAME))
    return AppPaths(data_dir=data.absolute(), cache_dir=cache.absolute())
