"""One open library with its background workers: indexing, search, image loading, watching."""

from __future__ import annotations

import threading
from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot

from photofinder.core.embedders import DEFAULT_METHOD
from photofinder.core.errors import PhotoFinderError
from photofinder.core.indexing.watcher import DEFAULT_DEBOUNCE_S, FolderWatcher
from photofinder.core.library import Library
from photofinder.gui.image_loader import ImageLoader
from photofinder.gui.indexer import IndexController
from photofinder.gui.searcher import SearchController


class Session(QObject):
    """Everything that must be stopped together before the library is closed."""

    _watch_event = Signal(object)  # set[str], emitted on the watcher's thread
    files_changed = Signal(object)  # set[str]: the watcher saw these paths change

    def __init__(
        self,
        data_dir: Path | None,
        method: str,
        device: str,
        debounce_s: float = DEFAULT_DEBOUNCE_S,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.library = Library(data_dir, method, device)
        self.indexer = IndexController(self.library, self)
        self.search = SearchController(self.library, self)
        self.images = ImageLoader(self.library, self)
        self.watcher = FolderWatcher(self._watch_event.emit, debounce_s)
        self._watch_event.connect(self._on_watch_event)
        self._closed = False
        self._watch_starter: threading.Thread | None = None

    def watched_folders(self) -> list[Path]:
        return [Path(r.path) for r in self.library.roots() if not r.excluded]

    def restart_watching(self) -> None:
        """Watch the current folders (after start-up and after folder changes). Setting up a
        recursive watch walks every subfolder, so it runs on a short-lived thread."""
        if self._closed:
            return
        self._join_watch_starter()
        self._watch_starter = threading.Thread(
            target=self.watcher.start, args=(self.watched_folders(),),
            name="photofinder-watch-start", daemon=True,
        )
        self._watch_starter.start()

    def _join_watch_starter(self) -> None:
        if self._watch_starter is not None:
            self._watch_starter.join()
            self._watch_starter = None

    @Slot(object)
    def _on_watch_event(self, paths: set[str]) -> None:
        if self._closed:
            return
        self.files_changed.emit(paths)
        self.indexer.start()

    def shutdown(self) -> None:
        """Stop watching, cancel indexing (its progress is kept), join every thread, close."""
        if self._closed:
            return
        self._closed = True
        self._join_watch_starter()
        self.watcher.stop()
        self.indexer.shutdown()
        self.search.shutdown()
        self.images.shutdown()
        self.library.close()


class SessionHolder(QObject):
    """The window's open session. Every swap goes through `adopt`: `session_changed` tells
    pages and tools first (so they let go of the old library), then the old one is closed."""

    session_changed = Signal(object)  # the new Session

    def __init__(
        self,
        data_dir: Path | None,
        method: str,
        device: str,
        debounce_s: float = DEFAULT_DEBOUNCE_S,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.data_dir = data_dir
        self._debounce = debounce_s
        self._session = self.open_or_default(method, device)

    @property
    def session(self) -> Session:
        return self._session

    def open(self, method: str, device: str) -> Session:
        """A new session on the same data folder (not adopted yet); PhotoFinderError if the
        method cannot be used."""
        return Session(self.data_dir, method, device, self._debounce, self)

    def open_or_default(self, method: str, device: str) -> Session:
        try:
            return self.open(method, device)
        except PhotoFinderError:
            return self.open(DEFAULT_METHOD, "auto")

    def adopt(self, session: Session) -> None:
        """Make `session` the current one; the old one is shut down and deleted."""
        old, self._session = self._session, session
        self.session_changed.emit(session)
        old.shutdown()
        old.deleteLater()

    def shutdown(self) -> None:
        self._session.shutdown()
