"""The library of real photo content that benchmarks.scale measures: planned deterministically
from `--seed` over the caltech101-dev photos, and streamed to disk one JPEG at a time (all
cores, bounded memory):
- pictures: mosaics of 2–4 photos, each tile a crop of a different photo with its own mirror
  and colour, 300–800 px on the long side; every picture is a different combination;
- EDITED_SHARE edited copies of pictures (photofinder.core.evaluation.edits, every kind in
  turn), IDENTICAL_SHARE byte-identical files, SCENE_SHARE other shots of a picture's scene
  (each tile reframed, one tile's subject swapped for another photo of its class, the camera
  tilted by a few degrees);
- QUERIES query photos outside the library: edited copies of other pictures.
Files are named by a seeded permutation, so copies lie among the others. The plan knows what
each pair of files is (identical, edited, scene, shared crop, unrelated): the truth the
duplicate search is scored against."""

from __future__ import annotations

import functools
import io
import json
import math
import multiprocessing
import os
import random
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageEnhance

from benchmarks.duplicates import SAME_PICTURES, same_pictures
from benchmarks.heldout import PHOTO_SUFFIXES
from photofinder.core.evaluation.edits import EDIT_KINDS, EDITS, SAVE_QUALITY, edit_rng
from photofinder.core.evaluation.neardup import load_original

PLAN_VERSION = 1
EDITED_SHARE = 0.02
IDENTICAL_SHARE = 0.005
SCENE_SHARE = 0.01
QUERIES = 200
MIN_PHOTOS = 1000
FOLDER_SIZE = 1000
LONG_SIDE = (300, 800)
ASPECTS = (4 / 3, 3 / 2, 1.0, 16 / 9)
PORTRAIT_SHARE = 0.25
TILE_COUNTS = (2, 3, 4)
SPLIT = (0.35, 0.65)  # where a cell is cut, as a share of its side
CROP_AREA = (0.35, 0.9)  # of the largest box of the cell's aspect that fits in the photo
COLOUR = (0.75, 1.25)  # brightness, contrast and saturation factors of a tile
SCENE_SHIFT = (0.08, 0.15)  # of the crop's size
SCENE_ZOOM = (0.85, 1.15)
SCENE_COLOUR = (0.95, 1.05)
SCENE_TILT_DEGREES = (1.0, 3.0)
SHARED_CROP = 0.25  # overlap, of the smaller crop, at which two crops of one photo share content
JPEG_QUALITY = 88
CHUNK = 32
ORIENTATION_TAG = 0x0112
TURNED_ORIENTATIONS = {5, 6, 7, 8}
RELATIONS = ("identical", "edited", "scene", "shared crop", "unrelated")

Box = tuple[int, int, int, int]  # left, top, right, bottom


@dataclass(frozen=True)
class Source:
    """One data-set photo: its path, its upright size, its class and its picture (its own
    name, or the one name of the photos the data set holds as one picture)."""

    path: str
    size: tuple[int, int]
    label: str
    picture: str


@dataclass(frozen=True)
class Tile:
    """A crop of one source photo, drawn into one cell of a picture."""

    photo: int
    box: Box
    cell: Box
    mirrored: bool
    colour: tuple[float, float, float]


@dataclass(frozen=True)
class Picture:
    """What a file shows: its size, its tiles and the camera's tilt in degrees."""

    size: tuple[int, int]
    tiles: tuple[Tile, ...]
    tilt: float = 0.0


@dataclass(frozen=True)
class Role:
    """What the plan made a file: a base picture, or an edited / identical / scene file of
    one (`base`); `edit` names the edit of an edited file."""

    kind: str
    base: int
    edit: str = ""


def read_sources(data: Path, listing: Path = SAME_PICTURES) -> list[Source]:
    """The data set's photos, sorted, with their upright sizes (headers only) and pictures
    (benchmarks/caltech101_dev_same_pictures.txt)."""
    picture_of = {name: names[0] for names in same_pictures(listing) for name in names}
    sources = []
    for path in sorted(p for p in data.glob("*/*") if p.suffix.lower() in PHOTO_SUFFIXES):
        with Image.open(path) as img:
            width, height = img.size
            if img.getexif().get(ORIENTATION_TAG, 1) in TURNED_ORIENTATIONS:
                width, height = height, width
        name = f"{path.parent.name}/{path.name}"
        sources.append(Source(str(path), (width, height), path.parent.name,
                              picture_of.get(name, name)))
    return sources


def split_box(box: Box, share: float, across: bool) -> tuple[Box, Box]:
    """Cut a box in two: with a vertical line when `across`, else a horizontal one."""
    left, top, right, bottom = box
    if across:
        cut = left + round((right - left) * share)
        return (left, top, cut, bottom), (cut, top, right, bottom)
    cut = top + round((bottom - top) * share)
    return (left, top, right, cut), (left, cut, right, bottom)


def split_cells(size: tuple[int, int], count: int, rng: random.Random) -> list[Box]:
    """2, 3 or 4 cells covering a picture: one cut, then one or both halves cut across it."""
    width, height = size
    across = (width >= height) == (rng.random() < 0.75)
    first, second = split_box((0, 0, width, height), rng.uniform(*SPLIT), across)
    if count == 2:
        return [first, second]
    if count == 3:
        return [first, *split_box(second, rng.uniform(*SPLIT), not across)]
    return [*split_box(first, rng.uniform(*SPLIT), not across),
            *split_box(second, rng.uniform(*SPLIT), not across)]


def box_size(box: Box) -> tuple[int, int]:
    """Width and height of a box."""
    return box[2] - box[0], box[3] - box[1]


def overlap(a: Box, b: Box) -> float:
    """The area two boxes share, as a share of the smaller one."""
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    if width <= 0 or height <= 0:
        return 0.0
    smaller = min(math.prod(box_size(a)), math.prod(box_size(b)))
    return width * height / max(smaller, 1)


class Plan:
    """Which file is what and what it shows: a function of the sources, the number of files
    and the seed only, so every process derives the same plan."""

    def __init__(self, sources: Sequence[Source], photos: int, seed: int) -> None:
        if photos < MIN_PHOTOS:
            raise SystemExit(f"scale: --photos must be at least {MIN_PHOTOS}")
        self.sources = list(sources)
        self.photos = photos
        self.seed = seed
        self.edited = round(photos * EDITED_SHARE)
        self.identical = round(photos * IDENTICAL_SHARE)
        self.scenes = round(photos * SCENE_SHARE)
        self.bases = photos - self.edited - self.identical - self.scenes
        rng = np.random.default_rng(seed)
        planted = self.edited + self.identical + self.scenes
        drawn = rng.choice(self.bases, planted + QUERIES, replace=False)
        self.derived_from = [int(b) for b in drawn[:planted]]
        self.query_bases = [int(b) for b in drawn[planted:]]
        self.position = rng.permutation(photos)
        self.file_at = np.argsort(self.position)
        self.by_label: dict[str, list[int]] = {}
        for number, source in enumerate(self.sources):
            self.by_label.setdefault(source.label, []).append(number)

    def role(self, index: int) -> Role:
        """What file `index` is."""
        if index < self.bases:
            return Role("base", index)
        derived = index - self.bases
        base = self.derived_from[derived]
        if derived < self.edited:
            return Role("edited", base, EDIT_KINDS[derived % len(EDIT_KINDS)])
        if derived < self.edited + self.identical:
            return Role("identical", base)
        return Role("scene", base)

    def name(self, index: int) -> str:
        """File `index`'s path inside the library folder."""
        position = int(self.position[index])
        return f"{position // FOLDER_SIZE:04d}/{position:07d}.jpg"

    def index_of(self, path: str) -> int:
        """The file index of a library path."""
        return int(self.file_at[int(Path(path).stem)])

    @functools.lru_cache(maxsize=65536)  # noqa: B019 (one plan per process, for its lifetime)
    def picture(self, index: int) -> Picture:
        """What file `index` shows (an edited or identical file shows its base's picture)."""
        role = self.role(index)
        if role.kind == "base":
            return self.base_picture(index)
        if role.kind == "scene":
            return self.scene_picture(self.picture(role.base), index)
        return self.picture(role.base)

    def base_picture(self, index: int) -> Picture:
        """A mosaic of 2–4 crops of different photos."""
        rng = random.Random(f"{self.seed}:picture:{index}")
        long_side = rng.randint(*LONG_SIDE)
        size = (long_side, round(long_side / rng.choice(ASPECTS)))
        if rng.random() < PORTRAIT_SHARE:
            size = (size[1], size[0])
        cells = split_cells(size, rng.choice(TILE_COUNTS), rng)
        photos = rng.sample(range(len(self.sources)), len(cells))
        return Picture(size, tuple(self.tile(rng, p, c) for p, c in zip(photos, cells,
                                                                          strict=True)))

    def tile(self, rng: random.Random, photo: int, cell: Box) -> Tile:
        """A crop of `photo` of the cell's aspect, at a random place, mirror and colour."""
        source_width, source_height = self.sources[photo].size
        cell_width, cell_height = box_size(cell)
        aspect = cell_width / cell_height
        widest = min(source_width, source_height * aspect)
        scale = math.sqrt(rng.uniform(*CROP_AREA))
        width = max(1, min(source_width, round(widest * scale)))
        height = max(1, min(source_height, round(widest / aspect * scale)))
        left = rng.randint(0, source_width - width)
        top = rng.randint(0, source_height - height)
        colour = (rng.uniform(*COLOUR), rng.uniform(*COLOUR), rng.uniform(*COLOUR))
        return Tile(photo, (left, top, left + width, top + height), cell, rng.random() < 0.5,
                    colour)

    def scene_picture(self, base: Picture, index: int) -> Picture:
        """Another shot of the base's scene: each crop moved and zoomed a little, one tile's
        subject replaced by another photo of its class, the camera tilted."""
        rng = random.Random(f"{self.seed}:scene:{index}")
        swapped = rng.randrange(len(base.tiles))
        used = {t.photo for t in base.tiles}
        tiles = []
        for number, tile in enumerate(base.tiles):
            if number == swapped:
                label = self.sources[tile.photo].label
                others = [p for p in self.by_label[label] if p not in used]
                tiles.append(self.tile(rng, rng.choice(others), tile.cell))
            else:
                tiles.append(self.reframed(rng, tile))
        tilt = rng.uniform(*SCENE_TILT_DEGREES) * rng.choice((-1.0, 1.0))
        return Picture(base.size, tuple(tiles), tilt)

    def reframed(self, rng: random.Random, tile: Tile) -> Tile:
        """The same crop shifted and zoomed a little, its colour nudged."""
        source_width, source_height = self.sources[tile.photo].size
        width, height = box_size(tile.box)
        zoom = rng.uniform(*SCENE_ZOOM)
        new_width = max(1, min(source_width, round(width * zoom)))
        new_height = max(1, min(source_height, round(height * zoom)))
        centre_x = (tile.box[0] + tile.box[2]) / 2 + rng.choice((-1, 1)) * rng.uniform(
            *SCENE_SHIFT) * width
        centre_y = (tile.box[1] + tile.box[3]) / 2 + rng.choice((-1, 1)) * rng.uniform(
            *SCENE_SHIFT) * height
        left = min(max(0, round(centre_x - new_width / 2)), source_width - new_width)
        top = min(max(0, round(centre_y - new_height / 2)), source_height - new_height)
        red, green, blue = (c * rng.uniform(*SCENE_COLOUR) for c in tile.colour)
        return Tile(tile.photo, (left, top, left + new_width, top + new_height), tile.cell,
                    tile.mirrored, (red, green, blue))

    def shares_crop(self, a: int, b: int) -> bool:
        """Whether two files' pictures crop one photo at overlapping places, or crop two
        photos the data set holds as one picture."""
        tiles = self.picture(b).tiles
        return any(self.same_content(ta, tb) for ta in self.picture(a).tiles for tb in tiles)

    def same_content(self, a: Tile, b: Tile) -> bool:
        """Whether two tiles show one part of one picture."""
        if a.photo == b.photo:
            return overlap(a.box, b.box) >= SHARED_CROP
        return self.sources[a.photo].picture == self.sources[b.photo].picture

    def relation(self, a: int, b: int) -> str:
        """What the plan makes a pair of files (one of RELATIONS)."""
        role_a, role_b = self.role(a), self.role(b)
        if role_a.base == role_b.base:
            return role_b.kind if role_a.kind == "base" else role_a.kind
        return "shared crop" if self.shares_crop(a, b) else "unrelated"

    def planted_pairs(self, kinds: set[str]) -> set[tuple[int, int]]:
        """(base, file) for every planted file of those kinds."""
        pairs: set[tuple[int, int]] = set()
        for index in range(self.bases, self.photos):
            role = self.role(index)
            if role.kind in kinds:
                pairs.add((min(role.base, index), max(role.base, index)))
        return pairs

    def render(self, picture: Picture) -> Image.Image:
        """Draw a picture from its source photos."""
        canvas = Image.new("RGB", picture.size)
        for tile in picture.tiles:
            with load_original(Path(self.sources[tile.photo].path)) as photo:
                part = photo.crop(tile.box).resize(box_size(tile.cell),
                                                   Image.Resampling.BICUBIC)
            if tile.mirrored:
                part = part.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
            brightness, contrast, saturation = tile.colour
            part = ImageEnhance.Brightness(part).enhance(brightness)
            part = ImageEnhance.Contrast(part).enhance(contrast)
            part = ImageEnhance.Color(part).enhance(saturation)
            canvas.paste(part, tile.cell[:2])
        return tilted(canvas, picture.tilt) if picture.tilt else canvas

    def file_bytes(self, index: int) -> bytes:
        """The JPEG file of file `index`."""
        role = self.role(index)
        if role.kind == "identical":
            return self.file_bytes(role.base)
        if role.kind == "edited":
            image = self.render(self.picture(role.base))
            edited = EDITS[role.edit](image, edit_rng(f"file {index}", role.edit, self.seed))
            return jpeg(edited, SAVE_QUALITY)
        return jpeg(self.render(self.picture(index)), JPEG_QUALITY)

    def query_bytes(self, number: int) -> bytes:
        """Query photo `number`: an edited copy of a picture not otherwise copied."""
        kind = EDIT_KINDS[number % len(EDIT_KINDS)]
        image = self.render(self.picture(self.query_bases[number]))
        return jpeg(EDITS[kind](image, edit_rng(f"query {number}", kind, self.seed)),
                    SAVE_QUALITY)


def tilted(image: Image.Image, degrees: float) -> Image.Image:
    """The image turned by a few degrees, cropped to its inside and scaled back to its size."""
    width, height = image.size
    turned = image.rotate(degrees, Image.Resampling.BICUBIC)
    sine = math.sin(math.radians(abs(degrees)))
    margin_x, margin_y = math.ceil(height * sine), math.ceil(width * sine)
    inside = turned.crop((margin_x, margin_y, width - margin_x, height - margin_y))
    return inside.resize((width, height), Image.Resampling.BICUBIC)


def jpeg(image: Image.Image, quality: int) -> bytes:
    """The image as JPEG bytes."""
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def write_atomically(path: Path, data: bytes) -> None:
    """Write a file under a temporary name first, so an interrupted run leaves no half file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".part")
    partial.write_bytes(data)
    os.replace(partial, path)


# --- generation (worker processes) -------------------------------------------------------------
_WORKER_PLAN: list[Plan] = []


def _start_worker(sources: list[Source], photos: int, seed: int) -> None:
    _WORKER_PLAN[:] = [Plan(sources, photos, seed)]


def _write_files(job: tuple[Path, Sequence[int]]) -> int:
    """Write the library files of the job that are not there yet; how many it wrote."""
    folder, indices = job
    plan = _WORKER_PLAN[0]
    written = 0
    for index in indices:
        path = folder / "library" / plan.name(index)
        if not path.exists():
            write_atomically(path, plan.file_bytes(index))
            written += 1
    plan.picture.cache_clear()  # keeps each worker's memory bounded
    return written


def _write_queries(job: tuple[Path, Sequence[int]]) -> int:
    folder, numbers = job
    plan = _WORKER_PLAN[0]
    for number in numbers:
        path = query_path(folder, number)
        if not path.exists():
            write_atomically(path, plan.query_bytes(number))
    return len(numbers)


def query_path(folder: Path, number: int) -> Path:
    """Where query photo `number` is written (outside the library folder)."""
    return folder / "queries" / f"query-{number:04d}.jpg"


def chunks(folder: Path, count: int) -> Iterator[tuple[Path, range]]:
    """Jobs of CHUNK consecutive indices."""
    for start in range(0, count, CHUNK):
        yield folder, range(start, min(count, start + CHUNK))


def check_folder(folder: Path, plan: Plan, data: Path) -> None:
    """Record what the folder holds, or stop when it holds another plan's files."""
    folder.mkdir(parents=True, exist_ok=True)
    record = {"version": PLAN_VERSION, "photos": plan.photos, "seed": plan.seed,
              "sources": len(plan.sources), "data": str(data.resolve())}
    listing = folder / "plan.json"
    if listing.exists() and json.loads(listing.read_text()) != record:
        raise SystemExit(f"scale: {folder} holds another set ({listing.read_text().strip()}); "
                         f"give another --keep folder")
    listing.write_text(json.dumps(record) + "\n")


def generate(folder: Path, plan: Plan, data: Path, workers: int) -> None:
    """Write whatever is missing of the library and the queries, on `workers` processes."""
    check_folder(folder, plan, data)
    started = time.perf_counter()
    written = 0
    context = multiprocessing.get_context("spawn")
    with context.Pool(workers, _start_worker, (plan.sources, plan.photos, plan.seed)) as pool:
        step = max(1, plan.photos // 10)
        done = 0
        for count in pool.imap_unordered(_write_files, chunks(folder, plan.photos)):
            written += count
            done += CHUNK
            if done % step < CHUNK and done < plan.photos:
                print(f"  generating: {done} of {plan.photos} files ({written} written)",
                      flush=True)
        for _ in pool.imap_unordered(_write_queries, chunks(folder, QUERIES)):
            pass
    print(f"photos: {plan.photos} files in {folder / 'library'}: {plan.bases} mosaics of 2–4 "
          f"Caltech photos, {plan.edited} edited copies, {plan.identical} identical files, "
          f"{plan.scenes} other shots of a scene; {QUERIES} query photos outside it "
          f"({written} files written in {time.perf_counter() - started:.0f} s, "
          f"{plan.photos - written} already there)")
