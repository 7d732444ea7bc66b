"""Test marks shared by the test modules."""

from __future__ import annotations

import pytest


def slow(*values: object) -> pytest.ParameterSet:
    """One parametrize case that only the full run takes (`pytest -m "not slow"` skips it)."""
    return pytest.param(*values, marks=pytest.mark.slow)
