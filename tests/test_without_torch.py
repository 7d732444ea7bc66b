"""Without the torch extra: the default method indexes and searches on the CPU through the
shipped ONNX file (torch is never imported), and the methods and devices that need torch say
they are unavailable with the one command that installs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from photofinder.core.embedders import devices, list_methods, load_embedder
from photofinder.core.embedders.devices import TORCH_EXTRA_COMMAND
from photofinder.core.errors import MethodUnavailableError, PhotoFinderError
from tests.support.no_torch import ATTEMPTS_MARK, BLOCKED
from tests.support.photos import make_library, write_jpeg

ROOT = Path(__file__).resolve().parents[1]
TORCH_METHODS = {"resnet50", "mobilenet-v3", "vit-b16", "moco-v2", "efficientnet-lite0-ft",
                 "efficientnet-lite0-simclr"}


def run_without_torch(*argv: str, data_dir: Path, extra_env: dict[str, str] | None = None,
                      ) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PHOTOFINDER_DATA_DIR": str(data_dir),
           **(extra_env or {})}
    return subprocess.run([sys.executable, "-m", "tests.support.no_torch", *argv], env=env,
                          capture_output=True, text=True, timeout=300)


def loaded_blocked(stderr: str) -> str:
    """The `loaded: [...]` part of the blocker's last line."""
    line = next(x for x in reversed(stderr.splitlines()) if x.startswith(ATTEMPTS_MARK))
    return line.rpartition("loaded: ")[2]


def cli(*args: str) -> tuple[str, ...]:
    return ("-m", "photofinder", "--device", "auto", *args)


@pytest.mark.slow
def test_the_default_method_indexes_and_searches_without_torch(tmp_path: Path) -> None:
    photos = tmp_path / "photos"
    paths = make_library(photos, 4)
    write_jpeg(photos / "copy.jpg", 0)  # the same picture as the first photo
    data = tmp_path / "data"
    index = run_without_torch(*cli("index", str(photos)), data_dir=data)
    assert index.returncode == 0, index.stderr
    assert loaded_blocked(index.stderr) == "[]"
    search = run_without_torch(*cli("search", str(paths[0])), data_dir=data)
    assert search.returncode == 0, search.stderr
    assert loaded_blocked(search.stderr) == "[]"
    ranked = [line.split()[-1] for line in search.stdout.splitlines()[1:]]
    assert Path(ranked[0]).name == "copy.jpg"  # the query itself is not among its results
    duplicates = run_without_torch(*cli("duplicates", "--json"), data_dir=data)
    assert duplicates.returncode == 0, duplicates.stderr
    assert "copy.jpg" in duplicates.stdout and loaded_blocked(duplicates.stderr) == "[]"


def test_methods_that_need_torch_are_listed_unavailable_with_the_command(tmp_path: Path) -> None:
    listed = run_without_torch(*cli("methods", "--json"), data_dir=tmp_path / "data")
    assert listed.returncode == 0, listed.stderr
    methods = {m["name"]: m for m in json.loads(listed.stdout)["methods"]}
    with_torch = {m.name: m for m in list_methods(tmp_path / "data" / "models")}
    for name in TORCH_METHODS:
        assert not methods[name]["available"], name
        assert TORCH_EXTRA_COMMAND in methods[name]["reason"], name
    for name, info in with_torch.items():  # nothing else changes
        if name not in TORCH_METHODS:
            assert (methods[name]["available"], methods[name]["reason"]) == (
                info.available, info.reason), name
    assert methods["efficientnet-lite0"]["available"]
    assert loaded_blocked(listed.stderr) == "[]"


CUDA_STATUS = """
from photofinder.core.embedders import devices
devices._nvidia_driver_present = lambda: True
print(devices.device_status("cuda").reason)
"""


def test_a_gpu_without_torch_names_the_command(tmp_path: Path) -> None:
    result = run_without_torch("-c", CUDA_STATUS, data_dir=tmp_path / "data")
    assert result.returncode == 0, result.stderr
    assert TORCH_EXTRA_COMMAND in result.stdout


def test_training_and_weights_import_without_torch_are_one_line_errors(tmp_path: Path) -> None:
    photos = tmp_path / "albums" / "cats"
    make_library(photos, 2)
    for argv in (cli("train", "finetune", str(tmp_path / "albums")),
                 cli("models", "import", "resnet50", str(tmp_path / "w.pt")),
                 cli("index", "--method", "resnet50", str(photos))):
        result = run_without_torch(*argv, data_dir=tmp_path / "data")
        lines = [x for x in result.stderr.splitlines() if not x.startswith(ATTEMPTS_MARK)]
        assert result.returncode == 1, (argv, result.stderr)
        assert len(lines) == 1 and lines[0].startswith("photofinder: "), (argv, lines)
        assert TORCH_EXTRA_COMMAND in lines[0], argv


def test_loading_a_torch_method_without_torch_raises_the_reason(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(devices, "_importable", lambda module: module not in BLOCKED)
    with pytest.raises(MethodUnavailableError, match="photofinder\\[torch\\]"):
        load_embedder("mobilenet-v3", "cpu", tmp_path / "cache", tmp_path / "models")
    with pytest.raises(PhotoFinderError, match="photofinder\\[torch\\]"):
        devices.require_torch_extra("training")
