"""Screenshots of the Duplicates view and the compare dialog (docs/screenshots) for the docs."""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PIL import Image, ImageEnhance

from benchmarks.screenshots import OUT, close_window, open_window, scene, use_fake_model, wait_until


def make_photos(root: Path) -> None:
    """One shot per scene (the stand-in model tells scenes apart, not shots), with duplicates:
    backup copies, phone-sized copies, an edited PNG."""
    for palette in range(6):
        scene(root / f"trip-{palette}" / f"IMG_{palette}000.jpg", palette, 0)
    for palette in (0, 1, 2, 3):
        original = root / f"trip-{palette}" / f"IMG_{palette}000.jpg"
        (root / "Backup" / f"trip-{palette}").mkdir(parents=True, exist_ok=True)
        shutil.copy2(original, root / "Backup" / f"trip-{palette}" / original.name)
    (root / "Phone").mkdir(parents=True, exist_ok=True)
    for palette in (0, 4):
        original = root / f"trip-{palette}" / f"IMG_{palette}000.jpg"
        small = Image.open(original).resize((320, 240))
        small.save(root / "Phone" / f"{original.stem}-small.jpg", quality=70)
    (root / "Edits").mkdir(parents=True, exist_ok=True)
    edited = Image.open(root / "trip-5" / "IMG_5000.jpg")
    ImageEnhance.Brightness(edited).enhance(1.08).save(root / "Edits" / "IMG_5000.png")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    use_fake_model(delay_s=0.0)

    from PySide6.QtTest import QTest

    args.out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="pf-dup-shots-"))
    photos = work / "Pictures"
    make_photos(photos)
    app, window = open_window(work)
    window.add_folder(photos)
    wait_until(lambda: not window.session.indexer.running, 120)
    page = window.duplicates
    page.view.geometric = False  # the stand-in model's scores decide
    page.action.trigger()
    wait_until(lambda: page.view.loaded and not page.view.jobs.busy, 60)
    for _ in range(20):  # paint until the thumbnails have arrived
        window.grab()
        QTest.qWait(100)
    window.grab().save(str(args.out / "duplicates.png"))

    page.view.select_group(0)
    page.actions.compare()
    dialog = page.actions.compare_dialog
    assert dialog is not None
    wait_until(lambda: dialog.pair is not None, 30)
    dialog.resize(1100, 560)
    QTest.qWait(200)
    dialog.fit()
    QTest.qWait(100)
    dialog.grab().save(str(args.out / "compare.png"))
    dialog.close()
    return close_window(app, window, args.out)


if __name__ == "__main__":
    raise SystemExit(main())
