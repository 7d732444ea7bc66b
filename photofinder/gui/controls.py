"""Toolbar choosers: embedding method and compute device (unavailable ones disabled, with why)."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Signal
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QComboBox, QWidget

from photofinder.core.embedders.base import MethodInfo
from photofinder.core.embedders.devices import DEVICE_CHOICES, DeviceStatus

DEVICE_LABELS = {"auto": "Auto", "cpu": "CPU", "cuda": "CUDA (NVIDIA)", "mps": "Apple MPS"}


def _items(combo: QComboBox) -> QStandardItemModel:
    model = combo.model()
    assert isinstance(model, QStandardItemModel)
    return model


def _select(combo: QComboBox, value: str) -> None:
    index = combo.findData(value)
    if index >= 0:
        combo.setCurrentIndex(index)


class MethodCombo(QComboBox):
    """Starts with the current method only: listing every method may inspect weight files and
    import heavy packages, so the list arrives later from a worker thread (`apply_methods`)."""

    wanted = Signal()  # the list is needed now (the popup was opened)

    def __init__(self, current: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setToolTip("Embedding method used for indexing and search")
        self.addItem(current, current)
        self.loaded = False

    def showPopup(self) -> None:  # noqa: N802
        if not self.loaded:
            self.wanted.emit()
        super().showPopup()

    def apply_methods(self, methods: Sequence[MethodInfo]) -> None:
        current = self.value()
        self.loaded = True
        self.blockSignals(True)
        self.clear()
        for info in methods:
            label = info.name if info.available else f"{info.name} (unavailable)"
            self.addItem(label, info.name)
            item: QStandardItem = _items(self).item(self.count() - 1)
            tip = f"{info.family}: {info.description}"
            if info.reason:
                tip += f"\n{'Note' if info.available else 'Unavailable'}: {info.reason}"
            item.setToolTip(tip)
            item.setEnabled(info.available)
        if self.findData(current) < 0:
            self.addItem(current, current)
        _select(self, current)
        self.blockSignals(False)
        if self.view().isVisible():  # refresh an open popup
            self.hidePopup()
            super().showPopup()

    def value(self) -> str:
        return str(self.currentData())


class DeviceCombo(QComboBox):
    """GPU choices stay disabled until the capability check (run off the GUI thread) says so."""

    def __init__(self, current: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setToolTip("Compute device for the model")
        for name in DEVICE_CHOICES:
            self.addItem(DEVICE_LABELS.get(name, name), name)
            item = _items(self).item(self.count() - 1)
            if name not in ("auto", "cpu"):
                item.setEnabled(False)
                item.setToolTip("checking…")
        self._wanted = current
        _select(self, current if current in ("auto", "cpu") else "auto")

    def value(self) -> str:
        return str(self.currentData())

    def apply_statuses(self, statuses: Sequence[DeviceStatus]) -> None:
        model = _items(self)
        for status in statuses:
            row = self.findData(status.name)
            if row < 0:
                continue
            item = model.item(row)
            item.setEnabled(status.available)
            item.setToolTip(status.reason)
            if not status.available:
                item.setText(f"{DEVICE_LABELS.get(status.name, status.name)} — {status.reason}")
        if self._wanted not in ("auto", "cpu"):
            row = self.findData(self._wanted)
            if row >= 0 and model.item(row).isEnabled():
                self.blockSignals(True)
                self.setCurrentIndex(row)
                self.blockSignals(False)

    def is_enabled(self, name: str) -> bool:
        row = self.findData(name)
        return row >= 0 and _items(self).item(row).isEnabled()

