"""Indexing throughput vs the decode-only bound, search latency at 100k, footprint per photo.

Makes its own data: camera-like 12 MP JPEGs, and synthetic vectors for the 100k index.
    python -m benchmarks.speed [--photos 96] [--items 100000] [--out bench-out]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image

from photofinder.core.embedders.base import embed_images, l2_normalise
from photofinder.core.library import Library
from photofinder.core.photos.imageio import decode_bytes, decode_file, read_file_bytes
from photofinder.core.storage.catalog import Catalog, PhotoMetadata
from photofinder.core.storage.vector_index import IndexKey


def camera_jpeg(path: Path, seed: int) -> None:
    """4000×3000, smooth scene + sensor noise + EXIF, quality 92: ≈ a phone photo's cost."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (12, 16, 3), dtype=np.uint8)
    base = np.asarray(Image.fromarray(small).resize((4000, 3000), Image.Resampling.BICUBIC))
    noisy = np.clip(base + rng.normal(0, 6, base.shape), 0, 255).astype(np.uint8)
    exif = Image.Exif()
    exif[271], exif[272] = "BenchCam", "Model 12"
    exif.get_ifd(0x8769)[36867] = "2024:05:06 07:08:09"
    Image.fromarray(noisy).save(path, "JPEG", quality=92, exif=exif)


def make_photos(folder: Path, count: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"IMG_{i:04d}.jpg" for i in range(count)]
    missing = [(seed, path) for seed, path in enumerate(paths) if not path.exists()]
    with ThreadPoolExecutor(os.cpu_count()) as pool:
        list(pool.map(lambda item: camera_jpeg(item[1], item[0]), missing))
    return paths


def decode_bound(paths: list[Path]) -> float:
    """Photos/s when only reading and decoding at the reduced size, on all cores."""
    started = time.perf_counter()
    with ThreadPoolExecutor(os.cpu_count()) as pool:
        list(pool.map(lambda p: decode_bytes(read_file_bytes(p), str(p)).image.size, paths))
    return len(paths) / (time.perf_counter() - started)


def indexing_rate(paths: list[Path], data_dir: Path) -> tuple[float, float]:
    with Library(data_dir, device="cpu") as library:
        library.embedder()  # model load and first-run export are not indexing
        library.add_roots([paths[0].parent])
        report = library.update()
        return report.photos_per_s, report.elapsed_s


def search_latency(data_dir: Path, items: int, query: Path) -> dict[str, float]:
    """One dropped photo (decode + embed + k-NN + lookup) against `items` catalogued photos."""
    library = Library(data_dir, device="cpu")
    key = IndexKey(library.info.name, library.info.version, library.info.dim)
    catalog = library.catalog
    rng = np.random.default_rng(7)
    centres = l2_normalise(rng.standard_normal((2000, key.dim)).astype(np.float32))
    root = catalog.add_root(data_dir / "synthetic")
    started = time.perf_counter()
    with catalog.transaction():
        for start in range(0, items, 5000):
            count = min(5000, items - start)
            noise = rng.standard_normal((count, key.dim)).astype(np.float32) * 0.08
            vectors = l2_normalise(centres[rng.integers(0, 2000, count)] + noise)
            for offset, vector in enumerate(vectors):
                path = str(data_dir / "synthetic" / f"{start + offset:06d}.jpg")
                file_id = catalog.upsert_seen(root.id, path, 1, 1)
                catalog.mark_ok(file_id, PhotoMetadata(f"h{file_id}", 1, 1, "JPEG", None), b"")
                catalog.put_vector(file_id, key.method, key.version, vector)
    filled = time.perf_counter() - started
    started = time.perf_counter()
    index = library.index
    build = time.perf_counter() - started
    library.index.save()
    embedder = library.embedder()
    embed_images(embedder, [decode_file(query).image])  # warm-up
    timings = []
    for _ in range(20):
        started = time.perf_counter()
        hits = library.search_image(decode_file(query).image, k=50)
        timings.append(time.perf_counter() - started)
        assert len(hits) == 50
    knn = []
    probe = centres[:1]
    for _ in range(200):
        started = time.perf_counter()
        index.query(probe, 50)
        knn.append(time.perf_counter() - started)
    catalog_bytes = sum(p.stat().st_size for p in data_dir.glob("catalog.sqlite3*"))
    library.close()
    return {
        "catalogue_fill_s": filled,
        "index_build_s": build,
        "search_median_ms": statistics.median(timings) * 1000,
        "search_p95_ms": sorted(timings)[int(0.95 * len(timings)) - 1] * 1000,
        "knn_median_ms": statistics.median(knn) * 1000,
        "index_bytes_per_photo": index.path.stat().st_size / items,
        "catalogue_bytes_per_photo_no_thumbnail": catalog_bytes / items,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--photos", type=int, default=96)
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--out", type=Path, default=Path("bench-out"))
    args = parser.parse_args(argv)
    photos = make_photos(args.out / "camera-12mp", args.photos)
    print(f"{len(photos)} camera-like 12 MP JPEGs, {photos[0].stat().st_size / 2**20:.1f} MiB each")
    bound = decode_bound(photos)
    print(
        f"decode-only bound (reduced-size decode, {os.cpu_count()} threads): {bound:.1f} photos/s"
    )
    with tempfile.TemporaryDirectory() as data:
        rate, elapsed = indexing_rate(photos, Path(data))
        thumbs = Catalog(Path(data) / "catalog.sqlite3")
        per_thumb = thumbs._conn.execute("SELECT AVG(LENGTH(jpeg)) FROM thumbnails").fetchone()[0]
        thumbs.close()
    print(
        f"indexing (read + hash + decode + thumbnail + embed + store): {rate:.1f} photos/s "
        f"in {elapsed:.1f} s = {rate / bound:.2f}× the bound"
    )
    print(f"stored thumbnail: {per_thumb / 1024:.1f} KiB per photo")
    with tempfile.TemporaryDirectory() as data:
        figures = search_latency(Path(data), args.items, photos[0])
    print(
        f"{args.items} photos indexed (synthetic vectors): catalogue filled in "
        f"{figures['catalogue_fill_s']:.1f} s, hnswlib built in {figures['index_build_s']:.1f} s"
    )
    print(
        f"search for one dropped 12 MP photo (decode + embed + k-NN + lookup), model loaded: "
        f"median {figures['search_median_ms']:.1f} ms, p95 {figures['search_p95_ms']:.1f} ms"
    )
    print(f"k-NN alone (k=50): median {figures['knn_median_ms']:.2f} ms")
    print(
        f"index on disk: {figures['index_bytes_per_photo']:.0f} bytes per photo; catalogue "
        f"without thumbnails: {figures['catalogue_bytes_per_photo_no_thumbnail']:.0f} bytes "
        "per photo"
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak resident memory of this benchmark process: {peak:.0f} MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
