"""What was dropped or pasted: a photo file, image data, or something with a clear refusal."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QMimeData, QUrl
from PySide6.QtGui import QImage

from photofinder.core.photos.imageio import is_photo_name
from photofinder.gui.query import Query

IMAGE_FORMATS = ("image/png", "image/jpeg", "image/webp", "image/gif", "image/bmp", "image/tiff")


class DropError(Exception):
    """A drop or paste that is not a photo; the message is shown to the user."""


def accepts(mime: QMimeData) -> bool:
    """Whether a drag may be dropped (the detailed check happens on drop)."""
    return mime.hasUrls() or mime.hasImage() or any(mime.hasFormat(f) for f in IMAGE_FORMATS)


def query_from_mime(mime: QMimeData) -> Query:
    urls = list(mime.urls()) if mime.hasUrls() else []
    local = [u for u in urls if u.isLocalFile()]
    if local:
        return query_from_path(Path(local[0].toLocalFile()))
    data = image_bytes(mime)
    if data is not None:
        return Query(label="dropped image", data=data)
    if urls:
        raise DropError(
            f"{_short(urls[0])} is a web address. PhotoFinder works offline and does not "
            "download it: save the image first, or drag the picture itself."
        )
    if mime.hasText() and mime.text().strip().startswith(("/", "file:")):
        text = mime.text().strip().splitlines()[0]
        url = QUrl(text)
        return query_from_path(Path(url.toLocalFile() if url.isLocalFile() else text))
    raise DropError("That is not a photo. Drop a photo file or an image, or paste one.")


def query_from_path(path: Path) -> Query:
    if path.is_dir():
        raise DropError(f"{path} is a folder. Use “Add folder…” to index and watch it.")
    if not path.exists():
        raise DropError(f"{path} does not exist.")
    if not is_photo_name(path.name):
        raise DropError(
            f"{path.name} is not a photo (PhotoFinder reads JPEG, PNG, HEIC, WebP, TIFF, "
            "BMP and GIF files)."
        )
    return Query(label=path.name, path=path)


def image_bytes(mime: QMimeData) -> bytes | None:
    """Encoded image data: the original bytes when offered, otherwise the image as PNG."""
    for fmt in IMAGE_FORMATS:
        if mime.hasFormat(fmt):
            data = bytes(mime.data(fmt).data())
            if data:
                return data
    if mime.hasImage():
        image = mime.imageData()
        if isinstance(image, QImage) and not image.isNull():
            return png_bytes(image)
    return None


def png_bytes(image: QImage) -> bytes:
    array = QByteArray()
    buffer = QBuffer(array)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")  # type: ignore[call-overload]  # the stub wants bytes; str works
    buffer.close()
    return bytes(array.data())


def _short(url: QUrl) -> str:
    text = url.toDisplayString()
    return text if len(text) <= 60 else text[:57] + "…"
