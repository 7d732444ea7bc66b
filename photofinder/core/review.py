"""Duplicate review for a library: settings the user keeps, geometric confirmation, and the
decisions ("not a duplicate", "keep all") that make dismissed pairs stay dismissed."""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from photofinder.core.catalog import Catalog, FileRecord
from photofinder.core.duplicates import DuplicateGroup, Strictness, find_duplicates
from photofinder.core.keepers import DEFAULT_RULES, RULES
from photofinder.core.vector_index import VectorIndex

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


def confirm_geometrically(pairs: list[tuple[FileRecord, FileRecord]]) -> list[bool]:
    """Keypoint matches that agree on one transform (photofinder.core.verify), in parallel."""
    from photofinder.core.verify import default_workers, verify

    def check(pair: tuple[FileRecord, FileRecord]) -> bool:
        try:
            return verify(pair[0].path, pair[1].path).verified
        except Exception:  # an unreadable or vanished file is simply not confirmed
            return False

    with ThreadPoolExecutor(default_workers()) as pool:
        return list(pool.map(check, pairs))


def review_duplicates(
    index: VectorIndex, catalog: Catalog, strictness: Strictness, geometric: bool = True
) -> list[DuplicateGroup]:
    settings = ReviewSettings.load(catalog)
    return find_duplicates(
        index, catalog, strictness,
        confirm=confirm_geometrically if geometric else None,
        dismissed=catalog.decided_pairs,
        rules=settings.rules,
        preferred_folders=settings.preferred_folders,
        reference_folders=settings.reference_folders,
    )


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
