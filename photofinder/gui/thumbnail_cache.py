"""A bounded least-recently-used cache of decoded thumbnails, keyed by catalogue file id."""

from __future__ import annotations

from collections import OrderedDict

from PySide6.QtGui import QImage

DEFAULT_CAPACITY = 2000  # 256 px thumbnails: about 250 KB each decoded, ≈ 500 MB at most


class ThumbnailCache:
    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        self.capacity = capacity
        self._images: OrderedDict[int, QImage] = OrderedDict()

    def get(self, file_id: int) -> QImage | None:
        image = self._images.get(file_id)
        if image is not None:
            self._images.move_to_end(file_id)
        return image

    def put(self, file_id: int, image: QImage) -> None:
        self._images[file_id] = image
        self._images.move_to_end(file_id)
        while len(self._images) > self.capacity:
            self._images.popitem(last=False)

    def discard(self, file_id: int) -> None:
        self._images.pop(file_id, None)

    def clear(self) -> None:
        self._images.clear()

    def __len__(self) -> int:
        return len(self._images)

    def __contains__(self, file_id: object) -> bool:
        return file_id in self._images
