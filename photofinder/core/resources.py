"""Locate bundled resources (model projections, icons) in a checkout or an installed copy."""

from __future__ import annotations

import sys
from pathlib import Path

_CHECKOUT = Path(__file__).resolve().parents[2] / "resources"
_INSTALLED = Path(sys.prefix) / "share" / "photofinder"


def resource_path(relative: str) -> Path:
    """The checkout's resources/ (editable installs), else the copy a wheel installs."""
    for base in (_CHECKOUT, _INSTALLED):
        candidate = base / relative
        if candidate.exists():
            return candidate
    return _CHECKOUT / relative
