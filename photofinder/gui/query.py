"""What the user searched for, and the back/forward history of those searches."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, Signal


@dataclass(frozen=True)
class Query:
    """One search: by a file, by encoded image data, or by a catalogued photo."""

    label: str
    path: Path | None = None
    data: bytes | None = None
    file_id: int | None = None
    verify: bool = False  # precise search: query variants and keypoint verification


class QueryHistory(QObject):
    """The queries in the order they were asked, a position for back and forward, and the
    query whose results are shown (`current`, None while the grid browses the library)."""

    changed = Signal()  # whether back / forward are possible may have changed

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._queries: list[Query] = []
        self._position = -1
        self.current: Query | None = None

    def record(self, query: Query) -> None:
        """A new query: it replaces everything after the current position."""
        del self._queries[self._position + 1 :]
        self._queries.append(query)
        self._position = len(self._queries) - 1
        self.changed.emit()

    def step(self, offset: int) -> Query | None:
        """Move back (-1) or forward (+1); the query there, or None at either end."""
        position = self._position + offset
        if not 0 <= position < len(self._queries):
            return None
        self._position = position
        self.changed.emit()
        return self._queries[position]

    @property
    def can_go_back(self) -> bool:
        return self._position > 0

    @property
    def can_go_forward(self) -> bool:
        return self._position < len(self._queries) - 1
