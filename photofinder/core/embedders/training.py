"""Training the two trained methods (fine-tuned, SimCLR), usable from the CLI and the GUI.

* `train_finetune`: labels are album (parent folder) names. The frozen trunk's activations
  are computed once per photo and cached (`<cache>/training/`), so an epoch only runs the
  trainable stage (block 15 + head + projection) — seconds per epoch on a CPU. Loss:
  cosine-softmax cross-entropy against one learned proxy per album (temperature 0.1),
  proxies initialised at the album means of the starting (default-method) vectors.
* `train_simclr`: no labels. Two augmented views per photo (random resized crop, flip,
  colour jitter, grayscale, blur); since augmentation changes the input, the trunk cannot be
  cached: it stays frozen and runs forward-only through ONNX Runtime at full 224×224
  (≈5 ms a view on 2 cores), only the stage + an MLP head (256→256→128, dropped after
  training) get gradients. Loss: NT-Xent. Photos are held in memory as ≤320 px JPEGs.

Both report progress through a callback, stop between batches on a CancelToken, checkpoint
after every epoch (`<models>/<method>.checkpoint.pt`) and resume from it when the same
photos and settings are trained again. The finished weights become a new method version."""

from __future__ import annotations

import hashlib
import io
import math
import random
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageEnhance, ImageFilter, ImageOps

from photofinder.core.embedders import efficientnet_lite0, finetune, simclr
from photofinder.core.embedders.codebook import load_state, save_state
from photofinder.core.embedders.devices import require_torch_extra
from photofinder.core.embedders.trainable import (
    EMBED_DIM,
    INPUT_SIZE,
    SPLIT,
    TRUNK_SHAPE,
    TrainedMethod,
    build_stage,
    freeze_batchnorm,
    trunk_cache_key,
    trunk_runner,
)
from photofinder.core.errors import PhotoFinderError, PhotoReadError
from photofinder.core.photos.imageio import decode_file
from photofinder.core.photos.scan import photo_paths
from photofinder.core.progress import (
    Cancelled,
    CancelToken,
    Progress,
    ProgressCallback,
    RateMeter,
    ignore_progress,
)
from photofinder.core.storage.atomic import atomic_path

if TYPE_CHECKING:
    import torch

KINDS = ("finetune", "simclr")
METHODS: dict[str, TrainedMethod] = {"finetune": finetune.METHOD, "simclr": simclr.METHOD}
DECODE_THREADS = 2
SIMCLR_KEEP_SIDE = 320  # photos are kept in memory as JPEGs this size for augmentation


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 8
    batch_size: int = 64
    lr: float = 1e-4  # the last MBConv block, conv head, batch-norm affine
    head_lr: float = 1e-3  # projection, album proxies, SimCLR MLP
    weight_decay: float = 1e-4
    temperature: float = 0.1
    seed: int = 0

    def key(self) -> str:
        """Everything but the epoch count: a checkpoint resumes only under the same key."""
        values = {k: v for k, v in asdict(self).items() if k != "epochs"}
        return repr(sorted(values.items()))


SIMCLR_DEFAULTS = TrainConfig(epochs=3, temperature=0.2)


@dataclass
class TrainReport:
    kind: str
    method: str
    version: str = ""
    photos: int = 0
    classes: int = 0
    epochs: int = 0
    epochs_done: int = 0
    resumed_from: int = 0  # epochs already done by a checkpoint when this run started
    losses: list[float] = field(default_factory=list)  # mean loss of each epoch
    elapsed_s: float = 0.0
    skipped: list[tuple[str, str]] = field(default_factory=list)  # unreadable photos
    cancelled: bool = False
    weights: str = ""

    def to_json(self) -> dict[str, Any]:
        payload = asdict(self)
        payload["skipped"] = [{"path": p, "reason": r} for p, r in self.skipped]
        return payload


# --- photos -------------------------------------------------------------------------------
def find_photos(folder: Path) -> list[Path]:
    """Photo files below `folder` by the indexer's rules (hidden and system folders skipped),
    sorted."""
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise PhotoFinderError(f"not a folder: {folder}")
    return photo_paths(folder)


def labelled_photos(
    folder: Path, limit_per_class: int | None = None, seed: int = 0
) -> list[tuple[Path, str]]:
    """(photo, label) pairs, sorted, for the photos in sub-folders of `folder`: the label is the
    name of the photo's own folder (its album, or class). `limit_per_class`: a seeded sample of
    at most that many photos per label."""
    folder = Path(folder).expanduser()
    by_label: dict[str, list[Path]] = {}
    for path in find_photos(folder):
        if path.parent != folder:  # photos loose in `folder` belong to no album
            by_label.setdefault(path.parent.name, []).append(path)
    labelled: list[tuple[Path, str]] = []
    for label, photos in by_label.items():
        if limit_per_class is not None and len(photos) > limit_per_class:
            photos = random.Random(f"{seed}:{label}").sample(photos, limit_per_class)
        labelled.extend((path, label) for path in photos)
    return sorted(labelled)


def check_labels(labels: Sequence[str]) -> None:
    classes = sorted(set(labels))
    if len(classes) < 2:
        found = f"only {classes[0]!r}" if classes else "none"
        raise PhotoFinderError(
            "fine-tuning needs labelled photos in at least 2 albums (sub-folders, the folder "
            f"name is the label) with photos in them; found {found}")


def _dataset_digest(paths: Sequence[Path], labels: Sequence[str] | None = None) -> str:
    digest = hashlib.sha256(trunk_cache_key().encode())
    for i, path in enumerate(paths):
        try:
            stat = path.stat()
            stamp = f"{stat.st_size}:{stat.st_mtime_ns}"
        except OSError:
            stamp = "missing"
        label = labels[i] if labels is not None else ""
        digest.update(f"{path}\0{stamp}\0{label}\n".encode())
    return digest.hexdigest()[:16]


def _decode(path: Path) -> Image.Image | str:
    try:
        return decode_file(path).image
    except PhotoReadError as exc:
        return exc.full_reason


def trunk_activations(
    paths: Sequence[Path],
    device: str,
    cache_dir: Path,
    progress: ProgressCallback = ignore_progress,
    cancel: CancelToken | None = None,
    batch: int = 32,
) -> tuple[npt.NDArray[np.float16], list[str]]:
    """(N, 192, 7, 7) float16 trunk outputs of the photos (squashed to 224), cached on disk
    per photo list (paths, sizes, mtimes), and the failure reason per photo ('' = fine)."""
    folder = cache_dir / "training"
    target = folder / f"trunk{SPLIT}-{_dataset_digest(paths)}.npz"
    if target.is_file():
        try:
            state = load_state(target)
            acts = np.asarray(state["acts"], np.float16)
            reasons = [str(r) for r in state["reasons"]]
            if len(acts) == len(paths):
                return acts, reasons
        except (OSError, ValueError, KeyError):
            pass
    run = trunk_runner(device, cache_dir)
    acts = np.zeros((len(paths), *TRUNK_SHAPE), np.float16)
    reasons = [""] * len(paths)
    meter = RateMeter()
    with ThreadPoolExecutor(DECODE_THREADS) as pool:
        for start in range(0, len(paths), batch):
            if cancel is not None:
                cancel.checkpoint()
            chunk = list(paths[start:start + batch])
            pixels = []
            rows = []
            for offset, image in enumerate(pool.map(_decode, chunk)):
                if isinstance(image, str):
                    reasons[start + offset] = image
                    continue
                pixels.append(efficientnet_lite0.prepare(image))
                rows.append(start + offset)
            if pixels:
                acts[rows] = run(np.stack(pixels)).astype(np.float16)
            done = start + len(chunk)
            rate = meter.update(done)
            progress(Progress("caching trunk activations", done, len(paths), rate,
                              meter.eta(done, len(paths), rate)))
    for old in folder.glob(f"trunk{SPLIT}-*.npz"):  # keep one cache: the latest photo list
        old.unlink(missing_ok=True)
    save_state(target, {"acts": acts, "reasons": np.array(reasons)})
    return acts, reasons


# --- augmentation (SimCLR) ------------------------------------------------------------------
def augment(image: Image.Image, rng: np.random.Generator, size: int = INPUT_SIZE) -> Image.Image:
    """A SimCLR view: random resized crop (25–100 % of the area, aspect 3/4–4/3) to
    size×size, horizontal flip, colour jitter (p 0.8), grayscale (p 0.2), blur (p 0.5)."""
    w, h = image.size
    for _ in range(10):
        area = rng.uniform(0.25, 1.0) * w * h
        ratio = math.exp(rng.uniform(math.log(3 / 4), math.log(4 / 3)))
        cw, ch = round(math.sqrt(area * ratio)), round(math.sqrt(area / ratio))
        if 0 < cw <= w and 0 < ch <= h:
            break
    else:
        cw, ch = w, h
    left, top = int(rng.integers(0, w - cw + 1)), int(rng.integers(0, h - ch + 1))
    view = image.resize((size, size), Image.Resampling.BILINEAR,
                        box=(left, top, left + cw, top + ch))
    if rng.random() < 0.5:
        view = view.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    if rng.random() < 0.8:
        view = ImageEnhance.Brightness(view).enhance(rng.uniform(0.6, 1.4))
        view = ImageEnhance.Contrast(view).enhance(rng.uniform(0.6, 1.4))
        view = ImageEnhance.Color(view).enhance(rng.uniform(0.6, 1.4))
        shift = int(rng.integers(-25, 26))  # hue ±0.1 of the circle
        if shift:
            hue, sat, val = view.convert("HSV").split()
            hue = hue.point(lambda v: (v + shift) % 256)
            view = Image.merge("HSV", (hue, sat, val)).convert("RGB")
    if rng.random() < 0.2:
        view = ImageOps.grayscale(view).convert("RGB")
    if rng.random() < 0.5:
        view = view.filter(ImageFilter.GaussianBlur(float(rng.uniform(0.1, 2.0))))
    return view


def _small_jpeg(path: Path) -> bytes | str:
    decoded = _decode(path)
    if isinstance(decoded, str):
        return decoded
    decoded.thumbnail((SIMCLR_KEEP_SIDE, SIMCLR_KEEP_SIDE), Image.Resampling.BILINEAR)
    buffer = io.BytesIO()
    decoded.save(buffer, "JPEG", quality=92)
    return buffer.getvalue()


def _view_pixels(job: tuple[bytes, int]) -> npt.NDArray[np.float32]:
    data, seed = job
    with Image.open(io.BytesIO(data)) as image:
        view = augment(image.convert("RGB"), np.random.default_rng(seed))
    return efficientnet_lite0.prepare(view)


def nt_xent(a: torch.Tensor, b: torch.Tensor, temperature: float) -> torch.Tensor:
    """SimCLR's loss: each view must pick its partner among the other 2N−1 views."""
    import torch
    import torch.nn.functional as F  # noqa: N812

    z = F.normalize(torch.cat([a, b]), dim=1)
    n = a.shape[0]
    sims = (z @ z.T) / temperature
    sims = sims.masked_fill(torch.eye(2 * n, dtype=torch.bool), float("-inf"))
    targets = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)])
    return F.cross_entropy(sims, targets)


# --- the loop ---------------------------------------------------------------------------------
BatchLoss = Callable[[list[int], int], "torch.Tensor"]  # (photo indices, step seed) → loss


def _load_checkpoint(path: Path, key: str) -> dict[str, Any] | None:
    import torch

    if not path.is_file():
        return None
    try:
        checkpoint: dict[str, Any] = torch.load(path, map_location="cpu", weights_only=True)
    except Exception:  # a damaged checkpoint: start again
        return None
    return checkpoint if checkpoint.get("key") == key else None


MIN_BATCH = 2  # SimCLR's loss needs each view's partner and one other photo in the batch
STEP_SEED_STRIDE = 1_000_003  # a prime: the per-step seeds of two training seeds never overlap


@dataclass(frozen=True, eq=False)
class TrainingJob:
    """One method's part of a training run: what the shared loop trains, on how many photos."""

    kind: str  # a key of METHODS
    count: int  # photos to train on (indices 0..count-1 go to batch_loss)
    key: str  # a checkpoint resumes only under the same key
    stage: torch.nn.Module  # the trainable stage that becomes the method's weights
    head: torch.nn.Module  # trained beside the stage, dropped after training
    batch_loss: BatchLoss
    init_head: Callable[[], None]  # run when no checkpoint resumes
    meta: dict[str, str]  # stored with the weights


@dataclass(frozen=True)
class TrainingRun:
    """Where a run writes, how it reports, and what can stop it."""

    models_dir: Path
    report: TrainReport
    progress: ProgressCallback = ignore_progress
    cancel: CancelToken | None = None


def _optimizer(job: TrainingJob, config: TrainConfig) -> torch.optim.Optimizer:
    """AdamW: the stage at `lr`, its projection and the head at `head_lr`."""
    import torch

    stage, head = job.stage, job.head
    return torch.optim.AdamW(
        [{"params": [p for n, p in stage.named_parameters() if not n.startswith("proj.")],
          "lr": config.lr},
         {"params": [*stage.proj.parameters(), *head.parameters()],  # type: ignore[union-attr]
          "lr": config.head_lr}],
        weight_decay=config.weight_decay)


def _resume(
    job: TrainingJob, config: TrainConfig, optimizer: torch.optim.Optimizer, run: TrainingRun
) -> int:
    """Load a matching checkpoint (or initialise the head); returns the epochs already done."""
    checkpoint = _load_checkpoint(METHODS[job.kind].checkpoint_path(run.models_dir), job.key)
    start = 0
    if checkpoint is not None:
        job.stage.load_state_dict(checkpoint["stage"])
        job.head.load_state_dict(checkpoint["head"])
        optimizer.load_state_dict(checkpoint["optimizer"])
        start = min(int(checkpoint["epoch"]), config.epochs)
        run.report.losses = [float(x) for x in checkpoint["losses"]][:start]
    else:
        job.init_head()
    run.report.resumed_from = run.report.epochs_done = start
    return start


def _cosine_scale(done: int, total: int) -> float:
    """The learning-rate factor after `done` of `total` steps: cosine decay from 1 to 0."""
    return 0.5 * (1.0 + math.cos(math.pi * done / total))


@dataclass
class _Schedule:
    """Batches per epoch and the optimiser's starting learning rates."""

    batch: int
    steps: int  # full batches only (the remainder is in the next shuffle)
    epochs: int
    base_lrs: list[float]
    meter: RateMeter = field(default_factory=RateMeter)

    @property
    def total(self) -> int:
        return self.steps * self.epochs


def _train_epoch(
    job: TrainingJob,
    config: TrainConfig,
    optimizer: torch.optim.Optimizer,
    schedule: _Schedule,
    epoch: int,
    run: TrainingRun,
) -> float:
    """One pass over the photos in a seeded order; returns its mean loss."""
    batch, total = schedule.batch, schedule.total
    order = np.random.default_rng([config.seed, epoch]).permutation(job.count)
    if job.count < batch:
        order = np.resize(order, batch)
    job.stage.train()
    job.head.train()
    freeze_batchnorm(job.stage)
    losses: list[float] = []
    for step in range(schedule.steps):
        if run.cancel is not None:
            run.cancel.checkpoint()
        done = epoch * schedule.steps + step
        for group, base in zip(optimizer.param_groups, schedule.base_lrs, strict=True):
            group["lr"] = base * _cosine_scale(done, total)
        indices = [int(i) for i in order[step * batch:(step + 1) * batch]]
        loss = job.batch_loss(indices, config.seed * STEP_SEED_STRIDE + done)
        optimizer.zero_grad()
        loss.backward()  # type: ignore[no-untyped-call]
        optimizer.step()
        losses.append(float(loss.detach()))
        rate = schedule.meter.update((done + 1) * batch)
        run.progress(Progress(
            "training", done + 1, total, rate,
            schedule.meter.eta((done + 1) * batch, total * batch, rate),
            f"epoch {epoch + 1}/{config.epochs}, loss {np.mean(losses):.4f}"))
    return float(np.mean(losses))


def _save_checkpoint(
    job: TrainingJob, optimizer: torch.optim.Optimizer, epoch: int, run: TrainingRun
) -> None:
    """The state after `epoch` epochs, written atomically, for a later run to resume from."""
    import torch

    with atomic_path(METHODS[job.kind].checkpoint_path(run.models_dir)) as tmp:
        torch.save({"key": job.key, "epoch": epoch, "losses": run.report.losses,
                    "stage": job.stage.state_dict(), "head": job.head.state_dict(),
                    "optimizer": optimizer.state_dict()}, tmp)


def _save_weights(job: TrainingJob, config: TrainConfig, run: TrainingRun) -> None:
    """The trained stage as the method's new version; the checkpoint is no longer needed."""
    method = METHODS[job.kind]
    job.stage.eval()
    meta = {**job.meta, "kind": job.kind, "epochs": str(config.epochs),
            "losses": " ".join(f"{x:.5f}" for x in run.report.losses)}
    run.report.weights = str(method.save(run.models_dir, job.stage, meta))
    method.checkpoint_path(run.models_dir).unlink(missing_ok=True)
    run.report.version = method.info(run.models_dir).version


def _run(job: TrainingJob, config: TrainConfig, run: TrainingRun) -> TrainReport:
    """Train `job` for the configured epochs (resuming from a checkpoint), checkpointing after
    each epoch; the finished stage becomes the method's new version, unless cancelled."""
    optimizer = _optimizer(job, config)
    start = _resume(job, config, optimizer, run)
    batch = max(MIN_BATCH, config.batch_size)
    schedule = _Schedule(batch, max(1, job.count // batch), config.epochs,
                         [group["lr"] for group in optimizer.param_groups])
    report = run.report
    try:
        for epoch in range(start, config.epochs):
            report.losses.append(_train_epoch(job, config, optimizer, schedule, epoch, run))
            report.epochs_done = epoch + 1
            _save_checkpoint(job, optimizer, epoch + 1, run)
            run.progress(Progress("epoch", epoch + 1, config.epochs,
                                  message=f"loss {report.losses[-1]:.4f}"))
    except Cancelled:
        report.cancelled = True
        return report
    _save_weights(job, config, run)
    return report


def train_finetune(
    samples: Sequence[tuple[Path, str]],
    models_dir: Path,
    cache_dir: Path,
    config: TrainConfig = TrainConfig(),
    device: str = "cpu",
    progress: ProgressCallback = ignore_progress,
    cancel: CancelToken | None = None,
) -> TrainReport:
    """Fine-tune `efficientnet-lite0-ft` on (photo, album) pairs; see the module docstring."""
    require_torch_extra("training")
    import torch
    import torch.nn.functional as F  # noqa: N812

    started = time.monotonic()
    check_labels([label for _, label in samples])
    paths = [Path(p) for p, _ in samples]
    report = TrainReport("finetune", finetune.BASE.name, epochs=config.epochs)
    try:
        acts, reasons = trunk_activations(paths, device, cache_dir, progress, cancel)
    except Cancelled:
        report.cancelled = True
        return report
    keep = [i for i, reason in enumerate(reasons) if not reason]
    report.skipped = [(str(paths[i]), r) for i, r in enumerate(reasons) if r]
    labels = [samples[i][1] for i in keep]
    check_labels(labels)
    classes = sorted(set(labels))
    report.photos, report.classes = len(keep), len(classes)
    features = torch.from_numpy(acts[keep])
    targets = torch.tensor([classes.index(label) for label in labels])
    stage = build_stage()

    class Proxies(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.proxies = torch.nn.Parameter(torch.zeros(len(classes), EMBED_DIM))

    head = Proxies()

    def init_head() -> None:
        """Each album's proxy starts at the mean of its photos' starting vectors."""
        stage.eval()
        with torch.no_grad():
            vectors = torch.cat([stage(features[i:i + 256].float())
                                 for i in range(0, len(features), 256)])
            means = torch.zeros_like(head.proxies).index_add_(0, targets, vectors)
            head.proxies.copy_(F.normalize(means, dim=1))

    def batch_loss(indices: list[int], seed: int) -> torch.Tensor:
        del seed
        vectors = stage(features[indices].float())
        logits = vectors @ F.normalize(head.proxies, dim=1).T / config.temperature
        return F.cross_entropy(logits, targets[indices])

    key = f"finetune:{_dataset_digest([paths[i] for i in keep], labels)}:{config.key()}"
    job = TrainingJob("finetune", len(keep), key, stage, head, batch_loss, init_head,
                      {"albums": "\n".join(classes)})
    _run(job, config, TrainingRun(models_dir, report, progress, cancel))
    report.elapsed_s = time.monotonic() - started
    return report


def train_simclr(
    photos: Sequence[Path],
    models_dir: Path,
    cache_dir: Path,
    config: TrainConfig = SIMCLR_DEFAULTS,
    device: str = "cpu",
    progress: ProgressCallback = ignore_progress,
    cancel: CancelToken | None = None,
) -> TrainReport:
    """Train `efficientnet-lite0-simclr` on unlabelled photos; see the module docstring."""
    require_torch_extra("training")
    import torch

    started = time.monotonic()
    paths = [Path(p) for p in photos]
    report = TrainReport("simclr", simclr.BASE.name, epochs=config.epochs)
    images: list[bytes] = []
    kept: list[Path] = []
    with ThreadPoolExecutor(DECODE_THREADS) as pool:
        for done, (path, data) in enumerate(zip(paths, pool.map(_small_jpeg, paths),
                                                strict=True), 1):
            if cancel is not None and cancel.cancelled:
                report.cancelled = True
                return report
            if isinstance(data, str):
                report.skipped.append((str(path), data))
            else:
                images.append(data)
                kept.append(path)
            progress(Progress("loading photos", done, len(paths)))
    if len(images) < 2:
        raise PhotoFinderError(f"SimCLR needs at least 2 readable photos; found {len(images)}")
    report.photos = len(images)
    run_trunk = trunk_runner(device, cache_dir)
    stage = build_stage()
    with torch.random.fork_rng(devices=[]):  # a seeded MLP head, global RNG untouched
        torch.manual_seed(config.seed)
        head = torch.nn.Sequential(torch.nn.Linear(EMBED_DIM, 256), torch.nn.ReLU(),
                                   torch.nn.Linear(256, 128))
    pool = ThreadPoolExecutor(DECODE_THREADS)

    def batch_loss(indices: list[int], seed: int) -> torch.Tensor:
        seeds = np.random.default_rng(seed).integers(0, 2**62, 2 * len(indices))
        jobs = [(images[i], int(s)) for i, s in zip(indices * 2, seeds, strict=True)]
        pixels = np.stack(list(pool.map(_view_pixels, jobs)))
        trunk = torch.from_numpy(run_trunk(pixels))  # frozen: forward only
        z = head(stage(trunk))
        return nt_xent(z[:len(indices)], z[len(indices):], config.temperature)

    key = f"simclr:{_dataset_digest(kept)}:{config.key()}"
    try:
        job = TrainingJob("simclr", len(images), key, stage, head, batch_loss, lambda: None,
                          {"photos": str(len(images))})
        _run(job, config, TrainingRun(models_dir, report, progress, cancel))
    finally:
        pool.shutdown()
    report.elapsed_s = time.monotonic() - started
    return report
