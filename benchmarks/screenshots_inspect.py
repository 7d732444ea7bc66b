"""Screenshots of the keypoint overlay and the match view (real textured photos) for the docs."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PIL import Image

from benchmarks.screenshots import (
    OUT,
    close_window,
    make_library_photos,
    open_window,
    settle,
    use_fake_model,
    wait_until,
)


def textured_photos(folder: Path) -> Path:
    """scikit-image's sample photos, plus a rotated crop of the astronaut (the copy to find)."""
    from skimage import data

    folder.mkdir(parents=True, exist_ok=True)
    astronaut = Image.fromarray(getattr(data, "astronaut")())  # noqa: B009 (untyped)
    astronaut.save(folder / "astronaut.jpg", quality=92)
    crop = astronaut.crop((60, 20, 440, 420)).rotate(-18, expand=True, fillcolor=(20, 20, 20))
    crop.resize((crop.width * 3 // 4, crop.height * 3 // 4)).save(
        folder / "astronaut-crop-rotated.jpg", quality=85)
    for name in ("coffee", "chelsea", "rocket"):
        Image.fromarray(getattr(data, name)()).convert("RGB").save(folder / f"{name}.jpg",
                                                                   quality=92)
    return folder / "astronaut.jpg"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    use_fake_model(delay_s=0.0)

    from PySide6.QtTest import QTest

    from photofinder.gui.query import Query

    args.out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="pf-inspect-"))
    photos = work / "Pictures"
    make_library_photos(photos / "trips")
    query = textured_photos(photos / "samples")
    app, window = open_window(work, search__precise="true")
    window.add_folder(photos)
    wait_until(lambda: not window.session.indexer.running, 120)
    QTest.qWait(300)
    window.run_query(Query(label=query.name, path=query))
    wait_until(lambda: "verified" in window.statusBar().currentMessage(), 60)
    settle(window)
    crop = next(row for row, hit in enumerate(window.model.hits())
                if Path(hit.path).name == "astronaut-crop-rotated.jpg")
    window.view.setCurrentIndex(window.model.index(crop))
    window.size_slider.setValue(120)
    window.splitter.setSizes([220, 520, 540])
    window.preview.keypoints.toggle.setChecked(True)
    wait_until(lambda: window.preview.keypoints.count.text().endswith("keypoints"), 30)
    settle(window)
    window.grab().save(str(args.out / "keypoints.png"))

    dialog = window.tools.open_matches(Path(window.model.hits()[crop].path))
    assert dialog is not None
    dialog.resize(1100, 640)
    wait_until(lambda: dialog.outcome is not None, 30)
    QTest.qWait(200)
    dialog.grab().save(str(args.out / "matches.png"))
    sys.stdout.write(f"{dialog.summary.text()}\n{window.preview.keypoints.count.text()}\n")
    dialog.close()
    return close_window(app, window, args.out)


if __name__ == "__main__":
    raise SystemExit(main())
