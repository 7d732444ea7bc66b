"""Several PhotoFinder processes on one library: index runs after moves lose nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.photos import make_library

ROOT = Path(__file__).resolve().parents[1]


def command(data: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "tests.support.cli_with_fake_model", "--data-dir", str(data),
            "--device", "cpu", *args]


def environment() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "FAKE_EMBED_DELAY_S": "0.02"}


def run_together(*commands: list[str]) -> list[subprocess.CompletedProcess[bytes]]:
    running = [subprocess.Popen(c, cwd=ROOT, env=environment(), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE) for c in commands]
    results = []
    for process, args in zip(running, commands, strict=True):
        out, err = process.communicate(timeout=180)
        results.append(subprocess.CompletedProcess(args, process.returncode, out, err))
    return results


def catalogued(data: Path) -> dict[str, object]:
    status = subprocess.run(command(data, "status", "--json"), cwd=ROOT, env=environment(),
                            capture_output=True, timeout=60, check=True)
    summary: dict[str, object] = json.loads(status.stdout)
    return summary


@pytest.mark.slow
def test_two_index_runs_after_moves_lose_nothing(tmp_path: Path, fake_model: None) -> None:
    folder = tmp_path / "photos"
    photos = make_library(folder, 40)
    data = tmp_path / "data"
    first = subprocess.run(command(data, "index", str(folder)), cwd=ROOT, env=environment(),
                           capture_output=True, timeout=180)
    assert first.returncode == 0, first.stderr.decode()
    for round_number in range(3):
        target = folder / f"moved-{round_number}"
        target.mkdir()
        for path in photos[round_number::3]:
            moved = target / path.name
            path.rename(moved)
            photos[photos.index(path)] = moved
        results = run_together(command(data, "index", "--json"), command(data, "index", "--json"))
        for result in results:
            assert result.returncode == 0, result.stderr.decode()
            assert b"Traceback" not in result.stderr
        reports = [json.loads(r.stdout) for r in results]
        moved_now = len(photos[round_number::3])
        # Each photo was moved once, by one of the runs: ids and vectors kept, nothing re-read.
        assert sum(r["moved"] for r in reports) == moved_now
        assert sum(r["embedded"] + r["deleted"] + r["new"] for r in reports) == moved_now
        summary = catalogued(data)
        assert (summary["indexed"], summary["pending"], summary["failed_count"]) == (40, 0, 0)
        assert summary["total"] == 40
