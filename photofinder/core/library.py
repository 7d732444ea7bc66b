"""The library: one object the CLI and the GUI use for indexing, search and duplicates.

Thread use: the index and the loaded model are shared; each thread gets its own catalogue
connection, so a search can run while another thread indexes."""

from __future__ import annotations

import contextlib
import itertools
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from photofinder.core.duplicates.candidates import record_neighbours
from photofinder.core.duplicates.grouping import DEFAULT_STRICTNESS, DuplicateGroup, Strictness
from photofinder.core.embedders import DEFAULT_METHOD, load_embedder, method_info, method_spec
from photofinder.core.embedders.base import Embedder, MethodInfo, embed_images
from photofinder.core.embedders.codebook import sample_photos
from photofinder.core.embedders.spec import FIT_SAMPLE
from photofinder.core.embedders.weights import models_dir
from photofinder.core.errors import (
    EmptyLibraryError,
    IndexSaveError,
    PhotoFinderError,
    PhotoReadError,
)
from photofinder.core.indexing.keypoint_backfill import backfill_keypoints
from photofinder.core.indexing.pipeline import Indexer, IndexReport
from photofinder.core.photos.imageio import DecodedPhoto, decode_bytes, decode_file
from photofinder.core.photos.scan import photo_paths
from photofinder.core.progress import (
    Cancelled,
    CancelToken,
    Progress,
    ProgressCallback,
    ignore_progress,
)
from photofinder.core.search.expansion import similar_photos
from photofinder.core.search.knn import SearchHit, search_vectors
from photofinder.core.storage.backup import write_roots_backup
from photofinder.core.storage.catalog import Catalog, FileRecord, Root, StatusCounts
from photofinder.core.storage.locks import library_lock
from photofinder.core.storage.paths import AppPaths, resolve_paths
from photofinder.core.storage.vector_index import IndexKey, VectorIndex

SEARCH_BATCH = 16  # query photos read, embedded and searched together by iter_search_files
EMBED_BATCH = 32  # images the model embeds at once (as many as an indexing batch)
QUARTER_TURNS = (Image.Transpose.ROTATE_90, Image.Transpose.ROTATE_180,
                 Image.Transpose.ROTATE_270)  # a dropped photo is also searched turned
WAITING_MESSAGE = "another PhotoFinder window or command is updating this library"


@dataclass(frozen=True)
class WatchedFolder:
    root: Root
    state: str  # "watched", "excluded" or "not found"


def folder_state(root: Root) -> str:
    if root.excluded:
        return "excluded"
    return "watched" if Path(root.path).is_dir() else "not found"


@dataclass(frozen=True)
class LibraryStatus:
    method: str
    counts: StatusCounts
    failed: list[tuple[str, str]]
    folder_errors: list[tuple[str, str]]
    roots: list[Root]
    skipped: list[tuple[str, str]]  # links and special files never read, with the reason


def _batches(items: Iterable[Path], size: int) -> Iterator[list[Path]]:
    """Consecutive lists of `size` items (the last one shorter), reading `items` lazily."""
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


class Library:
    def __init__(
        self,
        data_dir: Path | str | None = None,
        method: str = DEFAULT_METHOD,
        device: str = "auto",
    ) -> None:
        self.paths: AppPaths = resolve_paths(data_dir).ensure()
        self.models_dir = models_dir(self.paths.data_dir)  # codebooks, imported weights
        self.info: MethodInfo = method_info(method, self.models_dir)
        self.device = device
        self._local = threading.local()
        self._catalogs: list[Catalog] = []
        # Guards the list alone, so that a thread's first catalogue never waits for `_lock`,
        # held while the index opens (seconds at 100,000 photos; the Duplicates view answers
        # from the catalogue without the index). Taken after `_lock` when both are.
        self._catalogs_lock = threading.Lock()
        self._lock = threading.RLock()
        self._embedder: Embedder | None = None
        self._index: VectorIndex | None = None
        self.save_error: str | None = None  # why the last close could not save the index
        self._run_warnings: list[str] = []  # from index runs, e.g. an index save that failed
        self.catalog  # noqa: B018 - open (and migrate) the catalogue now: fail early

    # --- shared resources --------------------------------------------------------------------
    @property
    def catalog(self) -> Catalog:
        """This thread's catalogue connection."""
        catalog: Catalog | None = getattr(self._local, "catalog", None)
        if catalog is None:
            catalog = Catalog(self.paths.catalog)
            self._local.catalog = catalog
            with self._catalogs_lock:
                self._catalogs.append(catalog)
        return catalog

    @property
    def index(self) -> VectorIndex:
        catalog = self.catalog  # this thread's, opened before the index takes `_lock`
        with self._lock:
            if self._index is None:
                key = IndexKey(self.info.name, self.info.version, self.info.dim)
                self._index = VectorIndex(self.paths.index_dir, key)
                self._index.open(catalog)
            return self._index

    def embedder(self) -> Embedder:
        """The loaded model (loads on first use: seconds, and the ONNX export on first run)."""
        with self._lock:
            if self._embedder is None:
                if method_spec(self.info.name) is None:
                    self._embedder = load_embedder(
                        self.info.name, self.device, self.paths.model_cache
                    )
                else:  # learned or imported state in the data folder
                    self._embedder = load_embedder(
                        self.info.name, self.device, self.paths.model_cache, self.models_dir
                    )
            return self._embedder

    @property
    def model_loaded(self) -> bool:
        return self._embedder is not None

    def close(self) -> None:
        """Save the index if it changed, back up the folder list, close every connection.
        Never raises for a failed save (the index is a cache of the catalogue, caught up on
        the next open): `save_error` holds the one-line reason instead."""
        with self._lock:
            self.save_error = None
            if self._index is not None and self._index.dirty:
                try:
                    self._index.save()
                except IndexSaveError as exc:
                    self.save_error = str(exc)
            own: Catalog | None = getattr(self._local, "catalog", None)
            if own is not None:
                with contextlib.suppress(sqlite3.Error, OSError):  # a backup: best effort
                    write_roots_backup(self.paths.data_dir, own.roots())
            with self._catalogs_lock:
                for catalog in self._catalogs:
                    with contextlib.suppress(Exception):  # a connection of a finished thread
                        catalog.close()
                self._catalogs.clear()
            self._local = threading.local()

    @property
    def warnings(self) -> list[str]:
        """What went wrong without stopping anything (once each): index saves that failed."""
        found = [*self._run_warnings, *([self.save_error] if self.save_error else [])]
        return list(dict.fromkeys(found))

    def __enter__(self) -> Library:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # --- folders and indexing ----------------------------------------------------------------
    def add_roots(self, folders: Sequence[Path]) -> list[Root]:
        """Watch folders. One inside a watched folder is already covered; one that contains
        watched folders takes over their photos (ids, vectors and decisions kept)."""
        added: list[Root] = []
        for folder in folders:
            path = Path(folder).expanduser().resolve()
            watched = [r for r in self.catalog.roots() if not r.excluded]
            cover = next((r for r in watched if path.is_relative_to(r.path)), None)
            if cover is not None:
                added.append(cover)
                continue
            root = self.catalog.add_root(path)
            for inner in watched:
                if Path(inner.path).is_relative_to(path):
                    self.catalog.merge_root(inner.id, root.id)
            added.append(root)
        self._back_up_roots()
        return added

    def exclude_folder(self, folder: Path) -> Root:
        root = self.catalog.add_root(Path(folder).expanduser().resolve(), excluded=True)
        self._back_up_roots()
        return root

    def _back_up_roots(self) -> None:
        """roots.json beside the catalogue, for `photofinder repair` (best effort)."""
        with contextlib.suppress(sqlite3.Error, OSError):
            write_roots_backup(self.paths.data_dir, self.catalog.roots())

    def remove_root(self, folder: Path) -> int:
        """Stop watching a folder (or stop excluding it) and forget its photos' records; the
        files themselves are not touched. Returns how many records went."""
        path = Path(folder).expanduser().absolute()
        known = {r.path for r in self.catalog.roots()}
        candidates = [str(path), str(path.resolve())]
        chosen = next((c for c in candidates if c in known), None)
        if chosen is None:
            raise PhotoFinderError(
                f"not a watched or excluded folder: {path} (see `photofinder folders`)")
        removed = self.catalog.remove_root(Path(chosen))
        self._back_up_roots()
        self.index.sync(self.catalog)
        return removed

    def roots(self) -> list[Root]:
        return self.catalog.roots()

    def folders(self) -> list[WatchedFolder]:
        """Every watched and excluded folder with its state right now."""
        return [WatchedFolder(root, folder_state(root)) for root in self.catalog.roots()]

    def update(
        self,
        progress: ProgressCallback = ignore_progress,
        cancel: CancelToken | None = None,
        retry_failed: bool = False,
    ) -> IndexReport:
        """Scan every watched folder and bring catalogue and index up to date. One update runs
        at a time per library, across processes: another one waits (reporting "waiting").
        Failures whose reason may have gone away are tried again (`retry_failed`: all)."""
        token = cancel or CancelToken()

        def waiting() -> None:
            progress(Progress("waiting", 0, 0, message=WAITING_MESSAGE))

        try:
            with library_lock(self.paths.data_dir, "update", token.checkpoint, waiting):
                return self._update_locked(progress, token, retry_failed)
        except Cancelled:
            return IndexReport(cancelled=True)

    def _update_locked(
        self, progress: ProgressCallback, cancel: CancelToken, retry_failed: bool
    ) -> IndexReport:
        self._fit_if_needed(progress, cancel)
        roots = self.catalog.roots()
        self.catalog.requeue_failed([r.id for r in roots if not r.excluded], retry_failed)
        self.index.sync(self.catalog)  # another process may have changed the catalogue
        indexer = Indexer(self.catalog, self.index, self.info, self.embedder, progress, cancel)
        report = indexer.run(roots)
        self._run_warnings.extend(report.warnings)
        if report.retired_roots:
            self._back_up_roots()
        if not report.cancelled:
            try:
                record_neighbours(self.index, self.catalog, progress, cancel)
                backfill_keypoints(self.catalog, progress, cancel)
            except Cancelled:
                report.cancelled = True
        return report

    def _fit_if_needed(self, progress: ProgressCallback, cancel: CancelToken | None) -> None:
        """Learn the method's codebook from a sample of the library when it has none yet."""
        spec = method_spec(self.info.name)
        if spec is None or spec.fit is None:
            return
        if spec.is_fitted is not None and spec.is_fitted(self.models_dir):
            return
        roots = self.catalog.roots()
        watched = [r for r in roots if not r.excluded and Path(r.path).is_dir()]
        excluded = [r.path for r in roots if r.excluded]
        catalogued = [Path(path) for r in watched for path in self.catalog.files_under(r.id)]
        photos = catalogued or [  # nothing scanned yet: the indexer's own walk finds the same
            path for r in watched for path in photo_paths(Path(r.path), excluded)]
        paths = sample_photos(photos, map(Path, excluded), FIT_SAMPLE)
        images: list[Image.Image] = []
        for done, path in enumerate(paths):
            if cancel is not None:
                cancel.checkpoint()
            progress(Progress("learning codebook", done, len(paths), message=str(path)))
            try:
                images.append(decode_file(path).image)
            except PhotoReadError:
                continue
        if not images:
            return  # nothing to learn from yet
        progress(Progress("learning codebook", len(paths), len(paths)))
        spec.fit(images, self.models_dir)
        with self._lock:  # the fingerprint of the new codebook is part of the version now
            if self._index is not None and self._index.dirty:
                self._index.save()
            self.info = method_info(self.info.name, self.models_dir)
            self._index = None
            self._embedder = None

    # --- search ------------------------------------------------------------------------------
    def _require_vectors(self) -> VectorIndex:
        index = self.index
        if len(index) == 0:
            raise EmptyLibraryError("nothing is indexed yet: add a folder with `photofinder index`")
        return index

    def search_files(
        self, paths: Sequence[Path], k: int = 20, verify: bool = False
    ) -> list[list[SearchHit]]:
        """Search by image files; catalogued photos reuse their stored vector. `verify`:
        precise search (rotation/mirror query expansion and keypoint re-ranking)."""
        return [hits for _, hits in self.iter_search_files(paths, k, verify)]

    def iter_search_files(
        self, paths: Iterable[Path], k: int = 20, verify: bool = False, batch: int | None = None
    ) -> Iterator[tuple[Path, list[SearchHit]]]:
        """(resolved query path, hits) for each query file in order, `batch` queries (default
        SEARCH_BATCH) read, embedded and searched at a time, so memory does not grow with the
        number of queries (`paths` is read as the batches need it). Otherwise as
        `search_files`; an unreadable query raises PhotoReadError when its batch comes."""
        self._require_vectors()
        for chunk in _batches(paths, max(1, batch or SEARCH_BATCH)):
            queries = [Path(p).expanduser().resolve() for p in chunk]
            if verify:
                hit_lists = self._search_verified(
                    [(decode_file(q), self.catalog.file_by_path(str(q))) for q in queries], k)
            else:
                hit_lists = self._search_plain(queries, k)
            yield from zip(queries, hit_lists, strict=True)

    def _search_plain(self, queries: Sequence[Path], k: int) -> list[list[SearchHit]]:
        """Plain search for resolved query files: stored vectors where catalogued, the others
        decoded and embedded."""
        vectors: list[np.ndarray] = []
        exclude: list[int | None] = []
        turned: list[np.ndarray | None] = []
        to_embed: list[tuple[int, DecodedPhoto]] = []
        for position, path in enumerate(queries):
            record = self.catalog.file_by_path(str(path))
            stored = self._stored_vector(record)
            exclude.append(record.id if record else None)
            vectors.append(stored if stored is not None else np.zeros(0, np.float32))
            turned.append(None)
            if stored is None:
                to_embed.append((position, decode_file(path)))
        if to_embed:
            embedded = self._embed_turned([photo.image for _, photo in to_embed])
            for (position, _), (vector, turns) in zip(to_embed, embedded, strict=True):
                vectors[position], turned[position] = vector, turns
        return similar_photos(self._require_vectors(), self.catalog, np.stack(vectors), k,
                              exclude, turned)

    def _embed_turned(self, images: Sequence[Image.Image]) -> list[tuple[np.ndarray, np.ndarray]]:
        """Each image's vector, and those of it turned by 90°, 180° and 270°."""
        per_image = 1 + len(QUARTER_TURNS)
        batch = []
        for image in images:
            image = image.convert("RGB")
            batch += [image, *(image.transpose(turn) for turn in QUARTER_TURNS)]
        vectors = self._embed(batch)
        return [(vectors[start], vectors[start + 1 : start + per_image])
                for start in range(0, len(vectors), per_image)]

    def _embed(self, images: Sequence[Image.Image]) -> np.ndarray:
        """Embed images EMBED_BATCH at a time (the model's working memory grows with the
        batch)."""
        embedder = self.embedder()
        parts = [embed_images(embedder, images[start : start + EMBED_BATCH])
                 for start in range(0, len(images), EMBED_BATCH)]
        return np.concatenate(parts) if parts else embed_images(embedder, [])

    def search_image(
        self, image: Image.Image, k: int = 20, verify: bool = False
    ) -> list[SearchHit]:
        index = self._require_vectors()
        if verify:
            return self._search_verified([(image.convert("RGB"), None)], k)[0]
        ((vector, turned),) = self._embed_turned([image])
        return similar_photos(index, self.catalog, vector[None, :], k, None, [turned])[0]

    def search_bytes(self, data: bytes, k: int = 20, verify: bool = False) -> list[SearchHit]:
        """Search by encoded image data (a paste or a drag from a browser)."""
        return self.search_image(decode_bytes(data, "dropped image").image, k, verify)

    def search_file_id(self, file_id: int, k: int = 20, verify: bool = False) -> list[SearchHit]:
        index = self._require_vectors()
        if verify:
            record = self.catalog.file_by_id(file_id)
            if record is None:
                raise EmptyLibraryError(f"photo {file_id} is not in the catalogue")
            return self._search_verified([(decode_file(Path(record.path)), record)], k)[0]
        stored = self._stored_vector(self.catalog.file_by_id(file_id))
        if stored is None:
            record = self.catalog.file_by_id(file_id)
            if record is None:
                raise EmptyLibraryError(f"photo {file_id} is not in the catalogue")
            return self.search_files([Path(record.path)], k)[0]
        return similar_photos(index, self.catalog, stored[None, :], k, [file_id])[0]

    def _search_verified(
        self, queries: Sequence[tuple[DecodedPhoto | Image.Image, FileRecord | None]], k: int
    ) -> list[list[SearchHit]]:
        """Precise search: embed each query with its 90/180/270° rotations and mirror image (one
        batch), merge their candidates, verify the best RERANK_TOP with keypoints and put
        verified near-duplicates first. Hits are `verify.VerifiedHit`s (with `inliers`)."""
        from photofinder.core.matching import verify as checks

        index = self._require_vectors()
        images: list[Image.Image] = []
        for photo, _ in queries:
            image = photo.image if isinstance(photo, DecodedPhoto) else photo
            images.extend(checks.query_variants(image))
        vectors = self._embed(images)
        depth = max(k, checks.RERANK_TOP)
        per_variant = len(checks.QUERY_VARIANTS)
        exclude: list[int | None] = [
            record.id if record else None for _, record in queries for _ in range(per_variant)
        ]
        hit_lists = search_vectors(index, self.catalog, vectors, depth, exclude)
        results: list[list[SearchHit]] = []
        for number, (photo, _) in enumerate(queries):
            lists = hit_lists[number * per_variant : (number + 1) * per_variant]
            candidates = checks.merge_candidates(lists, depth)
            head = checks.hits_to_check(candidates, floor=self.info.copy_floor)
            if isinstance(photo, DecodedPhoto):
                size = (photo.width, photo.height)
                query = checks.query_features(photo.image, original_size=size,
                                              max_side=checks.QUERY_SIDE)
            else:
                query = checks.query_features(photo, max_side=checks.QUERY_SIDE)
            features = checks.catalog_features(self.catalog, head, query.plain.kind)
            ranked = checks.rerank(query, candidates, features=features,
                                   floor=self.info.copy_floor)
            results.append(list(ranked[:k]))
        return results

    def _stored_vector(self, record: FileRecord | None) -> np.ndarray | None:
        if record is None or record.status != "ok":
            return None
        return self.catalog.vector(record.id, self.info.name, self.info.version)

    # --- duplicates and status ---------------------------------------------------------------
    def duplicates(
        self,
        strictness: Strictness = DEFAULT_STRICTNESS,
        geometric: bool = True,
        progress: ProgressCallback = ignore_progress,
        cancel: CancelToken | None = None,
    ) -> list[DuplicateGroup]:
        """Duplicate groups with suggested keepers; dismissed pairs never come back. Raises
        `Cancelled` when `cancel` is cancelled while candidates are checked."""
        from photofinder.core.duplicates.review import review_duplicates

        key = IndexKey(self.info.name, self.info.version, self.info.dim)
        return review_duplicates(self.catalog, key, lambda: self.index, strictness, geometric,
                                 progress, cancel)

    def status(self) -> LibraryStatus:
        catalog = self.catalog
        return LibraryStatus(
            method=self.info.name,
            counts=catalog.status_counts(self.info.name, self.info.version),
            failed=catalog.failed_files(),
            folder_errors=catalog.folder_errors(),
            roots=catalog.roots(),
            skipped=catalog.skipped(),
        )
