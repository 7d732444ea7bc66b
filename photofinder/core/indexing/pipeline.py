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

from photofinder.core.embedders.base import Embedder, MethodInfo
from photofinder.core.errors import IndexSaveError
from photofinder.core.indexing.readers import (
    Decoded,
    Failed,
    ReadContext,
    ReadOutcome,
    SameContent,
    read_one,
)
from photofinder.core.photos.scan import ScanResult, scan_tree
from photofinder.core.progress import (
    Cancelled,
    CancelToken,
    Progress,
    ProgressCallback,
    RateMeter,
    ignore_progress,
)
from photofinder.core.storage.catalog import Catalog, FileRecord, Root
from photofinder.core.storage.vector_index import VectorIndex

SAVE_INTERVAL_S = 60.0


@dataclass
class _ScanOutcome:
    root_ids: list[int] = field(default_factory=list)  # roots scanned
    missing: dict[int, str] = field(default_factory=dict)  # gone from a scanned root
    offline: dict[int, str] = field(default_factory=dict)  # in a root whose folder is gone
    offline_roots: list[Root] = field(default_factory=list)


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
    retired_roots: list[str] = field(default_factory=list)  # renamed away: photos taken over
    warnings: list[str] = field(default_factory=list)  # e.g. the index (a cache) not saved

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
        self._gone: dict[int, FileRecord] = {}  # disappeared photos a new file may take over

    def run(self, roots: list[Root]) -> IndexReport:
        report = IndexReport()
        started = time.monotonic()
        try:
            scan = self._scan_and_diff(roots, report)
            work = self.catalog.work_for(self.info.name, self.info.version, scan.root_ids)
            moved_ids = self._process(work, scan, report)
            for file_id in moved_ids:
                scan.missing.pop(file_id, None)
            self._sweep(scan.missing, report)
            self._retire_renamed_roots(scan.offline_roots, moved_ids, report)
        except Cancelled:
            report.cancelled = True
        finally:
            self.index.sync(self.catalog)
            if self.index.dirty:
                self._save_index(report)
            report.elapsed_s = time.monotonic() - started
        return report

    # --- scanning ----------------------------------------------------------------------------
    def _scan_and_diff(self, roots: list[Root], report: IndexReport) -> _ScanOutcome:
        """Register new and changed files as pending; collect what disappeared."""
        excluded = [r.path for r in roots if r.excluded]
        result = ScanResult()
        outcome = _ScanOutcome()
        for root in roots:
            if root.excluded:
                continue
            if not Path(root.path).is_dir():
                # Never a mass deletion: the photos stay catalogued. A folder gone from a drive
                # that is there was renamed, moved or deleted: a folder it became may take its
                # photos over by content. An unplugged drive's photos wait for it.
                if Path(root.path).parent.is_dir():
                    result.folder_errors[root.path] = "folder not found (renamed, moved or deleted)"
                    outcome.offline.update(
                        {fid: p for p, (fid, _, _) in self.catalog.files_under(root.id).items()})
                    outcome.offline_roots.append(root)
                else:
                    result.folder_errors[root.path] = "folder not found (drive not connected?)"
                continue
            self._progress(Progress("scanning", len(result.files), 0, message=root.path))
            before = set(result.files)
            scan_tree(Path(root.path), excluded, self._cancel.checkpoint, result)
            found = {p: result.files[p] for p in sorted(result.files.keys() - before)}
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
            outcome.missing.update({fid: p for p, (fid, _, _) in known.items() if p not in found})
            outcome.root_ids.append(root.id)
        self.catalog.set_folder_errors(result.folder_errors)
        # Entries below the folders scanned now are replaced; a missing folder keeps its own.
        scanned = [r.path for r in roots if r.id in outcome.root_ids]
        self.catalog.set_skipped(result.skipped, under=scanned)
        return outcome

    # --- reading and embedding ---------------------------------------------------------------
    def _process(
        self, work: list[FileRecord], scan: _ScanOutcome, report: IndexReport
    ) -> set[int]:
        if not work:
            return set()
        self._progress(Progress("loading model", 0, len(work), message=self.info.name))
        embedder = self._load_embedder()
        gone = self.catalog.files_by_ids([*scan.missing, *scan.offline])
        self._gone = {i: gone[i] for i in sorted(gone) if gone[i].status == "ok"}
        context = ReadContext(
            missing_by_hash={
                r.content_hash: r.id for r in self._gone.values() if r.content_hash
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
                moved.update(self._reuse(outcome, moved, report))
            else:
                self._fail(outcome, report)
            rate = meter.update(done)
            self._progress(
                Progress("indexing", done, len(work), rate, RateMeter.eta(done, len(work), rate))
            )
            if time.monotonic() - last_save > SAVE_INTERVAL_S:
                self._save_index(report)
                last_save = time.monotonic()
        if batch:
            self._store(batch, embedder, report)
        return moved

    def _save_index(self, report: IndexReport) -> None:
        """Save the index; a failure (disk full) is a warning, not the end of the run: the
        catalogue holds every vector and the next open catches the index up."""
        try:
            self.index.save()
        except IndexSaveError as exc:
            if str(exc) not in report.warnings:
                report.warnings.append(str(exc))

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
        kept: list[bool] = []
        with self.catalog.transaction():
            for item, vector in zip(batch, vectors, strict=True):
                # Forgotten meanwhile (trashed, folder removed) by another process: skip it.
                kept.append(self.catalog.file_by_id(item.file_id) is not None)
                if kept[-1]:
                    self.catalog.mark_ok(item.file_id, item.meta, item.thumbnail, item.keypoints)
                    self.catalog.put_vector(
                        item.file_id, self.info.name, self.info.version, vector)
        ids = np.array([d.file_id for d in batch], np.int64)[kept]
        self.index.add(ids, vectors[np.array(kept, bool)])
        report.embedded += len(ids)

    def _reuse(self, outcome: SameContent, moved: set[int], report: IndexReport) -> set[int]:
        """The new file holds a catalogued photo's bytes: take over the record of a photo that
        disappeared (a move or a renamed folder: id, vector and decisions kept), else copy it."""
        with self.catalog.transaction():
            new_record = self.catalog.file_by_id(outcome.file_id)
            source = self.catalog.file_by_id(outcome.source_id)
            if new_record is None or source is None:
                return set()
            if outcome.moved:
                mover = self._gone_photo_for(source, new_record, moved)
                if mover is not None:
                    self.catalog.delete_files([new_record.id])
                    self.catalog.move_file(
                        mover.id, new_record.root_id or 0, new_record.path,
                        new_record.size, new_record.mtime_ns,
                    )
                    self.index.remove(new_record.id)
                    report.moved += 1
                    return {mover.id}
            self.catalog.copy_photo(source.id, new_record.id)
        vector = self.catalog.vector(outcome.file_id, self.info.name, self.info.version)
        if vector is not None:
            self.index.add(np.array([outcome.file_id], np.int64), vector[None, :])
        report.copied += 1
        return set()

    def _gone_photo_for(
        self, source: FileRecord, new_record: FileRecord, moved: set[int]
    ) -> FileRecord | None:
        """Of the disappeared photos with these bytes, the one the new file replaces: same
        name first. It must still be catalogued at its old path and still be absent from disk
        (another PhotoFinder process may have moved it already)."""
        same_bytes = [
            r for r in self._gone.values()
            if r.content_hash == source.content_hash and r.id not in moved
        ]
        name = Path(new_record.path).name
        same_bytes.sort(key=lambda r: (Path(r.path).name != name, r.id))
        for candidate in same_bytes:
            current = self.catalog.file_by_id(candidate.id)
            if (current is not None and current.path == candidate.path
                    and not os.path.lexists(candidate.path)):
                return current
        return None

    def _fail(self, outcome: Failed, report: IndexReport) -> None:
        record = self.catalog.file_by_id(outcome.file_id)
        if outcome.vanished:
            self.catalog.delete_files([outcome.file_id])
            self.index.remove(outcome.file_id)
            return
        with self.catalog.transaction():
            self.catalog.mark_failed(outcome.file_id, outcome.reason, outcome.transient)
        report.failed += 1
        if record is not None:
            report.failures.append((record.path, outcome.reason))

    def _sweep(self, missing: dict[int, str], report: IndexReport) -> None:
        """Photos no longer on disk (and not moved) leave the catalogue and the index. Each is
        checked again at the moment it goes: another process may have moved its record to a
        new path, or the file may be back."""
        if not missing:
            return
        with self.catalog.transaction():
            gone = [
                file_id for file_id, path in sorted(missing.items())
                if not os.path.lexists(path)
                and (record := self.catalog.file_by_id(file_id)) is not None
                and record.path == path
            ]
            self.catalog.delete_files(gone)
        for file_id in gone:
            self.index.remove(file_id)
        report.deleted += len(gone)

    def _retire_renamed_roots(
        self, offline_roots: list[Root], moved: set[int], report: IndexReport
    ) -> None:
        """A missing watched folder whose every indexed photo was found elsewhere was renamed
        or moved: stop watching it (records of files that had failed go with it). One with
        photos left (an unplugged drive, a folder partly moved) stays."""
        moved_from = {self._gone[i].root_id for i in moved if i in self._gone}
        counts = {r.id: r.photo_count for r in self.catalog.roots()}
        for root in offline_roots:
            if root.id not in moved_from or counts.get(root.id, 0) or Path(root.path).is_dir():
                continue
            self.catalog.remove_root(Path(root.path))
            report.retired_roots.append(root.path)
        if report.retired_roots:
            errors = self.catalog.folder_errors()
            self.catalog.set_folder_errors(
                {p: r for p, r in errors if p not in report.retired_roots})
