"""Whether a catalogued photo is there right now: a regular file at its path, not a link.

The catalogue keeps the photos of a folder that is not found (an unplugged drive must not
look like a mass deletion), so duplicate groups and search results ask this first: a missing
file is never a keeper, never in a duplicate group and never a search result."""

from __future__ import annotations

import os
import stat


def is_regular_file(path: str) -> bool:
    """True when `path` names a regular file now (a symbolic link is not one, even to a file)."""
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except (OSError, ValueError):  # ValueError: a name the OS cannot hold (a NUL byte)
        return False


class PresentFiles:
    """`is_regular_file` with one lstat per path, remembered for the caller's run."""

    def __init__(self) -> None:
        self._known: dict[str, bool] = {}

    def __call__(self, path: str) -> bool:
        present = self._known.get(path)
        if present is None:
            present = self._known[path] = is_regular_file(path)
        return present
