"""Start-up benchmark: time until the main window is on screen, and which heavy modules loaded."""

from __future__ import annotations

import time

STARTED = time.perf_counter()

import argparse  # noqa: E402 - the clock starts before any import
import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

HEAVY = ("torch", "torchvision", "cv2", "onnxruntime")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, help="library to open (default: a new, empty one)")
    parser.add_argument("--offscreen", action="store_true", help="QT_QPA_PLATFORM=offscreen")
    parser.add_argument("--runs", type=int, default=1, help="start this many fresh processes")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.offscreen:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    if args.child:
        return measure(args.data_dir)
    import subprocess

    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="pf-startup-"))
    results = []
    for _ in range(args.runs):
        out = subprocess.run(
            [sys.executable, __file__, "--child", "--data-dir", str(data_dir)],
            capture_output=True, text=True, check=True, env=os.environ,
        )
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
    shown = sorted(r["window_shown_s"] for r in results)
    summary = {
        "runs": results,
        "median_window_shown_s": shown[len(shown) // 2],
        "heavy_modules_at_show": sorted({m for r in results for m in r["heavy_modules_at_show"]}),
    }
    sys.stdout.write(json.dumps(summary, indent=2) + "\n")
    return 0


def measure(data_dir: Path | None) -> int:
    from PySide6.QtCore import QEvent, QObject, QTimer

    from photofinder.gui.app import make_application
    from photofinder.gui.main_window import MainWindow

    imported = time.perf_counter()
    app = make_application(["photofinder-startup"])
    window = MainWindow(data_dir)
    result: dict[str, object] = {}

    class ExposeWatch(QObject):
        def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
            if event.type() == QEvent.Type.Expose and "window_shown_s" not in result:
                result["window_shown_s"] = round(time.perf_counter() - STARTED, 3)
                result["imports_s"] = round(imported - STARTED, 3)
                result["heavy_modules_at_show"] = [m for m in HEAVY if m in sys.modules]
                QTimer.singleShot(0, window.close)
                QTimer.singleShot(0, app.quit)
            return False

    watch = ExposeWatch()
    window.winId()  # create the native window so its expose event can be watched
    handle = window.windowHandle()
    assert handle is not None
    handle.installEventFilter(watch)
    window.show()
    app.exec()
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
