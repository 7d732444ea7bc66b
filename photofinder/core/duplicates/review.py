"""Duplicate review for a library: settings the user keeps, geometric confirmation, and the
decisions ("not a duplicate", "keep all") that make dismissed pairs stay dismissed."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from photofinder.core.duplicates import remembered_groups
from photofinder.core.duplicates.check_pool import CheckPool, tasks_of
from photofinder.core.duplicates.grouping import (
    Confirm,
    DuplicateGroup,
    DuplicateSearch,
    Strictness,
    find_groups,
    with_keepers,
)
from photofinder.core.duplicates.keepers import DEFAULT_RULES, RULES
from photofinder.core.duplicates.pair_check import PhotoSource, oriented, other_moments
from photofinder.core.duplicates.remembered_groups import search_key
from photofinder.core.duplicates.verdicts import remembered
from photofinder.core.matching.stored_keypoints import STORED_VERSION
from photofinder.core.progress import CancelToken, ProgressCallback, ignore_progress
from photofinder.core.storage.catalog import Catalog, FileRecord
from photofinder.core.storage.vector_index import IndexKey, VectorIndex

NOT_DUPLICATE = "not_duplicate"
KEEP_ALL = "keep_all"
_SETTINGS_KEY = "duplicate_review"
@dataclass
class ReviewSettings:
    rules: list[str] = field(default_factory=lambda: list(DEFAULT_RULES))
    preferred_folders: list[str] = field(default_factory=list)
    reference_folders: list[str] = field(default_factory=list)

    @classmethod
    def load(cls, catalog: Catalog) -> ReviewSettings:
        raw = catalog.get_setting(_SETTINGS_KEY)
        if not raw:
            return cls()
        data = json.loads(raw)
        rules = [r for r in data.get("rules", []) if r in RULES] or list(DEFAULT_RULES)
        return cls(rules, list(data.get("preferred_folders", [])),
                   list(data.get("reference_folders", [])))

    def save(self, catalog: Catalog) -> None:
        unknown = [r for r in self.rules if r not in RULES]
        if unknown:
            raise ValueError(f"unknown keeper rule {unknown[0]!r}; known: {', '.join(RULES)}")
        catalog.set_setting(_SETTINGS_KEY, json.dumps(self.__dict__))


# The version of what geometric_confirmer decides: verdicts stored under another are checked
# again (photofinder.core.duplicates.verdicts). Bump it whenever the checker's verdicts change.
CHECKER_VERSION = "8"


class GeometricConfirmer:
    """Confirms candidate pairs as the same photo (photofinder.core.duplicates.pair_check),
    from the stored thumbnails and keypoints, on all cores
    (photofinder.core.duplicates.check_pool). Two shots of one camera at different moments are
    never the same photo. Close it to stop its worker processes."""

    def __init__(self, catalog: Catalog, pool: CheckPool | None = None) -> None:
        self._catalog = catalog
        self._pool = pool or CheckPool()

    def __call__(self, pairs: list[tuple[FileRecord, FileRecord]]) -> list[bool | None]:
        series = {number for number, (a, b) in enumerate(pairs) if other_moments(a, b)}
        open_pairs = [oriented(*pair) for number, pair in enumerate(pairs)
                      if number not in series]
        records = {r.id: r for pair in open_pairs for r in pair}
        stored = self._catalog.keypoints_of(list(records), STORED_VERSION)
        source_of = {file_id: PhotoSource.of(record, self._catalog.thumbnail(file_id),
                                             stored.get(file_id))
                     for file_id, record in records.items()}
        sources = [(source_of[a.id], source_of[b.id]) for a, b in open_pairs]
        checked = iter(self._pool.check(tasks_of(sources)))
        return [False if number in series else next(checked) for number in range(len(pairs))]

    def close(self) -> None:
        self._pool.close()

    def __enter__(self) -> GeometricConfirmer:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def geometric_confirmer(catalog: Catalog) -> GeometricConfirmer:
    return GeometricConfirmer(catalog)


def review_duplicates(
    catalog: Catalog,
    key: IndexKey,
    open_index: Callable[[], VectorIndex],
    strictness: Strictness,
    geometric: bool = True,
    progress: ProgressCallback = ignore_progress,
    cancel: CancelToken | None = None,
) -> list[DuplicateGroup]:
    """The library's duplicate groups with the keepers its settings suggest: those remembered
    when nothing they depend on has changed (photofinder.core.duplicates.remembered_groups),
    else found again (the index opened only then) and remembered, unless a pair could not be
    checked this time."""
    settings = ReviewSettings.load(catalog)
    search = DuplicateSearch(
        strictness,
        dismissed=catalog.decided_pairs,
        rules=settings.rules,
        preferred_folders=settings.preferred_folders,
        reference_folders=settings.reference_folders,
    )
    result_key = search_key(strictness, key.method, key.version,
                            CHECKER_VERSION if geometric else None)
    groups = remembered_groups.recall(catalog, result_key)
    if groups is not None:
        return with_keepers(groups, search)
    index = open_index()
    changes = catalog.change_count()  # before anything is read: a change after it counts
    index.sync(catalog)  # another process may have indexed photos since it was opened
    with geometric_confirmer(catalog) as confirmer:
        confirm = _Answered(remembered(confirmer, catalog, CHECKER_VERSION))
        if geometric:
            search = replace(search, confirm=confirm)
        found = find_groups(index, catalog, search, progress=progress, cancel=cancel)
    if confirm.all_answered:
        remembered_groups.remember(catalog, result_key, changes, found)
    return with_keepers(found.groups, search)


class _Answered:
    """A check that tells whether it gave every pair a verdict (None: could not be checked)."""

    def __init__(self, confirm: Confirm) -> None:
        self._confirm = confirm
        self.all_answered = True

    def __call__(self, pairs: list[tuple[FileRecord, FileRecord]]) -> Sequence[bool | None]:
        verdicts = self._confirm(pairs)
        self.all_answered = self.all_answered and None not in verdicts
        return verdicts


def _pairs_of(records: Sequence[FileRecord]) -> list[tuple[str, str]]:
    """Hash pairs of the records; two exact copies make the pair (h, h)."""
    hashes = sorted(r.content_hash for r in records if r.content_hash)
    return sorted(set(itertools.combinations(hashes, 2)))


def mark_not_duplicates(catalog: Catalog, a: FileRecord, b: FileRecord) -> None:
    catalog.add_decisions(_pairs_of([a, b]), NOT_DUPLICATE)


def keep_all(catalog: Catalog, group: DuplicateGroup) -> None:
    catalog.add_decisions(_pairs_of(group.records), KEEP_ALL)


def undo_decisions(catalog: Catalog, records: Sequence[FileRecord]) -> None:
    catalog.remove_decisions(_pairs_of(records))
