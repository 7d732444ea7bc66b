"""`kill -9` at any moment of indexing, then a rerun: catalogue and index end complete."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from photofinder.core.imageio import decode_file
from photofinder.core.library import Library
from tests.support.photos import make_library

ROOT = Path(__file__).resolve().parents[1]


def command(data: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "tests.support.cli_with_fake_model", "--data-dir", str(data),
            "--device", "cpu", *args]


def environment(delay: float = 0.0) -> dict[str, str]:
    return {**os.environ, "FAKE_EMBED_DELAY_S": str(delay), "PYTHONPATH": str(ROOT)}


@pytest.mark.parametrize("kill_after_s", [0.4, 1.2, 2.0])
def test_kill_during_indexing_then_rerun(
    tmp_path: Path, kill_after_s: float, fake_model: None
) -> None:
    photos = make_library(tmp_path / "photos", 120)
    data = tmp_path / "data"
    victim = subprocess.Popen(
        command(data, "index", str(tmp_path / "photos")), cwd=ROOT, env=environment(0.15),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    time.sleep(kill_after_s)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    rerun = subprocess.run(
        command(data, "index", str(tmp_path / "photos")), cwd=ROOT, env=environment(),
        capture_output=True, timeout=120,
    )
    assert rerun.returncode == 0, rerun.stderr.decode()
    status = subprocess.run(
        command(data, "status", "--json"), cwd=ROOT, env=environment(), capture_output=True,
        timeout=60, check=True,
    )
    summary = json.loads(status.stdout)
    assert (summary["indexed"], summary["pending"], summary["failed_count"]) == (120, 0, 0)
    with Library(data, device="cpu") as library:
        assert len(library.index) == 120
        for path in photos[::17]:
            hit = library.search_image(decode_file(path).image, k=1)[0]
            assert (hit.path, round(hit.score, 3)) == (str(path), 1.0)  # no lost or stale vector
