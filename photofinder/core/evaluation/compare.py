"""`photofinder compare`: every embedding method measured on the user's own labelled photos.

A folder-labelled set (folder name = class) gives, per method: embedding speed (photos/s,
decoded photos in, vectors out, on this machine), class-level mAP and precision@10, rank-1
recall of generated near-duplicates (crops, rotations, re-encodes… of the same photos) among
all the photos, and memory per photo (the stored vector plus its share of the hnswlib index).
Methods that cannot run here (weights missing, patented) are listed with the reason."""

from __future__ import annotations

import io
import math
import random
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from photofinder.core.embedders import (
    default_models_dir,
    list_methods,
    load_embedder,
    method_spec,
)
from photofinder.core.embedders.base import Embedder, FloatArray, MethodInfo
from photofinder.core.embedders.spec import FIT_SAMPLE
from photofinder.core.embedders.training import labelled_photos
from photofinder.core.errors import PhotoFinderError, PhotoReadError
from photofinder.core.evaluation.metrics import class_map_and_precision, neardup_recall_at_1
from photofinder.core.evaluation.neardup import KINDS, SAVE_QUALITY, TRANSFORMS, load_original
from photofinder.core.evaluation.plot import SpeedAccuracyChart, build_chart, write_png
from photofinder.core.photos.imageio import decode_bytes, decode_file
from photofinder.core.progress import CancelToken
from photofinder.core.storage.paths import resolve_paths
from photofinder.core.storage.vector_index import EF_CONSTRUCTION, M

Log = Callable[[str], None]
MIN_CLASSES = 2  # class-level mAP needs photos that are not relevant to a query
MIN_PHOTOS = 4  # fewer decoded photos than this measure nothing worth a table
PRECISION_AT = 10  # precision@10: how many of the first ten hits share the query's class
EMBED_BATCH = 32  # photos per embedding call while measuring
VECTOR_ITEM_BYTES = 4  # vectors are stored as float32

# What the article's comparison table says, per method, next to the measured numbers.
PROS_CONS: dict[str, tuple[str, str]] = {
    "efficientnet-lite0": ("fast on CPU, bundled offline, semantic", "ImageNet-biased"),
    "hog": ("no model, very fast, tiny", "global layout only; no rotation/crop invariance"),
    "sift-vlad": ("crop/rotation robust keypoints", "slow; codebook to learn; weak semantics"),
    "orb-bow": ("fast binary keypoints, free", "coarse; weak on low texture and semantics"),
    "resnet50": ("strong generic features", "2048-d; slower on CPU; 98 MB download"),
    "mobilenet-v3": ("light CNN, fast", "a bit less accurate than ResNet-50"),
    "vit-b16": ("global context, strong features", "slowest on CPU; 330 MB download"),
    "moco-v2": ("self-supervised, no labels needed", "checkpoint to import; 2048-d"),
    "surf": ("fast keypoints (article)", "patented, not in OpenCV builds"),
}


@dataclass
class MethodResult:
    name: str
    version: str = ""
    dim: int = 0
    family: str = ""
    available: bool = True
    reason: str = ""
    photos_per_s: float = 0.0
    fit_s: float = 0.0
    class_map: float = 0.0
    precision_at_10: float = 0.0
    neardup_recall_at_1: float = 0.0
    neardup_by_kind: dict[str, float] = field(default_factory=dict)
    vector_bytes: int = 0
    index_bytes_per_photo: float = 0.0
    pros: str = ""
    cons: str = ""

    @property
    def bytes_per_photo(self) -> float:
        return self.vector_bytes + self.index_bytes_per_photo


@dataclass
class CompareReport:
    folder: str
    photos: int
    classes: int
    neardup_queries: int
    kinds: list[str]
    device: str
    methods: list[MethodResult]

    def to_json(self) -> dict[str, Any]:
        payload = asdict(self)
        for entry, result in zip(payload["methods"], self.methods, strict=True):
            entry["bytes_per_photo"] = round(result.bytes_per_photo, 1)
        return payload


def _near_duplicates(
    originals: list[Path], gallery_rows: list[int], count: int, seed: int,
    checkpoint: Callable[[], None],
) -> tuple[list[Image.Image], list[str], list[int]]:
    """Every kind of change applied to `count` seeded originals, JPEG-saved and decoded the
    way a dropped file would be. Returns images, kinds and the gallery row of each original."""
    rng = random.Random(seed)
    picked = sorted(rng.sample(range(len(originals)), min(count, len(originals))))
    images: list[Image.Image] = []
    kinds: list[str] = []
    targets: list[int] = []
    for number, position in enumerate(picked):
        checkpoint()
        base = load_original(originals[position])
        for kind in KINDS:
            changed = TRANSFORMS[kind](base, random.Random(f"{seed}:{number}:{kind}"))
            buffer = io.BytesIO()
            changed.save(buffer, format="JPEG", quality=SAVE_QUALITY)
            images.append(decode_bytes(buffer.getvalue(), kind).image)
            kinds.append(kind)
            targets.append(gallery_rows[position])
    return images, kinds, targets


def _embed(
    embedder: Embedder, images: Sequence[Image.Image], checkpoint: Callable[[], None],
    batch: int = EMBED_BATCH,
) -> FloatArray:
    out = []
    for start in range(0, len(images), batch):
        checkpoint()
        prepared = np.stack([embedder.prepare(im) for im in images[start:start + batch]])
        out.append(embedder.embed_prepared(prepared))
    return np.concatenate(out).astype(np.float32)


def index_bytes_per_photo(vectors: FloatArray) -> float:
    """Size of an hnswlib index of these vectors (the app's parameters) per photo."""
    import hnswlib

    index = hnswlib.Index(space="ip", dim=vectors.shape[1])
    index.init_index(max_elements=len(vectors), ef_construction=EF_CONSTRUCTION, M=M)
    index.add_items(vectors, np.arange(len(vectors)))
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "index.bin"
        index.save_index(str(path))
        return path.stat().st_size / len(vectors)


def _skipped(info_name: str, version: str, dim: int, family: str, reason: str) -> MethodResult:
    pros, cons = PROS_CONS.get(info_name, ("", ""))
    return MethodResult(info_name, version, dim, family, False, reason, pros=pros, cons=cons)




@dataclass(frozen=True, eq=False)
class _Gallery:
    """The decoded labelled photos, and near-duplicate queries generated from them."""

    images: list[Image.Image]
    labels: list[str]
    queries: list[Image.Image]
    kinds: list[str]  # the change that made each query
    targets: list[int]  # the gallery row of each query's original


@dataclass(frozen=True)
class _Comparison:
    """How the methods are measured: where their weights are, on what device, and its log."""

    weights_dir: Path
    model_cache: Path
    fit_dir: Path  # scratch folder for codebooks learned from the gallery
    device: str
    seed: int
    log: Log
    checkpoint: Callable[[], None]


def _method_infos(weights_dir: Path, methods: Sequence[str] | None) -> dict[str, MethodInfo]:
    """The methods to measure (all registered ones by default), by name, in order."""
    infos = {m.name: m for m in list_methods(weights_dir)}
    names = list(methods) if methods else list(infos)
    unknown = [n for n in names if n not in infos]
    if unknown:
        raise PhotoFinderError(f"unknown method {unknown[0]!r}; known: {', '.join(infos)}")
    return {name: infos[name] for name in names}


def _gallery(
    folder: Path, limit_per_class: int | None, neardup_originals: int, seed: int,
    log: Log, checkpoint: Callable[[], None],
) -> _Gallery:
    """Decode the labelled photos (skipping unreadable ones) and make the near-duplicates."""
    labelled = labelled_photos(Path(folder), limit_per_class, seed)
    log(f"decoding {len(labelled)} photos of {len({c for _, c in labelled})} classes")
    images: list[Image.Image] = []
    labels: list[str] = []
    originals: list[Path] = []
    for path, label in labelled:
        checkpoint()
        try:
            images.append(decode_file(path).image)
        except PhotoReadError:
            continue
        labels.append(label)
        originals.append(path)
    if len(set(labels)) < MIN_CLASSES or len(images) < MIN_PHOTOS:
        raise PhotoFinderError(f"{folder}: need photos in at least two class folders to compare")
    queries, kinds, targets = _near_duplicates(
        originals, list(range(len(originals))), neardup_originals, seed, checkpoint
    )
    log(f"{len(queries)} near-duplicate queries ({len(KINDS)} kinds × "
        f"{len(queries) // len(KINDS)} photos)")
    return _Gallery(images, labels, queries, kinds, targets)


def _load(info: MethodInfo, gallery: _Gallery, setup: _Comparison) -> tuple[Embedder, float]:
    """The method's embedder, learning its codebook from the gallery first where it has one;
    returns it and the seconds learning took."""
    name = info.name
    spec = method_spec(name)
    fit_s = 0.0
    folder_for = setup.weights_dir
    if spec is not None and spec.fit is not None:  # learned from these photos
        folder_for = setup.fit_dir
        images = gallery.images
        sample = random.Random(setup.seed).sample(images, min(FIT_SAMPLE, len(images)))
        setup.log(f"{name}: learning the codebook from {len(sample)} photos")
        started = time.perf_counter()
        spec.fit(sample, setup.fit_dir)
        fit_s = time.perf_counter() - started
    setup.log(f"{name}: loading")
    return load_embedder(name, setup.device, setup.model_cache, folder_for), fit_s


def _measure(info: MethodInfo, gallery: _Gallery, setup: _Comparison) -> MethodResult:
    """One method's row: skipped with its reason, or its speed, accuracy and memory."""
    name = info.name
    if not info.available:
        setup.log(f"{name}: skipped ({info.reason})")
        return _skipped(name, info.version, info.dim, info.family, info.reason)
    try:
        embedder, fit_s = _load(info, gallery, setup)
    except PhotoFinderError as exc:
        setup.log(f"{name}: skipped ({exc})")
        return _skipped(name, info.version, info.dim, info.family, str(exc))
    images = gallery.images
    embedder.embed_prepared(np.stack([embedder.prepare(images[0])]))  # warm-up
    setup.log(f"{name}: embedding {len(images)} photos")
    started = time.perf_counter()
    vectors = _embed(embedder, images, setup.checkpoint)
    elapsed = time.perf_counter() - started
    query_vectors = _embed(embedder, gallery.queries, setup.checkpoint)
    class_map, precision = class_map_and_precision(vectors, gallery.labels, PRECISION_AT)
    recall = neardup_recall_at_1(query_vectors, gallery.kinds, gallery.targets, vectors)
    used = embedder.info
    pros, cons = PROS_CONS.get(name, ("", ""))
    return MethodResult(
        name, used.version, used.dim, used.family, True, "",
        photos_per_s=len(images) / elapsed if elapsed > 0 else math.inf,
        fit_s=fit_s, class_map=class_map, precision_at_10=precision,
        neardup_recall_at_1=recall.pop("all"), neardup_by_kind=recall,
        vector_bytes=int(vectors.shape[1]) * VECTOR_ITEM_BYTES,
        index_bytes_per_photo=index_bytes_per_photo(vectors),
        pros=pros, cons=cons,
    )


def run_compare(
    folder: Path,
    methods: Sequence[str] | None = None,
    limit_per_class: int | None = None,
    neardup_originals: int = 30,
    seed: int = 0,
    device: str = "cpu",
    data_dir: Path | None = None,
    log: Log = lambda _m: None,
    cancel: CancelToken | None = None,
) -> CompareReport:
    """Measure each method (all registered ones by default) on the labelled folder. With
    `cancel`, stops (raising `Cancelled`) between photos, batches and methods; learning a
    method's codebook runs to its end first."""
    checkpoint = cancel.checkpoint if cancel is not None else lambda: None
    paths = resolve_paths(data_dir)
    weights_dir = default_models_dir() if data_dir is None else paths.data_dir / "models"
    infos = _method_infos(weights_dir, methods)
    gallery = _gallery(folder, limit_per_class, neardup_originals, seed, log, checkpoint)
    results: list[MethodResult] = []
    paths.model_cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        setup = _Comparison(weights_dir, paths.model_cache, Path(scratch) / "models", device,
                            seed, log, checkpoint)
        for info in infos.values():
            checkpoint()
            results.append(_measure(info, gallery, setup))
    return CompareReport(str(folder), len(gallery.images), len(set(gallery.labels)),
                         len(gallery.queries), list(KINDS), device, results)


def format_table(report: CompareReport) -> str:
    """The comparison as a text table (measured columns, then the article's pros and cons)."""
    head = ("method", "dim", "photos/s", "mAP", "P@10", "dup R@1", "bytes/photo", "pros", "cons")
    rows: list[tuple[str, ...]] = []
    for r in report.methods:
        if r.available:
            rows.append((r.name, str(r.dim), f"{r.photos_per_s:.1f}", f"{r.class_map:.3f}",
                         f"{r.precision_at_10:.3f}", f"{r.neardup_recall_at_1:.3f}",
                         f"{r.bytes_per_photo:,.0f}", r.pros, r.cons))
        else:
            rows.append((r.name, str(r.dim), "-", "-", "-", "-", "-", r.pros, r.cons))
    widths = [max(len(h), *(len(row[i]) for row in rows)) if rows else len(h)
              for i, h in enumerate(head)]
    lines = [" | ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)),
             "-+-".join("-" * w for w in widths)]
    lines += [" | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    lines.append(
        f"{report.photos} photos, {report.classes} classes, {report.neardup_queries} "
        f"near-duplicate queries ({', '.join(report.kinds)}); device {report.device}. "
        "photos/s: decoded photo → vector; mAP/P@10: same folder = relevant; dup R@1: the "
        "original ranks first among all photos; bytes/photo: float32 vector + hnswlib share."
    )
    for r in report.methods:
        if not r.available:
            reason = r.reason.removeprefix(f"{r.name}: ")
            lines.append(f"not measured: {r.name}: {reason}")
        elif r.fit_s:
            lines.append(f"{r.name}: codebook learned in {r.fit_s:.1f} s (not in photos/s)")
    return "\n".join(lines)


def speed_accuracy_chart(report: CompareReport) -> SpeedAccuracyChart:
    """Speed (log scale) against class mAP, one labelled point per measured method."""
    measured = [r for r in report.methods
                if r.available and r.photos_per_s > 0 and math.isfinite(r.photos_per_s)]
    return build_chart(f"speed vs accuracy: {report.photos} photos, {report.classes} classes, "
                       f"device {report.device}", measured)


def plot_speed_accuracy(report: CompareReport, target: Path) -> Path:
    """The speed-vs-accuracy chart of `report` as a PNG at `target`."""
    return write_png(speed_accuracy_chart(report), target)
