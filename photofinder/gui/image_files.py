"""Photos read for display through Python, so that any file name the OS allows works: Qt's
own file access drops the bytes of a name that are not UTF-8 and finds nothing."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
from PySide6.QtGui import QImage, QImageReader

from photofinder.core.errors import PhotoReadError
from photofinder.core.photos.imageio import read_file_bytes


def read_image(path: str | Path, max_side: int | None = None) -> QImage:
    """The photo at `path` (EXIF-oriented, scaled down to `max_side`), or a null image when it
    cannot be read; never blocks on a special file."""
    try:
        data = read_file_bytes(Path(path))
    except PhotoReadError:
        return QImage()
    buffer = QBuffer()
    buffer.setData(QByteArray(data))
    buffer.open(QIODevice.OpenModeFlag.ReadOnly)
    reader = QImageReader(buffer)
    reader.setAutoTransform(True)
    size = reader.size()
    if max_side is not None and size.isValid() and max(size.width(), size.height()) > max_side:
        reader.setScaledSize(size.scaled(max_side, max_side, Qt.AspectRatioMode.KeepAspectRatio))
    return reader.read()
