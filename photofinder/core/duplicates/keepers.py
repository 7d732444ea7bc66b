"""Which copy of a duplicate group to keep: ordered rules the user can reorder, with reasons."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from photofinder.core.storage.catalog import FileRecord

RAW_FORMATS = frozenset({"RAW", "DNG", "CR2", "CR3", "NEF", "ARW", "RAF", "ORF", "RW2", "PEF"})
FORMAT_RANK = {"RAW": 5, "HEIF": 4, "AVIF": 4, "PNG": 3, "TIFF": 3, "JPEG": 2, "WEBP": 1}

RuleKey = Callable[[FileRecord], float]


def human_size(size: int) -> str:
    """1536 -> "1.5 KB"; decimal units, as file managers show them."""
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class KeeperRule:
    name: str
    label: str
    key: RuleKey  # larger is better
    describe: Callable[[FileRecord], str]
    tolerance: float = 0.0  # keys within this share of the best one count as equally good


def _format_rank(record: FileRecord) -> float:
    fmt = (record.format or "").upper()
    return float(FORMAT_RANK["RAW"] if fmt in RAW_FORMATS else FORMAT_RANK.get(fmt, 0))


def _metadata_count(record: FileRecord) -> float:
    return float(sum(value is not None for value in (record.captured_at, record.camera)))


def _age(record: FileRecord) -> float:
    """Older capture first; photos without a date lose to dated ones."""
    if record.captured_at:
        digits = "".join(c for c in record.captured_at if c.isdigit())[:14]
        return -float(digits or 0)
    return -float("inf")


RULES: dict[str, KeeperRule] = {
    rule.name: rule
    for rule in (
        KeeperRule("resolution", "highest resolution",
                   lambda r: float((r.width or 0) * (r.height or 0)),
                   lambda r: f"{r.width}×{r.height}"),
        # Re-encoding the same pixels changes the size by a few per cent: no reason to choose.
        KeeperRule("file_size", "largest file", lambda r: float(r.size),
                   lambda r: human_size(r.size), tolerance=0.05),
        KeeperRule("format", "RAW/HEIC over JPEG", _format_rank, lambda r: r.format or "?"),
        KeeperRule("metadata", "most metadata", _metadata_count,
                   lambda r: f"{int(_metadata_count(r))} of 2 fields"),
        KeeperRule("oldest", "oldest capture date", _age, lambda r: r.captured_at or "no date"),
    )
}
DEFAULT_RULES = ("resolution", "format", "file_size", "metadata", "oldest")


@dataclass(frozen=True)
class KeeperChoice:
    keeper_id: int
    reason: str
    removable: list[int]  # marked for the trash: not the keeper, not in a reference folder


def _because(rule: KeeperRule, losers: list[FileRecord], keeper: FileRecord) -> str:
    others = ", ".join(sorted({rule.describe(r) for r in losers}))
    return f"{rule.label} ({rule.describe(keeper)} vs {others})"


def inside(path: str, folders: Sequence[str]) -> bool:
    """Whether `path` lies in one of `folders` (or is one of them)."""
    return any(Path(path).is_relative_to(folder) for folder in folders)


def suggest_keeper(
    records: Sequence[FileRecord],
    rules: Sequence[str] = DEFAULT_RULES,
    preferred_folders: Sequence[str] = (),
    reference_folders: Sequence[str] = (),
) -> KeeperChoice:
    """Apply the rules in order, each narrowing the candidates; the reason names the last rule
    that did, and a tie left after all of them goes to the file modified first.

    A photo in a reference folder is kept whenever the group has one; preferred folders come
    before every other rule."""
    candidates = list(records)
    reason = ""
    references = [r for r in candidates if inside(r.path, reference_folders)]
    if references:
        candidates, reason = references, "in a reference folder"
    elif preferred_folders:
        preferred = [r for r in candidates if inside(r.path, preferred_folders)]
        if preferred and len(preferred) < len(candidates):
            candidates, reason = preferred, "in a preferred folder"
    deciding: tuple[KeeperRule, list[FileRecord]] | None = None  # last rule that separated
    for name in rules:
        if len(candidates) == 1:
            break
        rule = RULES[name]
        best = max(rule.key(r) for r in candidates)
        good_enough = best - rule.tolerance * abs(best) if rule.tolerance else best
        winners = [r for r in candidates if rule.key(r) >= good_enough]
        if len(winners) < len(candidates):
            deciding = (rule, [r for r in candidates if r not in winners])
            candidates = winners
    # Every rule ties: the file that was there first (copies are usually made later).
    keeper = min(candidates, key=lambda r: (r.mtime_ns, r.path))
    if deciding is not None:
        reason = _because(*deciding, keeper)
    if len(candidates) > 1:
        tie = "modified first"
        reason = f"{reason}; then {tie}" if reason else f"{tie} (all rules tie)"
    removable = [
        r.id for r in records if r.id != keeper.id and not inside(r.path, reference_folders)
    ]
    return KeeperChoice(keeper.id, reason, removable)
