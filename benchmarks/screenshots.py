"""Screenshots of the main window's states (welcome, indexing, results, preview) for the docs."""

from __future__ import annotations

import argparse
import gc
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from typing import TYPE_CHECKING

import numpy as np
from PIL import Image, ImageDraw

if TYPE_CHECKING:
    from PySide6.QtWidgets import QApplication

    from photofinder.gui.main_window import MainWindow

OUT = Path(__file__).resolve().parents[1] / "docs" / "screenshots"
PALETTES = [
    ((70, 130, 220), (250, 200, 60), (40, 140, 70)),  # blue sky, sun, meadow
    ((250, 150, 90), (255, 240, 200), (90, 60, 50)),  # sunset
    ((20, 30, 70), (240, 240, 220), (30, 40, 50)),  # night
    ((190, 220, 240), (255, 255, 255), (230, 230, 240)),  # snow
    ((120, 200, 230), (255, 220, 90), (230, 200, 140)),  # beach
    ((110, 110, 120), (200, 200, 200), (70, 80, 60)),  # overcast forest
]


def scene(path: Path, palette: int, variant: int) -> None:
    """A small synthetic landscape; variants of one palette look alike."""
    rng = random.Random(palette * 100 + variant)
    sky, sun, ground = PALETTES[palette]
    w, h = 640, 480
    image = Image.new("RGB", (w, h))
    draw = ImageDraw.Draw(image)
    for y in range(h):
        t = y / h
        draw.line([(0, y), (w, y)], fill=tuple(int(c * (1 - 0.35 * t)) for c in sky))
    x, y, r = rng.randint(80, 560), rng.randint(50, 180), rng.randint(25, 55)
    draw.ellipse([x - r, y - r, x + r, y + r], fill=sun)
    horizon = rng.randint(260, 340)
    points = [(0, h), (0, horizon)]
    for px in range(0, w + 80, 80):
        points.append((px, horizon + rng.randint(-60, 30)))
    points.append((w, h))
    draw.polygon(points, fill=ground)
    noise = np.random.default_rng(variant).integers(-8, 8, (h, w, 3))
    pixels = np.clip(np.asarray(image, np.int16) + noise, 0, 255).astype(np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path, quality=88)


def make_library_photos(folder: Path) -> None:
    for palette in range(len(PALETTES)):
        for variant in range(9):
            scene(folder / f"trip-{palette}" / f"IMG_{palette}{variant:03d}.jpg", palette, variant)


def use_fake_model(delay_s: float) -> None:
    """A colour-histogram stand-in for the CNN (the screenshots show the UI, not the model)."""
    import photofinder.core.library as library_module
    from photofinder.core.embedders import method_info
    from photofinder.core.embedders.base import l2_normalise

    class Histogram:
        def __init__(self, name: str) -> None:
            self.info = method_info(name)
            self.device = "cpu"

        def prepare(self, image: Image.Image) -> np.ndarray:
            time.sleep(delay_s)
            px = np.asarray(image.convert("RGB").resize((32, 32)), np.int64)
            bins = (px[..., 0] // 32) * 32 + (px[..., 1] // 32) * 4 + px[..., 2] // 64
            return np.bincount(bins.ravel(), minlength=256).astype(np.float32)

        def embed_prepared(self, batch: np.ndarray) -> np.ndarray:
            return l2_normalise(np.sqrt(batch.astype(np.float32)))

    library_module.__dict__["load_embedder"] = lambda name, device, cache: Histogram(name)


def wait_until(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    from PySide6.QtTest import QTest

    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the window did not reach the expected state")
        QTest.qWait(20)


def settle(window: MainWindow, rows: int = 30) -> None:
    """Paint until the thumbnails on screen have arrived from the loader thread."""
    from PySide6.QtTest import QTest

    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        window.grab()  # painting is what asks for thumbnails
        QTest.qWait(100)
        wanted = [hit.file_id for hit in window.model.hits()[:rows]]
        if all(file_id in window.model.cache for file_id in wanted):
            return


def open_window(work: Path, **settings_values: str) -> tuple[QApplication, MainWindow]:
    """The app and a 1280×800 main window on a scratch data folder and settings file."""
    from PySide6.QtCore import QSettings

    from photofinder.gui.app import make_application
    from photofinder.gui.main_window import MainWindow

    app = make_application(["photofinder-screenshots"])
    settings = QSettings(str(work / "settings.ini"), QSettings.Format.IniFormat)
    for key, value in settings_values.items():
        settings.setValue(key.replace("__", "/"), value)
    window = MainWindow(work / "data", settings, debounce_s=0.5)
    window.resize(1280, 800)
    window.show()
    return app, window


def close_window(app: QApplication, window: MainWindow, out: Path) -> int:
    from PySide6.QtTest import QTest

    window.close()
    window.deleteLater()
    QTest.qWait(50)
    gc.collect()  # free Qt wrappers while Qt is still up (avoids a shutdown-order crash)
    app.quit()
    sys.stdout.write(f"screenshots written to {out}\n")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--real-model", action="store_true", help="use the real CNN")
    args = parser.parse_args()
    if not args.real_model:
        use_fake_model(delay_s=0.03)

    from PySide6.QtCore import QMimeData, QUrl
    from PySide6.QtTest import QTest

    args.out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="pf-shots-"))
    photos = work / "Pictures"
    make_library_photos(photos)
    app, window = open_window(work)
    QTest.qWait(200)
    window.grab().save(str(args.out / "welcome.png"))

    window.add_folder(photos)
    wait_until(lambda: window.indexing.label.text().startswith("Indexing")
               and window.model.rowCount() >= 12)
    QTest.qWait(600)
    settle(window, 16)
    window.grab().save(str(args.out / "indexing.png"))
    wait_until(lambda: not window.session.indexer.running, 120)
    QTest.qWait(300)

    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(photos / "trip-1" / "IMG_1004.jpg"))])
    window.query_mime(mime)
    wait_until(lambda: window.statusBar().currentMessage().endswith("IMG_1004.jpg")
               and "photos like" in window.statusBar().currentMessage()
               and not window.statusBar().currentMessage().startswith("Searching"))
    wait_until(lambda: len(window.model.cache) >= min(24, window.model.rowCount()))
    settle(window)
    window.grab().save(str(args.out / "results.png"))

    window.view.setCurrentIndex(window.model.index(2))
    window.size_slider.setValue(110)
    wait_until(lambda: window.preview.view.image().width() >= 600)
    settle(window)
    window.grab().save(str(args.out / "preview.png"))
    return close_window(app, window, args.out)


if __name__ == "__main__":
    raise SystemExit(main())
