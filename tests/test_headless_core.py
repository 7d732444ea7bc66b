"""photofinder.core stays headless: no Qt anywhere, and no heavy imports just to open a library."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

CORE = Path(__file__).resolve().parents[1] / "photofinder" / "core"


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_core_never_imports_qt() -> None:
    offenders = [
        str(path.relative_to(CORE))
        for path in CORE.rglob("*.py")
        if imported_modules(path) & {"PySide6", "shiboken6", "PyQt5", "PyQt6", "qtpy"}
    ]
    assert offenders == []


def test_opening_a_library_imports_neither_torch_nor_cv2_nor_qt(tmp_path: Path) -> None:
    code = (
        "import sys; from photofinder.core.library import Library; "
        f"Library({str(tmp_path)!r}).status(); "
        "print(sorted(m for m in ('torch', 'cv2', 'PySide6', 'onnxruntime') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
