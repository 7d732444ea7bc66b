"""Without the torch extra the GUI's method list and device choice say what is missing and the
one command that installs it."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from PySide6.QtCore import Qt

from photofinder.core.embedders import devices, list_methods
from photofinder.core.embedders.devices import TORCH_EXTRA_COMMAND
from photofinder.gui.main_window import MainWindow
from photofinder.gui.searcher import probe_devices
from tests.support.no_torch import BLOCKED


@pytest.fixture
def no_torch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(devices, "_importable", lambda module: module not in BLOCKED)
    monkeypatch.setattr(devices, "_nvidia_driver_present", lambda: True)


def test_torch_methods_and_gpus_are_disabled_with_the_install_command(
    no_torch: None, make_window: Callable[..., MainWindow]
) -> None:
    window = make_window()
    combo = window.method_combo
    combo.apply_methods(list_methods())
    model = combo.model()
    row = combo.findData("resnet50")
    assert not model.flags(model.index(row, 0)) & Qt.ItemFlag.ItemIsEnabled
    assert TORCH_EXTRA_COMMAND in str(combo.itemData(row, Qt.ItemDataRole.ToolTipRole))
    default = combo.findData("efficientnet-lite0")
    assert model.flags(model.index(default, 0)) & Qt.ItemFlag.ItemIsEnabled
    device_combo = window.device_combo
    device_combo.apply_statuses(probe_devices())
    assert not device_combo.is_enabled("cuda")
    cuda = device_combo.findData("cuda")
    assert TORCH_EXTRA_COMMAND in device_combo.itemText(cuda)
