"""Benchmark of the two trained methods (issue 6) against their starting point, the default.

Split: each class folder's photos are shuffled (seeded) and halved; the first half trains,
the second half is held out. Both methods train on the training half only (SimCLR ignores
the labels). Measured on the held-out half only:

* class mAP among the held-out photos (each one a query against the others);
* near-duplicate rank-1 recall: `photofinder.core.evaluation.neardup` makes 8 edits (crop,
  rotations, mirror, JPEG, scale, colour, caption) of N held-out originals; gallery = all held-out.

Targets: fine-tuned ≥ default + 0.05 class mAP; SimCLR better than default on both (or said
plainly that it is not). Trunk activations and ONNX exports go to a temporary folder.

    .venv/bin/python -m benchmarks.training [--data DIR] [--ft-epochs 8] [--simclr-epochs 4]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from photofinder.core.embedders import DEFAULT_METHOD, efficientnet_lite0, load_embedder, training
from photofinder.core.embedders.base import Embedder, FloatArray
from photofinder.core.evaluation.metrics import class_map, neardup_recall_at_1
from photofinder.core.evaluation.neardup import KINDS, make_neardup_set
from photofinder.core.photos.imageio import decode_file

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "caltech101-dev"


def split(data: Path, seed: int) -> tuple[list[tuple[Path, str]], list[tuple[Path, str]]]:
    train: list[tuple[Path, str]] = []
    held: list[tuple[Path, str]] = []
    rng = np.random.default_rng(seed)
    for folder in sorted(p for p in data.iterdir() if p.is_dir()):
        photos = training.find_photos(folder)
        order = rng.permutation(len(photos))
        half = len(photos) // 2
        train += [(photos[i], folder.name) for i in sorted(order[:half])]
        held += [(photos[i], folder.name) for i in sorted(order[half:])]
    return train, held


def embed_all(paths: list[Path], embedders: dict[str, Embedder]) -> dict[str, FloatArray]:
    """Decode and prepare each photo once (all methods share the 224 squash input)."""
    out: dict[str, list[FloatArray]] = {name: [] for name in embedders}
    for start in range(0, len(paths), 64):
        batch = np.stack([efficientnet_lite0.prepare(decode_file(p).image)
                          for p in paths[start:start + 64]])
        for name, embedder in embedders.items():
            out[name].append(embedder.embed_prepared(batch))
    return {name: np.concatenate(rows) for name, rows in out.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--ft-epochs", type=int, default=8)
    parser.add_argument("--simclr-epochs", type=int, default=4)
    parser.add_argument("--simclr-temperature", type=float, default=0.2)
    parser.add_argument("--neardup-originals", type=int, default=100)
    args = parser.parse_args()
    began = time.monotonic()
    train, held = split(args.data, args.seed)
    print(f"data {args.data}: {len(train)} training photos, {len(held)} held out, "
          f"{len({c for _, c in train})} classes, seed {args.seed}")
    with tempfile.TemporaryDirectory(prefix="pf-train-bench-") as tmp:
        work = Path(tmp)
        models, cache = work / "models", work / "cache"
        ft = training.train_finetune(train, models, cache,
                                     training.TrainConfig(epochs=args.ft_epochs, seed=args.seed))
        print(f"fine-tune: {ft.epochs_done} epochs in {ft.elapsed_s:.0f} s (incl. trunk cache), "
              f"loss {ft.losses[0]:.3f} → {ft.losses[-1]:.3f}, version {ft.version}")
        sc = training.train_simclr(
            [p for p, _ in train], models, cache,
            training.TrainConfig(epochs=args.simclr_epochs, seed=args.seed,
                                 temperature=args.simclr_temperature))
        print(f"simclr: {sc.epochs_done} epochs in {sc.elapsed_s:.0f} s, "
              f"loss {sc.losses[0]:.3f} → {sc.losses[-1]:.3f}, version {sc.version}")
        t0 = time.monotonic()
        queries = make_neardup_set([p for p, _ in held], work / "neardup",
                                   args.neardup_originals, args.seed)
        held_paths = [p for p, _ in held]
        index = {p: i for i, p in enumerate(held_paths)}
        names = [DEFAULT_METHOD, ft.method, sc.method]
        embedders = {n: load_embedder(n, "cpu", cache, models) for n in names}
        gallery = embed_all(held_paths, embedders)
        query_vecs = embed_all([q for q, _, _ in queries], embedders)
        print(f"evaluation: {len(held)} held-out + {len(queries)} near-dup queries "
              f"embedded by 3 methods in {time.monotonic() - t0:.0f} s")
        labels = [c for _, c in held]
        kinds = [k for _, _, k in queries]
        targets = [index[o] for _, o, _ in queries]
        rows = {}
        for name in names:
            recall = neardup_recall_at_1(query_vecs[name], kinds, targets, gallery[name])
            rows[name] = (class_map(gallery[name], labels), recall)
        print(f"\n{'method':27s} {'class mAP':>9s} {'nd R@1':>7s}  " +
              " ".join(f"{k[:8]:>8s}" for k in KINDS))
        for name, (cmap, recall) in rows.items():
            print(f"{name:27s} {cmap:9.4f} {recall['all']:7.4f}  " +
                  " ".join(f"{recall[k]:8.3f}" for k in KINDS))
        base_map, base_recall = rows[DEFAULT_METHOD][0], rows[DEFAULT_METHOD][1]["all"]
        ft_gain = rows[ft.method][0] - base_map
        print(f"\nfine-tuned class mAP gain: {ft_gain:+.4f} (target ≥ +0.05: "
              f"{'met' if ft_gain >= 0.05 else 'NOT met'})")
        sc_map, sc_recall = rows[sc.method][0], rows[sc.method][1]["all"]
        both = sc_map > base_map and sc_recall > base_recall
        print(f"simclr vs default: class mAP {sc_map - base_map:+.4f}, near-dup R@1 "
              f"{sc_recall - base_recall:+.4f} → {'better' if both else 'NOT better'} on both")
    print(f"total {time.monotonic() - began:.0f} s")


if __name__ == "__main__":
    main()
