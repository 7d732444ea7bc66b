"""The review rules for one duplicate group: keeper, marks, reference folders, photos leaving."""

from __future__ import annotations

from photofinder.core.duplicates.grouping import DuplicateGroup
from photofinder.core.duplicates.keepers import KeeperChoice, inside
from photofinder.core.duplicates.marks import CHOSEN, GroupState
from photofinder.core.duplicates.review import ReviewSettings
from tests.test_duplicates import record

REFERENCE = "/photos/archive"


def three() -> GroupState:
    """Photo 1 kept, 2 marked, 3 in the reference folder (never marked)."""
    records = [record(1, "/photos/a.jpg", size=300), record(2, "/photos/b.jpg", size=200),
               record(3, f"{REFERENCE}/c.jpg", size=100)]
    found = DuplicateGroup(records, 0.9, KeeperChoice(1, "highest resolution", [2]))
    return GroupState.of(found, [REFERENCE])


def test_a_found_group_keeps_its_keeper_marks_and_reference_photos() -> None:
    state = three()
    assert (state.keeper_id, state.reason, state.marked, state.reference) == (
        1, "highest resolution", {2}, {3})
    assert state.ids == {1, 2, 3} and state.reclaimable == 200
    assert state.summary() == "3 photos · 200 bytes to free"


def test_neither_the_keeper_nor_a_reference_photo_can_be_marked() -> None:
    state = three()
    assert not state.set_marked(1, True) and not state.set_marked(3, True)
    assert state.marked == {2}
    assert state.set_marked(2, False) and state.marked == set()
    assert state.set_marked(2, True) and state.marked == {2}


def test_a_suggestion_that_marks_a_reference_photo_is_not_followed() -> None:
    records = three().records
    found = DuplicateGroup(records, 0.9, KeeperChoice(1, "resolution", [1, 2, 3]))
    assert GroupState.of(found, [REFERENCE]).marked == {2}


def test_choosing_a_keeper_marks_every_other_photo_outside_reference_folders() -> None:
    state = three()
    state.set_keeper(2)
    assert (state.keeper_id, state.reason, state.marked) == (2, CHOSEN, {1})
    assert not state.can_mark(2) and state.can_mark(1) and not state.can_mark(3)


def test_photos_that_left_leave_the_group_and_a_lost_keeper_is_replaced() -> None:
    state = three()
    assert state.forget({1}) and state.keeper_id == 2 and state.reason == CHOSEN
    assert state.marked == set() and [r.id for r in state.records] == [2, 3]
    assert not state.forget({3})  # one photo left: no group


def test_the_group_as_left_by_the_user_goes_back_to_the_core() -> None:
    state = three()
    state.set_marked(2, False)
    group = state.as_group()
    assert group.keeper == KeeperChoice(1, "highest resolution", [])
    assert group.file_ids == [1, 2, 3]


def test_suggested_follows_the_rules_and_keeps_the_reference_photo() -> None:
    state = GroupState.suggested(three().records, ReviewSettings(reference_folders=[REFERENCE]))
    assert state.keeper_id == 3 and state.marked == {1, 2}
    assert state.reason == "in a reference folder"


def test_inside_means_in_the_folder_or_below_it_not_a_name_prefix() -> None:
    assert inside(f"{REFERENCE}/c.jpg", [REFERENCE])
    assert inside(f"{REFERENCE}/2020/c.jpg", ["/elsewhere", REFERENCE])
    assert not inside(f"{REFERENCE}-old/c.jpg", [REFERENCE])
    assert not inside("/photos/a.jpg", [])
