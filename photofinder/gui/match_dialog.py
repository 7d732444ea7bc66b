"""Keypoint matches between the query and a result: side by side, inliers drawn, counts shown."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PIL import Image
from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QCloseEvent, QImage
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from photofinder.core.matching.keypoints import DEFAULT_KEYPOINT_TYPE
from photofinder.gui.jobs import JobQueue
from photofinder.gui.keypoint_overlay import fill_kinds, pil_to_qimage
from photofinder.gui.preview import ImageView

DRAW_HEIGHT = 560  # pixel height of the side-by-side picture

QuerySource = Path | bytes  # a photo file, or encoded image data (a paste or a drop)


@dataclass(frozen=True)
class MatchResult:
    kind: str
    inliers: int
    matches: int
    inlier_ratio: float
    model: str
    mirrored: bool
    verified: bool
    with_outliers: QImage
    inliers_only: QImage


def compute_matches(
    query: QuerySource, target: Path, kind: str = DEFAULT_KEYPOINT_TYPE,
    height: int = DRAW_HEIGHT,
) -> MatchResult:
    """Runs on a worker thread: ratio test + RANSAC, then both pictures (with and without
    outliers) so the checkbox switches instantly."""
    from photofinder.core.matching import verify as checks  # cv2 only here, never at start-up
    from photofinder.core.photos.imageio import decode_bytes

    if isinstance(query, bytes):
        decoded = decode_bytes(query, "query")
        features = checks.query_features(decoded.image, kind,
                                         original_size=(decoded.width, decoded.height))
        source: Path | Image.Image = decoded.image
    else:
        features = checks.query_features(query, kind)
        source = query
    result = checks.verify(features, target, kind)
    drawn = [
        pil_to_qimage(checks.draw_matches(source, target, result, height, show_outliers=flag))
        for flag in (True, False)
    ]
    return MatchResult(features.plain.kind, result.inliers, result.matches, result.inlier_ratio,
                       result.model, result.mirrored, result.verified, drawn[0], drawn[1])


def summary(result: MatchResult) -> str:
    """"85 inliers of 120 matches (71 %) · homography · SIFT — a verified near-duplicate"."""
    text = (f"{result.inliers} inliers of {result.matches} {result.kind} matches "
            f"({result.inlier_ratio:.0%}) · {result.model}")
    if result.mirrored:
        text += " · mirrored"
    verdict = "a verified near-duplicate" if result.verified else "not the same scene"
    return f"{text} — {verdict}"


class MatchDialog(QDialog):
    """Opened non-modally; matching runs on a worker thread, waited for when the dialog closes."""

    def __init__(
        self, query_label: str, query: QuerySource, target: Path,
        kind: str = DEFAULT_KEYPOINT_TYPE, parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Matches: {query_label} ↔ {target.name}")
        self.resize(1100, 700)
        self._query, self._target = query, target
        self.outcome: MatchResult | None = None
        self.view = ImageView("Matching keypoints…")
        self.view.setMinimumSize(480, 240)
        self.summary = QLabel("Matching keypoints…")
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.kind = QComboBox()
        fill_kinds(self.kind, kind)
        self.kind.setToolTip("Keypoint detector")
        self.kind.currentIndexChanged.connect(self.recompute)
        self.outliers = QCheckBox("Show outliers (faint red)")
        self.outliers.setToolTip("Green: matches that agree on one geometric transform "
                                 "(RANSAC inliers); red: ratio-test matches that do not")
        self.outliers.toggled.connect(self._show)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        controls = QHBoxLayout()
        controls.addWidget(self.summary, 1)
        controls.addWidget(self.kind)
        controls.addWidget(self.outliers)
        layout = QVBoxLayout(self)
        layout.addWidget(self.view, 1)
        layout.addLayout(controls)
        layout.addWidget(buttons)
        self.jobs = JobQueue("photofinder-matches", self, latest_wins=True)
        self.recompute()

    @Slot()
    def recompute(self) -> None:
        self.outcome = None
        query, target, kind = self._query, self._target, str(self.kind.currentData())
        self.summary.setText(f"Matching {kind} keypoints…")
        self.jobs.submit(lambda _: compute_matches(query, target, kind), self._on_result,
                         failed=self._on_failed)

    def _on_result(self, result: MatchResult) -> None:
        self.outcome = result
        self.summary.setText(summary(result))
        self._show()

    def _on_failed(self, message: str) -> None:
        self.summary.setText(f"Matching failed: {message}")

    @Slot()
    def _show(self) -> None:
        if self.outcome is not None:
            result = self.outcome
            self.view.set_image(
                result.with_outliers if self.outliers.isChecked() else result.inliers_only
            )

    def shutdown(self) -> None:
        """Wait for the matching job (a second or so at most)."""
        self.jobs.shutdown()

    def done(self, code: int) -> None:
        self.shutdown()
        super().done(code)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        self.shutdown()
        super().closeEvent(event)
