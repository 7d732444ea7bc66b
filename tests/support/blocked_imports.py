"""Run Python code as if some packages were not installed: an import blocker on sys.meta_path.

`python -m tests.support.blocked_imports skimage,matplotlib -c CODE` runs CODE with those
top-level packages (and their submodules) unimportable; the exit status is CODE's."""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

# What the light install leaves out beside torch: the plot and HOG must work without these.
LIGHT_INSTALL_LACKS = ("skimage", "scipy", "matplotlib")


class ImportBlocker(importlib.abc.MetaPathFinder):
    """Makes the named top-level packages unimportable."""

    def __init__(self, blocked: Sequence[str]) -> None:
        self.blocked = frozenset(blocked)

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname.split(".")[0] in self.blocked:
            raise ModuleNotFoundError(f"No module named {fullname!r} (blocked)", name=fullname)
        return None


def run_without(code: str, blocked: Sequence[str] = LIGHT_INSTALL_LACKS
                ) -> subprocess.CompletedProcess[str]:
    """Run `code` in a fresh interpreter at the repository root with `blocked` unimportable."""
    root = Path(__file__).resolve().parents[2]
    return subprocess.run(
        [sys.executable, "-m", "tests.support.blocked_imports", ",".join(blocked), "-c", code],
        capture_output=True, text=True, cwd=root, check=False)


def main(argv: list[str]) -> int:
    blocked, flag, code = argv
    if flag != "-c":
        raise SystemExit("usage: python -m tests.support.blocked_imports MOD[,MOD] -c CODE")
    sys.meta_path.insert(0, ImportBlocker(blocked.split(",")))
    exec(compile(code, "<blocked_imports>", "exec"), {"__name__": "__main__"})
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
