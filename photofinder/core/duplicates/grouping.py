"""Duplicate groups: candidate pairs (photofinder.core.duplicates.candidates) confirmed at a
strictness, then grouped without chaining, each group with a suggested keeper."""

from __future__ import annotations

import heapq
import itertools
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import partial

from photofinder.core.duplicates.candidates import (
    LOWEST_CANDIDATE,
    Pair,
    exact_pairs,
    neighbour_pairs,
    ordered,
    turned_pairs,
)
from photofinder.core.duplicates.implied import check_in_waves
from photofinder.core.duplicates.keepers import DEFAULT_RULES, KeeperChoice, suggest_keeper
from photofinder.core.duplicates.pair_order import local_order
from photofinder.core.photos.imageio import RAW_SUFFIXES
from photofinder.core.photos.presence import PresentFiles
from photofinder.core.progress import CancelToken, Progress, ProgressCallback, ignore_progress
from photofinder.core.storage.catalog import Catalog, FileRecord
from photofinder.core.storage.vector_index import VectorIndex

# A check of candidate pairs: True for the same photo, False for not, None when it could not be
# checked now (a photo could not be read): not the same photo this time, and never remembered.
Confirm = Callable[[list[tuple[FileRecord, FileRecord]]], Sequence[bool | None]]
Dismissed = Callable[[Iterable[tuple[str, str]]], set[tuple[str, str]]]
CHECK_CHUNK = 1024  # candidate pairs checked between progress reports and cancel checks
# A near-duplicate group is one photo: a member that fails the check against this share of
# the other members (judged once it has been checked against at least MIN_VERDICTS of them)
# is another shot that happened to pass against the centre, and leaves the group.
CONTRADICTED = 0.4
MIN_VERDICTS = 3
GROUP_SAMPLE = 12  # each member is checked against the centre and the next members up to this


class Strictness(StrEnum):
    EXACT = "exact"  # byte-identical files only
    NEAR = "near"  # the same photo: resized, re-encoded, cropped, rotated, mirrored, edited
    SIMILAR = "similar"  # also different shots of one scene (bursts, series)


@dataclass(frozen=True)
class Thresholds:
    candidate: float  # cosine similarity that makes a pair worth a closer look
    accept: float  # at or above this a pair counts without a geometric check ...
    checked: bool  # ... unless there is one at hand and the strictness says every pair passes


THRESHOLDS = {
    Strictness.NEAR: Thresholds(candidate=LOWEST_CANDIDATE, accept=0.985, checked=True),
    # Everything near finds, and any pair this similar unchecked (bursts, series).
    Strictness.SIMILAR: Thresholds(candidate=LOWEST_CANDIDATE, accept=0.86, checked=False),
}
DEFAULT_STRICTNESS = Strictness.NEAR


@dataclass(frozen=True)
class DuplicateGroup:
    records: list[FileRecord]
    min_score: float  # weakest similarity inside (exact copies 1.0; turned copies: of layout)
    keeper: KeeperChoice

    @property
    def file_ids(self) -> list[int]:
        return [r.id for r in self.records]

    @property
    def paths(self) -> list[str]:
        return [r.path for r in self.records]

    @property
    def keeper_record(self) -> FileRecord:
        return next(r for r in self.records if r.id == self.keeper.keeper_id)

    @property
    def reclaimable_bytes(self) -> int:
        removable = set(self.keeper.removable)
        return sum(r.size for r in self.records if r.id in removable)


def raw_jpeg_siblings(a: FileRecord, b: FileRecord) -> bool:
    """A RAW file and the JPEG (or HEIC) beside it with the same name are one photo."""
    return _siblings(sibling_name(a.path), sibling_name(b.path))


SiblingName = tuple[bool, str, str]  # (a RAW file, its folder, its stem in lower case)


def sibling_name(path: str) -> SiblingName:
    """What `raw_jpeg_siblings` compares of a path, as pathlib reads it (a second of pathlib
    parsing per 10,000 candidate pairs made it the dearest step of a second run)."""
    folder, name = os.path.split(path)
    dot = name.rfind(".")
    has_suffix = 0 < dot < len(name) - 1
    suffix = name[dot:].lower() if has_suffix else ""
    return suffix in RAW_SUFFIXES, folder, (name[:dot] if has_suffix else name).lower()


def _siblings(a: SiblingName, b: SiblingName) -> bool:
    return a[0] != b[0] and a[1] == b[1] and a[2] == b[2]


def star_groups(
    pairs: dict[Pair, float], looser: dict[Pair, float] | None = None
) -> list[tuple[list[int], float]]:
    """Group around centres: the photo with the most confirmed links takes its unassigned
    neighbours, and so on. A group never grows through a neighbour of a neighbour, so a
    series of close pairs cannot chain unrelated photos together. `looser` links (similar
    shots) come second: they add photos to the groups of `pairs` through their centres and
    group the rest, so the groups of `pairs` stay whole. The groups depend on the pairs and
    their scores, not on the order they come in: ties go to the smaller photo number."""
    groups = _stars(pairs)
    if not looser:
        return groups
    assigned = {member for members, _ in groups for member in members}
    group_of_centre = {members[0]: number for number, (members, _) in enumerate(groups)}
    for (a, b), score in sorted(looser.items(), key=lambda item: (-item[1], item[0])):
        for centre, other in ((a, b), (b, a)):
            if centre in group_of_centre and other not in assigned:
                members, weakest = groups[group_of_centre[centre]]
                groups[group_of_centre[centre]] = ([*members, other], min(weakest, score))
                assigned.add(other)
    rest = {p: s for p, s in looser.items() if p[0] not in assigned and p[1] not in assigned}
    return groups + _stars(rest)


def _stars(pairs: dict[Pair, float]) -> list[tuple[list[int], float]]:
    links: dict[int, dict[int, float]] = {}
    for (a, b), score in pairs.items():
        links.setdefault(a, {})[b] = score
        links.setdefault(b, {})[a] = score
    assigned: set[int] = set()
    groups: list[tuple[list[int], float]] = []
    heap = [(-len(links[n]), n) for n in links]
    heapq.heapify(heap)
    while heap:
        negative_degree, centre = heapq.heappop(heap)
        if centre in assigned:
            continue
        members = sorted(m for m in links[centre] if m not in assigned)
        if len(members) != -negative_degree:  # neighbours were taken since: re-queue
            if members:
                heapq.heappush(heap, (-len(members), centre))
            continue
        assigned.update([centre, *members])
        groups.append(([centre, *members], min(links[centre][m] for m in members)))
    return groups


@dataclass(frozen=True)
class DuplicateSearch:
    """What a duplicate search looks for, how it judges pairs, and how it suggests keepers."""

    strictness: Strictness = DEFAULT_STRICTNESS
    # Checks near-duplicate candidates geometrically; without it the `accept` similarity decides.
    confirm: Confirm | None = None
    # The content-hash pairs the user marked as not duplicates (they never group again).
    dismissed: Dismissed | None = None
    rules: Sequence[str] = DEFAULT_RULES
    preferred_folders: Sequence[str] = ()
    reference_folders: Sequence[str] = ()


@dataclass(frozen=True)
class FoundGroups:
    """A search's groups before keepers, each with its weakest similarity, and what they
    depend on outside the catalogue: the catalogue ids of every photo of a candidate pair
    (sorted) and those of them that were not there (not regular files at their paths)."""

    groups: list[tuple[list[FileRecord], float]]
    considered: list[int]
    absent: list[int]


def find_duplicates(
    index: VectorIndex,
    catalog: Catalog,
    search: DuplicateSearch = DuplicateSearch(),
    progress: ProgressCallback = ignore_progress,
    cancel: CancelToken | None = None,
) -> list[DuplicateGroup]:
    """Duplicate groups, largest reclaimable space first, each with a suggested keeper
    (`find_groups`, then `with_keepers`)."""
    return with_keepers(find_groups(index, catalog, search, progress, cancel).groups, search)


def find_groups(
    index: VectorIndex,
    catalog: Catalog,
    search: DuplicateSearch = DuplicateSearch(),
    progress: ProgressCallback = ignore_progress,
    cancel: CancelToken | None = None,
) -> FoundGroups:
    """The groups of the library's duplicates. Checking the candidates reports progress and
    stops between chunks when cancelled (raising `Cancelled`).

    Only photos that are regular files at their paths now take part (a catalogued photo of
    a folder not found, or a link, never does), and the groups depend on the photos alone,
    not on the order they were catalogued in."""
    found = _candidates(index, catalog, search.strictness)
    records = found.records
    pairs, not_duplicates = _without_dismissed(found.pairs, records, search.dismissed)
    if search.strictness is Strictness.EXACT:
        stars = star_groups(pairs)
    else:
        check = None
        if search.confirm is not None:
            check = partial(_check_in_chunks, confirm=search.confirm, records=records,
                            progress=progress, cancel=cancel)
        stars = _near_groups(pairs, THRESHOLDS[search.strictness], check, found.exact,
                             found.turned, not_duplicates)
    groups = [([records[n] for n in numbers], weakest) for numbers, weakest in stars]
    return FoundGroups(groups, found.considered, found.absent)


def with_keepers(
    groups: Iterable[tuple[list[FileRecord], float]], search: DuplicateSearch
) -> list[DuplicateGroup]:
    """The groups, each sorted by path with the keeper the rules suggest, largest
    reclaimable space first."""
    found = [_with_keeper(records, weakest, search) for records, weakest in groups]
    found.sort(key=lambda g: (-g.reclaimable_bytes, g.paths[0]))
    return found


def _without_dismissed(
    pairs: dict[Pair, float], records: dict[int, FileRecord], dismissed: Dismissed | None
) -> tuple[dict[Pair, float], set[Pair]]:
    """The pairs the user did not mark as not duplicates, and those they did."""
    if dismissed is None:
        return pairs, set()
    hash_of = {p: _hash_pair(records[p[0]], records[p[1]]) for p in pairs}
    gone = dismissed(hash_of.values())
    not_duplicates = {p for p in pairs if hash_of[p] in gone}
    return {p: s for p, s in pairs.items() if p not in not_duplicates}, not_duplicates


def _near_groups(
    pairs: dict[Pair, float],
    limits: Thresholds,
    check: Callable[..., list[bool]] | None,
    exact: set[Pair],
    turned: set[Pair],
    not_duplicates: set[Pair],
) -> list[tuple[list[int], float]]:
    """Groups of the confirmed pairs: checked as a whole when the strictness checks every
    pair (implied pairs included, through the group checks), else star groups of the
    confirmed pairs with the similar-only ones added second."""
    same, looser, checked = _confirmed(pairs, limits, check, exact, turned)
    if check is None or not limits.checked:
        return star_groups(same, looser)
    # The group checks use what was checked (a pair implied is checked if sampled) and the
    # user's "not a duplicate".
    verdicts = checked | dict.fromkeys(exact, True) | dict.fromkeys(not_duplicates, False)
    return consistent_groups(same, verdicts, partial(check, stage="checking groups"))


def _with_keeper(
    records: Iterable[FileRecord], weakest: float, search: DuplicateSearch
) -> DuplicateGroup:
    """A group of these photos, sorted by path, with the keeper the rules suggest."""
    members = sorted(records, key=lambda r: r.path)
    keeper = suggest_keeper(members, search.rules, search.preferred_folders,
                            search.reference_folders)
    return DuplicateGroup(members, weakest, keeper)


@dataclass(frozen=True)
class _Candidates:
    """The photos present now, each numbered by content (`content_order`) instead of by its
    catalogue id, their candidate pairs (sorted), which of them are exact copies and which
    turned copies, and the catalogue ids considered and absent (FoundGroups)."""

    records: dict[int, FileRecord]
    pairs: dict[Pair, float]
    exact: set[Pair]
    turned: set[Pair]
    considered: list[int]
    absent: list[int]


def _candidates(index: VectorIndex, catalog: Catalog, strictness: Strictness) -> _Candidates:
    """The candidates of the photos present now. What follows breaks its ties by their
    content numbers, so the groups are a function of the photos. A RAW file and its JPEG are
    never a pair."""
    copies = catalog.hash_groups()
    close: dict[Pair, float] = {}
    turned: dict[Pair, float] = {}
    if strictness is not Strictness.EXACT:
        close = neighbour_pairs(index, catalog, THRESHOLDS[strictness].candidate)
        turned = turned_pairs(catalog)
    wanted = sorted({i for group in copies for i in group} | _ids_in(close) | _ids_in(turned))
    present = PresentFiles()
    found = catalog.files_by_ids(wanted)
    number = content_order([r for r in found.values() if present(r.path)])
    records = {number[i]: r for i, r in found.items() if i in number}
    pairs = exact_pairs(sorted(number[i] for i in group if i in number) for group in copies)
    exact = set(pairs)
    pairs |= {p: s for p, s in _renumbered(close, number).items() if p not in pairs}
    turned = {p: s for p, s in _renumbered(turned, number).items() if p not in pairs}
    pairs |= turned
    names = {n: sibling_name(r.path) for n, r in records.items()}
    pairs = {p: pairs[p] for p in sorted(pairs) if not _siblings(names[p[0]], names[p[1]])}
    absent = [i for i in wanted if i not in number]
    return _Candidates(records, pairs, exact, set(turned), wanted, absent)


def content_order(records: Iterable[FileRecord]) -> dict[int, int]:
    """Catalogue id -> place in (content hash, path) order. Ids follow the order files were
    first seen, which differs between two libraries of the same folder."""
    ranked = sorted(records, key=lambda r: (r.content_hash or "", r.path, r.id))
    return {record.id: place for place, record in enumerate(ranked)}


def _ids_in(pairs: dict[Pair, float]) -> set[int]:
    return {i for pair in pairs for i in pair}


def _renumbered(pairs: dict[Pair, float], number: dict[int, int]) -> dict[Pair, float]:
    """`pairs` between numbered photos, in their numbers."""
    return {
        ordered(number[a], number[b]): score for (a, b), score in pairs.items()
        if a in number and b in number
    }


def _hash_pair(a: FileRecord, b: FileRecord) -> tuple[str, str]:
    ha, hb = a.content_hash or f"id:{a.id}", b.content_hash or f"id:{b.id}"
    return (ha, hb) if ha <= hb else (hb, ha)


def _check_in_chunks(
    pairs: list[Pair],
    confirm: Confirm,
    records: dict[int, FileRecord],
    progress: ProgressCallback,
    cancel: CancelToken | None,
    stage: str = "checking pairs",
    done: int = 0,
    total: int | None = None,
) -> list[bool]:
    """The check's verdicts, run chunk by chunk with progress (`done` of `total` before this
    call, when it is one of several) and a chance to cancel."""
    results: list[bool] = []
    total = len(pairs) if total is None else total
    for start in range(0, len(pairs), CHECK_CHUNK):
        if cancel is not None:
            cancel.checkpoint()
        progress(Progress(stage, done + start, total))
        chunk = pairs[start : start + CHECK_CHUNK]
        results += [same is True for same in confirm([(records[a], records[b]) for a, b in chunk])]
    progress(Progress(stage, done + len(pairs), total))
    return results


def consistent_groups(
    same: dict[Pair, float],
    verdicts: dict[Pair, bool],
    check: Callable[[list[Pair]], list[bool]],
) -> list[tuple[list[int], float]]:
    """Star groups of `same`, each checked as a whole: every member gets a verdict against the
    first GROUP_SAMPLE members, the centre first, so all pairs of a group of up to 13 and a
    bounded number in larger ones (`verdicts` holds those known, `check` gives the rest),
    then the member most contradicted by the others leaves, while one is (CONTRADICTED; on a
    tie the one with the larger number). Another shot passes against one photo now and then (a
    smile is a small change) but rarely against all of its copies. Members that left are
    grouped again among themselves, the same way."""
    pending = [same]
    result: list[tuple[list[int], float]] = []
    while pending:
        links = pending.pop()
        groups = _stars(links)
        unchecked = local_order({
            ordered(member, other) for members, _ in groups if len(members) > MIN_VERDICTS
            for member in members for other in members[:GROUP_SAMPLE] if other != member
        } - verdicts.keys())
        if unchecked:
            verdicts.update(zip(unchecked, check(unchecked), strict=True))
        for members, weakest in groups:
            kept = _uncontradicted(members, verdicts)
            if len(kept) == len(members):
                result.append((members, weakest))
                continue
            if len(kept) > 1:
                scores = [links[p] for p in itertools.combinations(sorted(kept), 2) if p in links]
                result.append((kept, min(scores, default=weakest)))
            left = set(members) - set(kept)
            rest = {p: s for p, s in links.items() if p[0] in left and p[1] in left}
            if rest:
                pending.append(rest)
    return result


def _uncontradicted(members: list[int], verdicts: dict[Pair, bool]) -> list[int]:
    """`members` less, one at a time, the member failing the check against the largest share
    (at least CONTRADICTED) of the others it was checked against."""
    kept = list(members)
    while len(kept) > MIN_VERDICTS:
        shares = {}
        for member in kept:
            said = [verdicts[p] for p in (ordered(member, o) for o in kept if o != member)
                    if p in verdicts]
            if len(said) >= MIN_VERDICTS:
                shares[member] = said.count(False) / len(said)
        worst = max(shares, key=lambda m: (shares[m], m), default=None)
        if worst is None or shares[worst] < CONTRADICTED:
            break
        kept.remove(worst)
    return kept


def _confirmed(
    pairs: dict[Pair, float],
    limits: Thresholds,
    check: Callable[..., list[bool]] | None,
    exact: set[Pair],
    turned: set[Pair],
) -> tuple[dict[Pair, float], dict[Pair, float], dict[Pair, bool]]:
    """(same photo, similar only, the verdicts of the pairs checked). With a check at hand:
    exact copies, the pairs passing it and the pairs inside a set of photos it confirmed as
    one (photofinder.core.duplicates.implied) are the same photo; a pair failing it still
    counts as similar at or above `accept` unless the strictness is `checked`. Without one:
    the pairs at or above `accept` are the same photo (turned copies, judged by layout alone,
    never are)."""
    same = {p: s for p, s in pairs.items() if p in exact}
    if check is None:
        same.update({p: s for p, s in pairs.items() if s >= limits.accept and p not in turned})
        return same, {}, {}
    doubtful = {p: s for p, s in pairs.items() if p not in same}
    if not doubtful:
        return same, {}, {}
    done = 0

    def checked_locally(wave: list[Pair]) -> list[bool]:
        """The wave's verdicts, checked photo by photo (local_order), with progress out of
        all the doubtful pairs (those implied are counted when the last wave is checked)."""
        nonlocal done
        order = local_order(wave)
        said = dict(zip(order, check(order, done=done, total=len(doubtful)), strict=True))
        done += len(wave)
        return [said[p] for p in wave]

    verdicts, implied = check_in_waves(doubtful, exact, checked_locally)
    check([], done=len(doubtful), total=len(doubtful))  # the implied pairs are done too
    same.update({p: pairs[p] for p in doubtful if p in implied or verdicts.get(p)})
    if limits.checked:
        return same, {}, verdicts
    failed = [p for p, ok in verdicts.items() if not ok]
    looser = {p: pairs[p] for p in failed if pairs[p] >= limits.accept and p not in turned}
    return same, looser, verdicts
