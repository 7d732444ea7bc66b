"""A duplicate search of an unchanged library answers at once from the groups of the last one;
anything they depend on that changes (photos, vectors, decisions, settings, a file gone from or
back on disk) makes it search again."""

from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path

import pytest

from photofinder.core.duplicates import grouping, remembered_groups, review
from photofinder.core.duplicates.grouping import DuplicateGroup, Strictness
from photofinder.core.duplicates.review import ReviewSettings, mark_not_duplicates
from photofinder.core.library import Library
from photofinder.core.storage.catalog import Catalog, FileRecord
from photofinder.core.storage.schema import SCHEMA_VERSION
from tests.support.old_catalogue import catalogue_at
from tests.support.photos import scene


@pytest.fixture
def photos(indexed_copies: Path) -> Path:
    return indexed_copies


@pytest.fixture
def searches(monkeypatch: pytest.MonkeyPatch) -> list[Strictness]:
    """The strictness of each search that ran (not answered from memory)."""
    ran: list[Strictness] = []
    real = grouping.find_groups

    def counted(*args: object, **kwargs: object) -> grouping.FoundGroups:
        search = args[2] if len(args) > 2 else kwargs["search"]
        assert isinstance(search, grouping.DuplicateSearch)
        ran.append(search.strictness)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(review, "find_groups", counted)
    return ran


def names(groups: list[DuplicateGroup]) -> set[frozenset[str]]:
    return {frozenset(Path(p).name for p in g.paths) for g in groups}


def shown(groups: list[DuplicateGroup]) -> list[tuple[list[str], float, int]]:
    """What the user sees of the groups, in their order: paths, weakest score, keeper."""
    return [(g.paths, g.min_score, g.keeper.keeper_id) for g in groups]


def test_an_unchanged_library_answers_without_searching(
    library: Library, photos: Path, searches: list[Strictness]
) -> None:
    first = library.duplicates()
    assert frozenset({"photo_001.jpg", "small_copy.jpg"}) in names(first)
    assert shown(library.duplicates()) == shown(first)
    library.update()  # nothing changed on disk: nothing to search again
    assert shown(library.duplicates()) == shown(first)
    assert searches == [Strictness.NEAR]


def test_another_process_answers_from_memory_without_opening_the_index(
    library: Library, photos: Path, tmp_path: Path, searches: list[Strictness]
) -> None:
    first = library.duplicates()
    library.close()
    with Library(tmp_path / "data", device="cpu") as again:
        assert shown(again.duplicates()) == shown(first)
        assert again._index is None  # the index (seconds to open) was not needed
    assert searches == [Strictness.NEAR]


def test_remembered_groups_do_not_wait_for_the_index_to_open(
    library: Library, photos: Path
) -> None:
    first = shown(library.duplicates())
    answered: list[list[tuple[list[str], float, int]]] = []
    with library._lock:  # the indexer opening the index (minutes at 100,000 photos) holds it
        view = threading.Thread(target=lambda: answered.append(shown(library.duplicates())))
        view.start()  # the Duplicates view's thread, with no catalogue of its own yet
        view.join(timeout=20)
        assert not view.is_alive()
    assert answered == [first]


def test_each_strictness_and_checking_is_remembered_apart(
    library: Library, photos: Path, searches: list[Strictness]
) -> None:
    kinds = [(Strictness.NEAR, True), (Strictness.SIMILAR, True), (Strictness.EXACT, True),
             (Strictness.NEAR, False)]
    first = [shown(library.duplicates(strictness, geometric)) for strictness, geometric in kinds]
    again = [shown(library.duplicates(strictness, geometric)) for strictness, geometric in kinds]
    assert again == first
    assert searches == [k for k, _ in kinds]


def test_a_file_gone_from_disk_is_never_offered_and_comes_back_with_its_file(
    library: Library, photos: Path, searches: list[Strictness]
) -> None:
    first = names(library.duplicates())
    assert frozenset({"photo_001.jpg", "small_copy.jpg"}) in first
    hidden = photos.parent / "small_copy.jpg.aside"
    os.replace(photos / "small_copy.jpg", hidden)  # deleted outside the app, no update since
    gone = names(library.duplicates())
    assert not any("small_copy.jpg" in g for g in gone)
    assert gone == first - {frozenset({"photo_001.jpg", "small_copy.jpg"})}
    os.replace(hidden, photos / "small_copy.jpg")  # back (an unplugged drive plugged in)
    assert names(library.duplicates()) == first
    assert len(searches) == 3


def test_a_file_replaced_by_a_link_is_never_offered(
    library: Library, photos: Path
) -> None:
    library.duplicates()
    (photos / "small_copy.jpg").unlink()
    (photos / "small_copy.jpg").symlink_to(photos / "photo_001.jpg")
    assert not any("small_copy.jpg" in g for g in names(library.duplicates()))


def test_decisions_new_photos_and_settings_search_again(
    library: Library, photos: Path, searches: list[Strictness]
) -> None:
    first = library.duplicates()
    pair = next(g for g in first if "small_copy.jpg" in str(g.paths))
    mark_not_duplicates(library.catalog, *pair.records)
    assert frozenset({"photo_001.jpg", "small_copy.jpg"}) not in names(library.duplicates())
    (photos / "album").mkdir()
    scene(3, (640, 480)).resize((400, 300)).save(photos / "album" / "new_copy.jpg", quality=75)
    library.update()
    grouped = library.duplicates()
    copy = next(g for g in grouped if "new_copy.jpg" in str(g.paths))
    assert names([copy]) == {frozenset({"photo_003.jpg", "new_copy.jpg"})}
    assert copy.keeper_record.path.endswith("photo_003.jpg")  # the larger photo
    settings = ReviewSettings.load(library.catalog)
    settings.preferred_folders = [str(photos / "album")]
    settings.save(library.catalog)
    copy = next(g for g in library.duplicates() if "new_copy.jpg" in str(g.paths))
    assert copy.keeper_record.path.endswith("new_copy.jpg")  # from the preferred folder now
    assert len(searches) == 4


def test_a_decision_made_in_another_process_is_seen(
    library: Library, photos: Path, tmp_path: Path
) -> None:
    first = library.duplicates()
    pair = next(g for g in first if "small_copy.jpg" in str(g.paths))
    other = Catalog(library.paths.catalog)  # the app, beside this command
    try:
        mark_not_duplicates(other, *pair.records)
    finally:
        other.close()
    assert frozenset({"photo_001.jpg", "small_copy.jpg"}) not in names(library.duplicates())


def test_photos_another_process_indexed_are_grouped_and_stay_grouped(
    library: Library, photos: Path, tmp_path: Path
) -> None:
    library.duplicates()  # the index is open in this process (the app) from here on
    scene(4, (640, 480)).resize((400, 300)).save(photos / "new_copy.jpg", quality=75)
    with Library(tmp_path / "data", device="cpu") as command:  # `photofinder index` beside it
        command.update()
    pair = frozenset({"photo_004.jpg", "new_copy.jpg"})
    assert pair in names(library.duplicates())
    library.close()
    with Library(tmp_path / "data", device="cpu") as again:  # the app started again
        assert pair in names(again.duplicates())


def test_damaged_remembered_groups_search_again(
    library: Library, photos: Path, searches: list[Strictness]
) -> None:
    first = shown(library.duplicates())
    conn = library.catalog._conn  # damage what the search wrote
    for damage in ("UPDATE duplicate_results SET groups = '[[\"x\"'",
                   "UPDATE duplicate_results SET groups = '[[0.9, 123456]]'",
                   "UPDATE duplicate_results SET considered = x'0102'",
                   "UPDATE duplicate_results SET absent = 7"):
        conn.execute(damage)
        assert shown(library.duplicates()) == first
    assert len(searches) == 5


def test_a_catalogue_that_cannot_be_written_still_finds_the_groups(
    library: Library, photos: Path, searches: list[Strictness]
) -> None:
    conn = library.catalog._conn  # every write fails, as on a read-only file
    conn.execute("PRAGMA query_only = 1")
    try:
        first = shown(library.duplicates())
        assert shown(library.duplicates()) == first
    finally:
        conn.execute("PRAGMA query_only = 0")
    assert len(searches) == 2  # nothing could be remembered


def test_a_pair_that_could_not_be_checked_is_not_remembered(
    library: Library, photos: Path, searches: list[Strictness], monkeypatch: pytest.MonkeyPatch
) -> None:
    real = review.GeometricConfirmer.__call__

    def unreadable_first(
        self: review.GeometricConfirmer, pairs: list[tuple[FileRecord, FileRecord]]
    ) -> list[bool | None]:
        verdicts = real(self, pairs)
        return [None, *verdicts[1:]] if verdicts else verdicts

    monkeypatch.setattr(review.GeometricConfirmer, "__call__", unreadable_first)
    library.duplicates()
    monkeypatch.setattr(review.GeometricConfirmer, "__call__", real)
    library.duplicates()  # searched again: the pair is checked now
    library.duplicates()
    assert len(searches) == 2


# --- the change counter ----------------------------------------------------------------------
def test_the_counter_moves_with_every_change_groups_depend_on(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path / "catalog.sqlite3")
    try:
        root = catalog.add_root(tmp_path)
        counts = [catalog.change_count()]

        def changed() -> bool:
            counts.append(catalog.change_count())
            return counts[-1] != counts[-2]

        file_id = catalog.upsert_seen(root.id, str(tmp_path / "a.jpg"), 10, 1)
        assert changed()
        catalog.mark_failed(file_id, "not a photo")
        catalog.requeue_failed([root.id], everything=True)
        catalog.mark_failed(file_id, "not a photo again")
        assert not changed()  # a file that never was a photo: nothing to regroup
        catalog.set_neighbours_seq("m", "1", 5)
        assert not changed()  # the neighbour mark alone
        conn = catalog._conn  # each table's writes, one by one
        writes = [
            "UPDATE files SET status = 'ok', content_hash = 'h' WHERE id = 1",
            "UPDATE files SET path = 'moved.jpg' WHERE id = 1",
            "INSERT INTO vectors(file_id, method, version, vector) VALUES (1, 'm', '1', x'00')",
            "UPDATE vectors SET vector = x'01'",
            "INSERT INTO neighbours(method, version, a, b) VALUES ('m', '1', 1, 1)",
            "DELETE FROM neighbours",
            "DELETE FROM vectors",
            "INSERT INTO decisions(hash_a, hash_b, kind, created_at) VALUES ('a', 'b', 'k', 0)",
            "DELETE FROM decisions",
            "INSERT INTO settings(key, value) VALUES ('duplicate_review', '{}')",
            "UPDATE settings SET value = '[]' WHERE key = 'duplicate_review'",
            "DELETE FROM settings WHERE key = 'duplicate_review'",
            "DELETE FROM files",
        ]
        for write in writes:
            conn.execute(write)
            assert changed(), write
    finally:
        catalog.close()


def test_an_older_catalogue_gets_the_counter_and_a_rebuild_forgets_the_groups(
    tmp_path: Path,
) -> None:
    upgraded = Catalog(catalogue_at(tmp_path / "old.sqlite3", 8))
    try:
        assert upgraded.change_count() == 0
        upgraded.set_setting("duplicate_review", "{}")
        assert upgraded.change_count() == 1
        version = upgraded._conn.execute("PRAGMA user_version").fetchone()[0]
        assert version == SCHEMA_VERSION
    finally:
        upgraded.close()
    from photofinder.core.storage import repair

    assert {"duplicate_results", "changes"} <= repair.SKIPPED_TABLES


def test_a_remembered_result_holds_only_for_its_counter(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path / "catalog.sqlite3")
    try:
        found = grouping.FoundGroups([], considered=[], absent=[])
        key = remembered_groups.search_key(Strictness.NEAR, "m", "1", "8")
        remembered_groups.remember(catalog, key, catalog.change_count(), found)
        assert remembered_groups.recall(catalog, key) == []
        other = remembered_groups.search_key(Strictness.SIMILAR, "m", "1", "8")
        assert remembered_groups.recall(catalog, other) is None
        catalog.set_setting("duplicate_review", "{}")
        assert remembered_groups.recall(catalog, key) is None
    finally:
        catalog.close()


def test_a_locked_catalogue_does_not_fail_remembering(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from photofinder.core.storage import catalog_results

    monkeypatch.setattr(catalog_results, "CACHE_WRITE_TIMEOUT_S", 0.05)
    catalog = Catalog(tmp_path / "catalog.sqlite3")
    other = sqlite3.connect(catalog.path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        key = remembered_groups.search_key(Strictness.NEAR, "m", "1", "8")
        remembered_groups.remember(catalog, key, 0, grouping.FoundGroups([], [], []))
        other.execute("ROLLBACK")
        assert remembered_groups.recall(catalog, key) is None
    finally:
        other.close()
        catalog.close()
