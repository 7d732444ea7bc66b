"""`efficientnet-lite0-ft`: EfficientNet-Lite0 whose last stage and a 256-d projection are
fine-tuned on the user's albums (parent folder name = label), `photofinder train finetune`.
Training: photofinder/core/training.py; shared network code: trainable.py."""

from __future__ import annotations

from photofinder.core.embedders.base import MethodInfo
from photofinder.core.embedders.trainable import EMBED_DIM, TrainedMethod

BASE = MethodInfo(
    name="efficientnet-lite0-ft",
    version="1",
    dim=EMBED_DIM,
    family="fine-tuned CNN",
    description=(
        "EfficientNet-Lite0 with its last stage and a 256-d projection fine-tuned on your "
        "albums (folder names as labels; cosine-softmax loss), starting from the default."
    ),
)

METHOD = TrainedMethod(BASE, "photofinder train finetune FOLDER")
SPEC = METHOD.spec()
