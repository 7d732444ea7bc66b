"""Each pair is checked once, ever: verdicts kept by content hash and checker version."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from photofinder.core.duplicates import remembered_groups, review
from photofinder.core.duplicates.grouping import Strictness
from photofinder.core.duplicates.verdicts import remembered
from photofinder.core.library import Library
from photofinder.core.storage import catalog_verdicts, repair
from photofinder.core.storage.catalog import Catalog, FileRecord
from photofinder.core.storage.schema import SCHEMA_VERSION
from tests.support.old_catalogue import catalogue_at
from tests.support.photos import scene

Pairs = list[tuple[FileRecord, FileRecord]]


def record(file_id: int, content_hash: str | None) -> FileRecord:
    return FileRecord(file_id, 1, f"/photos/{file_id}.jpg", 1000, 0, content_hash, 100, 100,
                      "JPEG", None, "ok", None)


class Counting:
    """A checker that says "same" for pairs of even total id, counting what it is asked."""

    def __init__(self) -> None:
        self.calls = 0
        self.pairs: Pairs = []

    def __call__(self, pairs: Pairs) -> list[bool]:
        self.calls += 1
        self.pairs += pairs
        return [(a.id + b.id) % 2 == 0 for a, b in pairs]


@pytest.fixture
def catalog(tmp_path: Path) -> Iterator[Catalog]:
    opened = Catalog(tmp_path / "catalog.sqlite3")
    yield opened
    opened.close()


A, B, C, D = record(1, "ha"), record(2, "hb"), record(3, "hc"), record(4, "hd")


def test_a_second_call_asks_the_checker_nothing(catalog: Catalog) -> None:
    checker = Counting()
    check = remembered(checker, catalog, "1")
    pairs = [(A, B), (A, C), (B, D)]
    first = check(pairs)
    assert (checker.calls, len(checker.pairs)) == (1, 3) and first == [False, True, True]
    assert check(pairs) == first and check([(D, B), (C, A)]) == [True, True]  # either order
    assert checker.calls == 1
    assert catalog.verdict_count() == 3


def test_a_pair_that_could_not_be_checked_is_not_remembered(catalog: Catalog) -> None:
    asked: Pairs = []

    def unreadable_once(pairs: Pairs) -> list[bool | None]:
        first_time = not asked
        asked.extend(pairs)
        return [None if first_time else True for _ in pairs]  # a photo could not be read

    check = remembered(unreadable_once, catalog, "1")
    assert check([(A, B)]) == [None]
    assert catalog.verdict_count() == 0
    assert check([(A, B)]) == [True] and len(asked) == 2  # checked again, then remembered
    assert check([(A, B)]) == [True] and len(asked) == 2


def test_an_unreadable_photo_gets_no_lasting_verdict(tmp_path: Path) -> None:
    """The geometric checker says None (not False) when a photo's pixels cannot be had."""
    a, b = record(1, "ha"), record(2, "hb")
    opened = Catalog(tmp_path / "catalog.sqlite3")  # no thumbnails, no files
    try:
        assert review.geometric_confirmer(opened)([(a, b)]) == [None]
    finally:
        opened.close()


def test_a_changed_photo_is_checked_again_and_only_its_pairs(catalog: Catalog) -> None:
    checker = Counting()
    check = remembered(checker, catalog, "1")
    check([(A, B), (A, C)])
    edited = record(3, "hc-edited")  # same file, new content
    assert check([(A, B), (A, edited)]) == [False, True]
    assert checker.pairs[2:] == [(A, edited)]


def test_a_new_checker_version_checks_again(catalog: Catalog) -> None:
    first = Counting()
    remembered(first, catalog, "1")([(A, B), (A, C)])
    second = Counting()
    remembered(second, catalog, "2")([(A, B), (A, C)])
    assert second.calls == 1 and len(second.pairs) == 2
    third = Counting()
    remembered(third, catalog, "1")([(A, B)])  # the old version's verdicts are still there
    assert third.calls == 0


def test_pairs_without_a_content_hash_are_always_checked_never_stored(catalog: Catalog) -> None:
    checker = Counting()
    check = remembered(checker, catalog, "1")
    unhashed = record(5, None)
    assert check([(A, unhashed), (A, B)]) == [True, False]
    assert check([(A, unhashed), (A, B)]) == [True, False]
    assert checker.pairs == [(A, unhashed), (A, B), (A, unhashed)]
    assert catalog.verdict_count() == 1


def test_one_hash_pair_is_checked_once_in_a_call(catalog: Catalog) -> None:
    checker = Counting()
    copy_of_a = record(7, "ha")  # an exact copy of A: the pairs with B are one question
    assert remembered(checker, catalog, "1")([(A, B), (copy_of_a, B)]) == [False, False]
    assert checker.pairs == [(A, B)]


def test_no_call_at_all_when_every_pair_is_known(catalog: Catalog) -> None:
    def never(pairs: Pairs) -> list[bool]:
        raise AssertionError("the checker was asked")

    remembered(Counting(), catalog, "1")([(A, B)])
    assert remembered(never, catalog, "1")([(B, A)]) == [False]
    assert remembered(never, catalog, "1")([]) == []


def test_many_pairs_are_looked_up_in_chunks(catalog: Catalog) -> None:
    many = [(record(n, f"a{n:05d}"), record(n + 1 + n % 2, f"b{n:05d}")) for n in range(1000)]
    assert remembered(Counting(), catalog, "1")(many) == [n % 2 == 1 for n in range(1000)]
    again = Counting()
    assert remembered(again, catalog, "1")(many) == [n % 2 == 1 for n in range(1000)]
    assert again.calls == 0


# --- a catalogue that cannot take the verdicts ----------------------------------------------
def test_a_read_only_catalogue_checks_and_does_not_fail(catalog: Catalog) -> None:
    catalog._conn.execute("PRAGMA query_only = 1")  # every write fails as on a read-only file
    checker = Counting()
    check = remembered(checker, catalog, "1")
    assert check([(A, B), (A, C)]) == [False, True]
    assert check([(A, B)]) == [False]  # nothing was stored: checked again
    assert checker.calls == 2
    catalog._conn.execute("PRAGMA query_only = 0")
    assert catalog.verdict_count() == 0


def test_a_catalogue_locked_by_another_process_does_not_fail_the_run(
    catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(catalog_verdicts, "CACHE_WRITE_TIMEOUT_S", 0.05)
    other = sqlite3.connect(catalog.path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another writer holds the catalogue
    checker = Counting()
    check = remembered(checker, catalog, "1")
    try:
        assert check([(A, B), (A, C)]) == [False, True]
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert catalog.verdict_count() == 0
    assert check([(A, B)]) == [False] and checker.calls == 2  # stored now
    assert catalog.verdict_count() == 1
    catalog.set_setting("after", "the usual wait is back")  # the short wait was only for this


def test_two_connections_store_and_read_each_others_verdicts(
    catalog: Catalog, tmp_path: Path
) -> None:
    app = Catalog(catalog.path)  # the GUI beside the command
    try:
        remembered(Counting(), catalog, "1")([(A, B)])
        remembered(Counting(), app, "1")([(A, C), (A, B)])
        checker = Counting()
        assert remembered(checker, catalog, "1")([(A, C), (B, A)]) == [True, False]
        assert checker.calls == 0
    finally:
        app.close()


# --- storage: migration and repair ----------------------------------------------------------
def test_a_version_five_catalogue_gains_the_table_and_keeps_its_rows(tmp_path: Path) -> None:
    upgraded = Catalog(catalogue_at(tmp_path / "old.sqlite3", 5))
    try:
        assert [r.path for r in upgraded.roots()] == ["/p"] and SCHEMA_VERSION >= 6
        upgraded.add_verdicts({("hb", "ha"): True}, "1")
        assert upgraded.verdicts([("ha", "hb")], "1") == {("ha", "hb"): True}
    finally:
        upgraded.close()


def test_repair_drops_the_verdicts_like_the_other_caches(
    catalog: Catalog, tmp_path: Path
) -> None:
    catalog.add_verdicts({("ha", "hb"): True}, "1")
    catalog.close()
    source = sqlite3.connect(catalog.path, isolation_level=None)
    target = tmp_path / "rebuilt.sqlite3"
    report = repair.RepairReport(catalog=catalog.path, healthy=False)
    try:
        repair._rebuild(source, target, tmp_path, report)
    finally:
        source.close()
    assert "verdicts" not in {t.name for t in report.tables}
    assert {"roots", "files"} <= {t.name for t in report.tables}
    rebuilt = sqlite3.connect(target)
    assert rebuilt.execute("SELECT COUNT(*) FROM verdicts").fetchone()[0] == 0
    rebuilt.close()


# --- the duplicate search -------------------------------------------------------------------
@pytest.fixture
def counted_checks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many pairs the real geometric checker was asked about, per run. Every run searches
    (the groups of the last are not recalled), so that the verdicts are what answer."""
    asked: list[int] = []
    monkeypatch.setattr(remembered_groups, "recall", lambda catalog, key: None)

    class Counting(review.GeometricConfirmer):
        def __init__(self, catalog: Catalog) -> None:
            super().__init__(catalog)
            asked.append(0)

        def __call__(self, pairs: Pairs) -> list[bool | None]:
            asked[-1] += len(pairs)
            return super().__call__(pairs)

    def counting(catalog: Catalog) -> review.GeometricConfirmer:
        return Counting(catalog)

    monkeypatch.setattr(review, "geometric_confirmer", counting)
    return asked


@pytest.fixture
def photos(indexed_copies: Path) -> Path:
    return indexed_copies


def names(library: Library, strictness: Strictness = Strictness.NEAR) -> set[frozenset[str]]:
    return {frozenset(Path(p).name for p in g.paths) for g in library.duplicates(strictness)}


def test_a_second_run_and_a_looser_one_answer_from_the_store(
    library: Library, photos: Path, counted_checks: list[int]
) -> None:
    first = names(library)
    assert counted_checks[0] > 0
    assert frozenset({"photo_001.jpg", "small_copy.jpg"}) in first
    assert names(library) == first and counted_checks[1] == 0
    similar = names(library, Strictness.SIMILAR)  # more candidates: only the new are checked
    assert names(library, Strictness.SIMILAR) == similar and counted_checks[3] == 0
    assert names(library) == first and counted_checks[4] == 0  # back: all from the store


def test_moves_keep_the_verdicts_and_an_edit_is_checked_again(
    library: Library, photos: Path, counted_checks: list[int]
) -> None:
    first = names(library)
    checked_first = counted_checks[0]
    (photos / "album").mkdir()
    shutil.move(photos / "small_copy.jpg", photos / "album" / "moved_copy.jpg")
    library.update()
    moved = names(library)
    assert counted_checks[1] == 0
    assert moved == {frozenset("moved_copy.jpg" if n == "small_copy.jpg" else n for n in g)
                     for g in first}
    scene(2, (640, 480)).resize((400, 300)).save(photos / "medium_copy.jpg", quality=60)
    library.update()
    assert frozenset({"photo_002.jpg", "medium_copy.jpg"}) in names(library)
    assert 0 < counted_checks[2] < checked_first  # only the pairs of the edited photo


def test_a_new_checker_version_checks_every_pair_again(
    library: Library, photos: Path, counted_checks: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    first = names(library)
    monkeypatch.setattr(review, "CHECKER_VERSION", "test-bumped")
    assert names(library) == first
    assert counted_checks[1] == counted_checks[0] > 0


def test_a_read_only_catalogue_still_finds_the_duplicates(
    library: Library, photos: Path, counted_checks: list[int]
) -> None:
    library.catalog._conn.execute("PRAGMA query_only = 1")
    try:
        first = names(library)
        assert names(library) == first and counted_checks[1] == counted_checks[0] > 0
    finally:
        library.catalog._conn.execute("PRAGMA query_only = 0")
