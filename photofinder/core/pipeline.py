"""Indexing: scan → diff → decode pool → batched embedding → catalogue and index, resumable."""

from __future__ import annotations

import os
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from photofinder.core.catalog import Catalog, FileRecord, Root
from photofinder.core.embedders.base import Embedder, MethodInfo
from photofinder.core.progress import (
    Cancelled,
    CancelToken,
    Progress,
    ProgressCallback,
    RateMeter,
    ignore_progress,
)
from photofinder.core.readers import (
    Decoded,
    Failed,
    ReadContext,
    ReadOutcome,
    SameContent,
    read_one,
)
from photofinder.core.scan import ScanResult, scan_tree
from photofinder.core.vector_index import VectorIndex

SAVE_INTERVAL_S = 60.0


@dataclass
class IndexReport:
    scanned: int = 0
    new: int = 0
    changed: int = 0
    deleted: int = 0
    moved: int = 0
    copied: int = 0
    embedded: int = 0
    failed: int = 0
    cancelled: bool = False
    elapsed_s: float = 0.0
    failures: list[tuple[str, str]] = field(default_factory=list)

    @property
    def photos_per_s(self) -> float:
        return (self.embedded + self.copied) / self.elapsed_s if self.elapsed_s > 0 else 0.0


class Indexer:
    """Brings one method's vectors and index up to date with the watched folders.

    All catalogue writes happen on the calling thread; decode workers only read files."""

    def __init__(
        self,
        catalog: Catalog,
        index: VectorIndex,
        info: MethodInfo,
        load_embedder: Callable[[], Embedder],
        progress: ProgressCallback = ignore_progress,
        cancel: CancelToken | None = None,
        batch_size: int = 32,
        workers: int | None = None,
    ) -> None:
        self.catalog = catalog
        self.index = index
        self.info = info
        self._load_embedder = load_embedder
        self._progress = progress
        self._cancel = cancel or CancelToken()
        self._batch_size = batch_size
        # One decode thread more than cores: reads and the GIL-held steps leave cores idle.
        self._workers = workers or (os.cpu_count() or 1) + 1

    def run(self, roots: list[Root]) -> IndexReport:
        report = IndexReport()
        started = time.monotonic()
        missing: dict[int, str] = {}
        try:
            scan_ok, missing = self._scan_and_diff(roots, report)
            work = self.catalog.work_for(self.info.name, self.info.version, scan_ok)
            moved_ids = self._process(work, missing, report)
            for file_id in moved_ids:
                missing.pop(file_id, None)
            self._sweep(missing, report)
        except Cancelled:
            report.cancelled = True
        finally:
            self.index.sync(self.catalog)
            if self.index.dirty:
                self.index.save()
            report.elapsed_s = time.monotonic() - started
        return report

    # --- scanning ----------------------------------------------------------------------------
    def _scan_and_diff(
        self, roots: list[Root], report: IndexReport
    ) -> tuple[list[int], dict[int, str]]:
        """Register new and changed files as pending; return scanned root ids and missing files."""
        excluded = [r.path for r in roots if r.excluded]
        result = ScanResult()
        scanned_roots: list[int] = []
        missing: dict[int, str] = {}
        for root in roots:
            if root.excluded:
                continue
            if not Path(root.path).is_dir():
                # An unplugged drive must not look like a mass deletion: keep its photos.
                result.folder_errors[root.path] = "folder not found (moved, or drive not connected)"
                continue
            self._progress(Progress("scanning", len(result.files), 0, message=root.path))
            before = set(result.files)
            scan_tree(Path(root.path), excluded, self._cancel.checkpoint, result)
            found = {p: result.files[p] for p in result.files.keys() - before}
            report.scanned += len(found)
            known = self.catalog.files_under(root.id)
            with self.catalog.transaction():
                for path, (size, mtime) in found.items():
                    old = known.get(path)
                    if old is None:
                        self.catalog.upsert_seen(root.id, path, size, mtime)
                        report.new += 1
                    elif (old[1], old[2]) != (size, mtime):
                        self.catalog.upsert_seen(root.id, path, size, mtime)
                        report.changed += 1
            missing.update({fid: p for p, (fid, _, _) in known.items() if p not in found})
            scanned_roots.append(root.id)
        self.catalog.set_folder_errors(result.folder_errors)
        return scanned_roots, missing

    # --- reading and embedding ---------------------------------------------------------------
    def _process(
        self, work: list[FileRecord], missing: dict[int, str], report: IndexReport
    ) -> set[int]:
        if not work:
            return set()
        self._progress(Progress("loading model", 0, len(work), message=self.info.name))
        embedder = self._load_embedder()
        missing_records = self.catalog.files_by_ids(missing)
        context = ReadContext(
            missing_by_hash={
                r.content_hash: r.id for r in missing_records.values()
                if r.content_hash and r.status == "ok"
            },
            embedded_by_hash=self.catalog.hashes_with_vectors(self.info.name, self.info.version),
            prepare=embedder.prepare,
        )
        meter = RateMeter()
        batch: list[Decoded] = []
        moved: set[int] = set()
        last_save = time.monotonic()
        for done, outcome in enumerate(self._read_all(work, context), 1):
            self._cancel.checkpoint()
            if isinstance(outcome, Decoded):
                batch.append(outcome)
                if len(batch) >= self._batch_size:
                    self._store(batch, embedder, report)
                    batch = []
            elif isinstance(outcome, SameContent):
                moved.update(self._reuse(outcome, missing, moved, report))
            else:
                self._fail(outcome, report)
            rate = meter.update(done)
            self._progress(
                Progress("indexing", done, len(work), rate, RateMeter.eta(done, len(work), rate))
            )
            if time.monotonic() - last_save > SAVE_INTERVAL_S:
                self.index.save()
                last_save = time.monotonic()
        if batch:
            self._store(batch, embedder, report)
        return moved

    def _read_all(self, work: list[FileRecord], context: ReadContext) -> Iterator[ReadOutcome]:
        """Results in order, at most a bounded number of decodes in flight."""
        window = max(2 * self._batch_size, 4 * self._workers)
        pending: deque[Future[ReadOutcome]] = deque()
        items = iter(work)
        with ThreadPoolExecutor(self._workers, thread_name_prefix="photofinder-decode") as pool:
            try:
                for record in items:
                    pending.append(pool.submit(read_one, record.id, record.path, context))
                    if len(pending) >= window:
                        yield pending.popleft().result()
                while pending:
                    yield pending.popleft().result()
            finally:
                for future in pending:
                    future.cancel()

    def _store(self, batch: list[Decoded], embedder: Embedder, report: IndexReport) -> None:
        vectors = embedder.embed_prepared(np.stack([d.pixels for d in batch]))
        with self.catalog.transaction():
            for item, vector in zip(batch, vectors, strict=True):
                self.catalog.mark_ok(item.file_id, item.meta, item.thumbnail)
                self.catalog.put_vector(item.file_id, self.info.name, self.info.version, vector)
        self.index.add(np.array([d.file_id for d in batch], np.int64), vectors)
        report.embedded += len(batch)

    def _reuse(
        self, outcome: SameContent, missing: dict[int, str], moved: set[int], report: IndexReport
    ) -> set[int]:
        new_record = self.catalog.file_by_id(outcome.file_id)
        if new_record is None:
            return set()
        if outcome.moved and outcome.source_id in missing and outcome.source_id not in moved:
            with self.catalog.transaction():
                self.catalog.delete_files([outcome.file_id])
                self.catalog.move_file(
                    outcome.source_id, new_record.root_id or 0, new_record.path,
                    new_record.size, new_record.mtime_ns,
                )
            self.index.remove(outcome.file_id)
            report.moved += 1
            return {outcome.source_id}
        with self.catalog.transaction():
            self.catalog.copy_photo(outcome.source_id, outcome.file_id)
        vector = self.catalog.vector(outcome.file_id, self.info.name, self.info.version)
        if vector is not None:
            self.index.add(np.array([outcome.file_id], np.int64), vector[None, :])
        report.copied += 1
        return set()

    def _fail(self, outcome: Failed, report: IndexReport) -> None:
        record = self.catalog.file_by_id(outcome.file_id)
        if outcome.vanished:
            self.catalog.delete_files([outcome.file_id])
            self.index.remove(outcome.file_id)
            return
        with self.catalog.transaction():
            self.catalog.mark_failed(outcome.file_id, outcome.reason)
        report.failed += 1
        if record is not None:
            report.failures.append((record.path, outcome.reason))

    def _sweep(self, missing: dict[int, str], report: IndexReport) -> None:
        """Photos no longer on disk (and not moved) leave the catalogue and the index."""
        if not missing:
            return
        self.catalog.delete_files(missing)
        for file_id in missing:
            self.index.remove(file_id)
        report.deleted += len(missing)
