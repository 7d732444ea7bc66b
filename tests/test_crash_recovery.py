"""`kill -9` in the middle of indexing, then a rerun: catalogue and index end complete.

The kill is sent once the run has started embedding a chosen batch (the fake model leaves a
mark per batch), and the catalogue read after it proves the run was cut off part way."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from photofinder.core.embedders import DEFAULT_METHOD, method_info
from photofinder.core.library import Library
from photofinder.core.photos.imageio import decode_file
from photofinder.core.storage.catalog import Catalog, StatusCounts
from photofinder.core.storage.paths import resolve_paths
from tests.support.marks import slow
from tests.support.photos import make_library

ROOT = Path(__file__).resolve().parents[1]
PHOTOS = 120
BATCH = 32  # the indexer's batch size: 120 photos are embedded in 4 batches
EMBED_DELAY_S = 0.3  # each batch takes this long: the kill lands while one is embedding
START_TIMEOUT_S = 60.0  # liveness bound for the victim to reach its batch


def command(data: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "tests.support.cli_with_fake_model", "--data-dir", str(data),
            "--device", "cpu", *args]


def environment(delay: float = 0.0, marker: Path | None = None) -> dict[str, str]:
    marks = {"FAKE_EMBED_MARKER": str(marker)} if marker is not None else {}
    return {**os.environ, "FAKE_EMBED_DELAY_S": str(delay), "PYTHONPATH": str(ROOT), **marks}


def batches_started(marker: Path) -> int:
    return len(marker.read_text().splitlines()) if marker.exists() else 0


def kill_once_batch_starts(victim: subprocess.Popen[bytes], marker: Path, batch: int) -> None:
    """SIGKILL the victim as soon as it has started embedding its `batch`-th batch."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while batches_started(marker) < batch:
        assert victim.poll() is None, "the run ended before it reached the batch"
        assert time.monotonic() < deadline, "the run never reached the batch"
        time.sleep(0.005)
    victim.send_signal(signal.SIGKILL)
    victim.wait()


def catalogue_counts(data: Path) -> StatusCounts:
    info = method_info(DEFAULT_METHOD)
    catalog = Catalog(resolve_paths(data).catalog)
    try:
        return catalog.status_counts(info.name, info.version)
    finally:
        catalog.close()


@pytest.mark.parametrize("batch", [slow(1), 2, slow(3)])  # the middle one in the fast tier
def test_kill_during_indexing_then_rerun(tmp_path: Path, batch: int, fake_model: None) -> None:
    photos = make_library(tmp_path / "photos", PHOTOS)
    data, marker = tmp_path / "data", tmp_path / "batches-started"
    victim = subprocess.Popen(
        command(data, "index", str(tmp_path / "photos")), cwd=ROOT,
        env=environment(EMBED_DELAY_S, marker),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        kill_once_batch_starts(victim, marker, batch)
    finally:
        if victim.poll() is None:
            victim.kill()
            victim.wait()
    assert victim.returncode == -signal.SIGKILL  # it was still running when the kill came
    cut_off = catalogue_counts(data)
    assert cut_off.total == PHOTOS  # the scan had recorded every photo ...
    assert (batch - 1) * BATCH <= cut_off.indexed <= batch * BATCH < PHOTOS  # ... not indexed

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
    assert (summary["indexed"], summary["pending"], summary["failed_count"]) == (PHOTOS, 0, 0)
    with Library(data, device="cpu") as library:
        assert len(library.index) == PHOTOS
        for path in photos[::17]:
            hit = library.search_image(decode_file(path).image, k=1)[0]
            assert (hit.path, round(hit.score, 3)) == (str(path), 1.0)  # no lost or stale vector
