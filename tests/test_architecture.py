"""The import contracts in .importlinter hold, and they do catch a wrong import or a cycle."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT = Path(sys.executable).with_name("lint-imports")


def lint(tree: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT), "--no-cache", str(tree / ".importlinter")], cwd=tree, text=True,
        capture_output=True, timeout=120, env={**os.environ, "PYTHONPATH": str(tree)},
    )


def test_the_tree_keeps_every_contract() -> None:
    result = lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "BROKEN" not in result.stdout


@pytest.fixture
def copy_of_the_tree(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "photofinder", tmp_path / "photofinder",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / ".importlinter", tmp_path / ".importlinter")
    return tmp_path


@pytest.mark.parametrize(("module", "line", "contract"), [
    ("core/storage/paths.py", "from photofinder.core.library import Library", "storage below"),
    ("core/photos/scan.py", "import PySide6.QtCore", "never imports Qt"),
    ("core/errors.py", "from photofinder.gui import app", "sit above the core"),
    ("core/storage/atomic.py", "from photofinder.core.storage import catalog", "No import cycles"),
])
def test_a_wrong_import_breaks_a_contract(
    copy_of_the_tree: Path, module: str, line: str, contract: str
) -> None:
    target = copy_of_the_tree / "photofinder" / module
    target.write_text(target.read_text() + f"\n{line}  # noqa\n")
    result = lint(copy_of_the_tree)
    assert result.returncode != 0
    broken = [row for row in result.stdout.splitlines() if row.endswith("BROKEN")]
    assert any(contract in row for row in broken), result.stdout
