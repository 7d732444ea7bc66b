"""Keypoints for photos catalogued before keypoints were stored while indexing (or stored by
another detector version): detected from their stored thumbnails after an update, a batch at
a time on every core, so that the duplicate check and precise search read them from then on.
Cancelling keeps the batches already stored, and a catalogue that cannot be written (full,
read-only, locked) stops it without failing the update: the next update goes on from there."""

from __future__ import annotations

import os
import sqlite3
from concurrent.futures import ThreadPoolExecutor

from photofinder.core.errors import CatalogError
from photofinder.core.matching.stored_keypoints import STORED_VERSION, stored_form
from photofinder.core.progress import CancelToken, Progress, ProgressCallback, ignore_progress
from photofinder.core.storage.catalog import Catalog

BATCH = 256  # photos read, detected and stored at a time
STAGE = "keypoints of photos catalogued earlier"


def backfill_keypoints(
    catalog: Catalog,
    progress: ProgressCallback = ignore_progress,
    cancel: CancelToken | None = None,
    workers: int | None = None,
) -> int:
    """Detect and store the keypoints of every catalogued photo that has a thumbnail but no
    keypoints of STORED_VERSION; returns how many were stored. A photo whose keypoints cannot
    be detected is left without (the check detects them when it needs them)."""
    todo = catalog.ids_without_keypoints(STORED_VERSION)
    if not todo:
        return 0
    stored = 0
    with ThreadPoolExecutor(workers or os.cpu_count() or 1,
                            thread_name_prefix="photofinder-keypoints") as pool:
        for start in range(0, len(todo), BATCH):
            progress(Progress(STAGE, start, len(todo)))
            if cancel is not None:
                cancel.checkpoint()
            batch = catalog.files_by_ids(todo[start : start + BATCH])
            jobs = [(file_id, catalog.thumbnail(file_id), (record.width, record.height))
                    for file_id, record in batch.items() if record.width and record.height]
            found = pool.map(
                lambda job: (job[0], stored_form(job[1], job[2]) if job[1] else None), jobs)
            fresh = {file_id: data for file_id, data in found if data is not None}
            try:
                catalog.add_keypoints(fresh, STORED_VERSION)
            except (CatalogError, sqlite3.Error):  # full, read-only, locked: the next update
                break
            stored += len(fresh)
    progress(Progress(STAGE, len(todo), len(todo)))
    return stored
