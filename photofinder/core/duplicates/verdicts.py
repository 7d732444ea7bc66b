"""Check each pair once, ever: the duplicate checker's verdicts remembered in the catalogue by
the photos' content hashes and the checker's version, so another run, another strictness, a
re-index after moves or the app after the command answers from the store."""

from __future__ import annotations

import sqlite3
from contextlib import suppress

from photofinder.core.duplicates.grouping import Confirm
from photofinder.core.errors import CatalogError
from photofinder.core.storage.catalog import Catalog, FileRecord
from photofinder.core.storage.catalog_verdicts import HashPair, hash_pair

Pairs = list[tuple[FileRecord, FileRecord]]


def remembered(confirm: Confirm, catalog: Catalog, checker_version: str) -> Confirm:
    """`confirm`, answering the pairs it judged before (same content hashes, same
    `checker_version`) from `catalog` and calling it once per call for the rest, whose
    verdicts it then stores in one transaction. A pair whose photos lack a content hash, or
    that could not be checked (None: a photo could not be read), is checked again next time.
    A catalogue that cannot be read or written (read-only, locked by another process) only
    means checking again: it never fails the run."""

    def check(pairs: Pairs) -> list[bool | None]:
        keys = [_key(a, b) for a, b in pairs]
        known = _stored(catalog, {key for key in keys if key is not None}, checker_version)
        todo = _to_check(keys, known)
        checked = confirm([pairs[number] for number in todo.values()]) if todo else []
        fresh = dict(zip(todo, checked, strict=True))
        _store(catalog, {key: same for key, same in fresh.items()
                         if isinstance(key, tuple) and same is not None}, checker_version)
        answers: dict[HashPair | int, bool | None] = dict(fresh)
        answers.update(known.items())
        return [answers[_todo_key(key, number)] for number, key in enumerate(keys)]

    return check


def _key(a: FileRecord, b: FileRecord) -> HashPair | None:
    """The stored pair of two photos' content hashes; None when one has none."""
    if not a.content_hash or not b.content_hash:
        return None
    return hash_pair(a.content_hash, b.content_hash)


def _todo_key(key: HashPair | None, number: int) -> HashPair | int:
    """What a pair to check is known by: its hash pair (checked once however often it comes
    up), or its position when it has none."""
    return key if key is not None else number


def _to_check(
    keys: list[HashPair | None], known: dict[HashPair, bool]
) -> dict[HashPair | int, int]:
    """The pairs to check, each by its `_todo_key`, with the position of its first pair."""
    todo: dict[HashPair | int, int] = {}
    for number, key in enumerate(keys):
        if key is None or key not in known:
            todo.setdefault(_todo_key(key, number), number)
    return todo


def _stored(catalog: Catalog, keys: set[HashPair], version: str) -> dict[HashPair, bool]:
    try:
        return catalog.verdicts(keys, version)
    except (CatalogError, sqlite3.Error):  # unreadable now: check the pairs again
        return {}


def _store(catalog: Catalog, verdicts: dict[HashPair, bool], version: str) -> None:
    with suppress(CatalogError, sqlite3.Error):  # read-only, locked or full: checked next time
        catalog.add_verdicts(verdicts, version)
