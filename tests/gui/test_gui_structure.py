"""The GUI's modules form no import cycle, and only the app knows the main window."""

from __future__ import annotations

import ast
from pathlib import Path

import photofinder.gui

GUI = Path(photofinder.gui.__file__).parent
PACKAGE = "photofinder.gui"


def gui_imports() -> dict[str, set[str]]:
    """Each GUI module's imports of other GUI modules, type-checking imports included."""
    graph: dict[str, set[str]] = {}
    for path in sorted(GUI.glob("*.py")):
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module == PACKAGE:
                found |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                if node.module.startswith(PACKAGE + "."):
                    found.add(node.module.removeprefix(PACKAGE + "."))
            elif isinstance(node, ast.Import):
                found |= {a.name.removeprefix(PACKAGE + ".") for a in node.names
                          if a.name.startswith(PACKAGE + ".")}
        graph[path.stem] = found
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str]:
    """One import cycle as a path of module names, or [] when there is none."""
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> list[str]:
        if module in path:
            return [*path[path.index(module):], module]
        if module in done:
            return []
        for imported in sorted(graph.get(module, set())):
            if cycle := visit(imported, [*path, module]):
                return cycle
        done.add(module)
        return []

    for module in sorted(graph):
        if cycle := visit(module, []):
            return cycle
    return []


def test_gui_modules_import_each_other_without_a_cycle() -> None:
    graph = gui_imports()
    assert "main_window" in graph and len(graph) > 20
    assert find_cycle(graph) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_only_the_app_imports_the_main_window() -> None:
    importers = {module for module, imported in gui_imports().items()
                 if "main_window" in imported}
    assert importers == {"app"}
