"""`efficientnet-lite0-simclr`: EfficientNet-Lite0 whose last stage and 256-d projection are
trained self-supervised (SimCLR, NT-Xent on two augmented views) on the user's own photos,
`photofinder train simclr`. Training: photofinder/core/training.py."""

from __future__ import annotations

from photofinder.core.embedders.base import MethodInfo
from photofinder.core.embedders.trainable import EMBED_DIM, TrainedMethod

BASE = MethodInfo(
    name="efficientnet-lite0-simclr",
    version="1",
    dim=EMBED_DIM,
    family="self-supervised",
    description=(
        "EfficientNet-Lite0 with its last stage and a 256-d projection trained by SimCLR "
        "(two augmented views, NT-Xent) on your own unlabelled photos, starting from the "
        "default."
    ),
)

METHOD = TrainedMethod(BASE, "photofinder train simclr FOLDER")
SPEC = METHOD.spec()
