"""One duplicate group under review: the keeper the user settled on and the photos marked for
removal. The rules hold here: the keeper is never marked, nor is a photo in a reference folder."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from photofinder.core.duplicates.grouping import DuplicateGroup
from photofinder.core.duplicates.keepers import KeeperChoice, human_size, inside, suggest_keeper
from photofinder.core.duplicates.review import ReviewSettings
from photofinder.core.storage.catalog import FileRecord

CHOSEN = "chosen by you"  # the keeper's reason once the user picked it


@dataclass
class GroupState:
    """A group as the user sees it: the keeper, the photos marked for removal."""

    records: list[FileRecord]
    keeper_id: int
    reason: str
    marked: set[int]
    reference: set[int] = field(default_factory=set)  # in a reference folder: never marked

    @classmethod
    def of(cls, group: DuplicateGroup, reference_folders: Sequence[str] = ()) -> GroupState:
        """The group as found, with its suggested keeper and marks."""
        reference = {r.id for r in group.records if inside(r.path, reference_folders)}
        marked = set(group.keeper.removable) - reference - {group.keeper.keeper_id}
        return cls(list(group.records), group.keeper.keeper_id, group.keeper.reason,
                   marked, reference)

    @classmethod
    def suggested(cls, records: Sequence[FileRecord], settings: ReviewSettings) -> GroupState:
        """These photos with the keeper and marks that `settings`' rules and folders suggest."""
        choice = suggest_keeper(records, settings.rules, settings.preferred_folders,
                                settings.reference_folders)
        return cls.of(DuplicateGroup(list(records), 0.0, choice), settings.reference_folders)

    @property
    def ids(self) -> frozenset[int]:
        """The group's file ids: what identifies it when the groups are found again."""
        return frozenset(r.id for r in self.records)

    @property
    def reclaimable(self) -> int:
        """Bytes the marked photos take up."""
        return sum(r.size for r in self.records if r.id in self.marked)

    def record(self, file_id: int) -> FileRecord:
        """The group's photo with this id."""
        return next(r for r in self.records if r.id == file_id)

    def set_keeper(self, file_id: int) -> None:
        """The user's choice: keep this one, mark every other (outside reference folders)."""
        self.keeper_id, self.reason = file_id, CHOSEN
        self.marked = {r.id for r in self.records} - {file_id} - self.reference

    def can_mark(self, file_id: int) -> bool:
        """Neither the keeper nor a photo in a reference folder may be marked."""
        return file_id != self.keeper_id and file_id not in self.reference

    def set_marked(self, file_id: int, on: bool) -> bool:
        """Mark or unmark one photo; False (nothing changes) when it may not be marked."""
        if on and not self.can_mark(file_id):
            return False
        (self.marked.add if on else self.marked.discard)(file_id)
        return True

    def forget(self, file_ids: set[int]) -> bool:
        """These photos left the library; False when fewer than two remain (no group then).
        A keeper that left is replaced by the first photo left, chosen as if by the user."""
        self.records = [r for r in self.records if r.id not in file_ids]
        self.marked -= file_ids
        self.reference -= file_ids
        if len(self.records) < 2:
            return False
        if self.keeper_id in file_ids:
            self.set_keeper(self.records[0].id)
        return True

    def as_group(self) -> DuplicateGroup:
        """The core's view of the group as the user left it."""
        choice = KeeperChoice(self.keeper_id, self.reason, sorted(self.marked))
        return DuplicateGroup(self.records, 0.0, choice)

    def summary(self) -> str:
        """Like "3 photos · 1.2 MB to free"."""
        return f"{len(self.records)} photos · {human_size(self.reclaimable)} to free"
