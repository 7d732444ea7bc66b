"""Renamed, moved and removed watched folders; the clean-up trashes only what was reviewed."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from photofinder.cli import main
from photofinder.core.duplicates.grouping import Strictness
from photofinder.core.duplicates.trash import CleanupGroup, TrashError, trash_duplicates, trash_file
from photofinder.core.duplicates.trash_guard import why_not_trashable
from photofinder.core.library import Library
from tests.support.photos import make_library, write_jpeg


def copies_library(folder: Path, count: int = 6) -> list[Path]:
    """`count` photos, each with an exact copy in a sub-folder."""
    originals = make_library(folder, count)
    for path in originals:
        (folder / "copies").mkdir(exist_ok=True)
        shutil.copy2(path, folder / "copies" / path.name)
    return originals


def record_id(library: Library, path: Path) -> int:
    record = library.catalog.file_by_path(str(path))
    assert record is not None, path
    return record.id


def test_renamed_folder_takes_its_photos_over(library: Library, tmp_path: Path) -> None:
    pictures = tmp_path / "Pictures"
    copies_library(pictures / "lib")
    library.add_roots([pictures / "lib"])
    library.update()
    before = {Path(r.path).relative_to(pictures / "lib"): r.id
              for r in library.catalog.files_by_ids(library.catalog.vector_ids(
                  library.info.name, library.info.version)).values()}
    (pictures / "lib").rename(pictures / "lib_renamed")

    library.add_roots([pictures / "lib_renamed"])
    report = library.update()

    assert report.moved == 12 and report.embedded == 0 and report.deleted == 0
    assert report.retired_roots == [str(pictures / "lib")]
    assert [(f.root.path, f.state) for f in library.folders()] == [
        (str(pictures / "lib_renamed"), "watched")]
    for relative, file_id in before.items():  # ids (and so vectors and decisions) kept
        assert record_id(library, pictures / "lib_renamed" / relative) == file_id
    for group in library.duplicates(Strictness.NEAR):
        assert all(Path(p).exists() for p in group.paths)
        assert Path(group.keeper_record.path).exists()


def test_unplugged_drive_keeps_its_photos_and_the_cleanup_never_trashes_for_a_ghost(
    library: Library, tmp_path: Path
) -> None:
    """A watched folder whose drive is gone is not taken over: its photos wait for it, and a
    clean-up never keeps one of them in place of a real file."""
    drive = tmp_path / "drive"
    originals = copies_library(drive / "photos", 3)
    library.add_roots([drive / "photos"])
    library.update()
    ghost_ids = {record_id(library, p) for p in originals}
    drive.rename(tmp_path / "drive-copy")  # the drive (parent folder) is not there any more
    library.add_roots([tmp_path / "drive-copy" / "photos"])
    library.update()
    assert {f.state for f in library.folders()} == {"not found", "watched"}
    assert all(library.catalog.file_by_id(i) is not None for i in ghost_ids)

    ghost = next(iter(ghost_ids))
    real = record_id(library, tmp_path / "drive-copy" / "photos" / originals[0].name)
    sent: list[str] = []
    report = trash_duplicates(library, [CleanupGroup(keep=ghost, remove=[real])], sent.append)
    assert sent == [] and report.trashed == []
    assert "the photo to keep" in report.failed[0][1] and "no longer there" in report.failed[0][1]


def test_trash_refuses_what_is_not_the_reviewed_photo(library: Library, tmp_path: Path) -> None:
    folder = tmp_path / "photos"
    paths = make_library(folder, 4)
    library.add_roots([folder])
    library.update()
    records = [library.catalog.file_by_path(str(p)) for p in paths]
    assert all(records)
    roots = library.catalog.roots()

    stat = paths[0].stat()  # same size and time, other bytes: only the hash can tell
    data = bytearray(paths[0].read_bytes())
    data[-3] ^= 0xFF
    paths[0].write_bytes(bytes(data))
    os.utime(paths[0], ns=(stat.st_atime_ns, stat.st_mtime_ns))
    paths[1].unlink()
    paths[1].symlink_to(paths[2])  # the reviewed file replaced by a link to another photo
    write_jpeg(paths[3], 99)  # rewritten with other content
    outside = library.catalog.file_by_path(str(paths[2]))
    assert outside is not None

    reasons = [why_not_trashable(r, roots) for r in records if r is not None]
    assert "content changed" in str(reasons[0])
    assert "symbolic link" in str(reasons[1])
    assert reasons[2] is None
    assert "changed since it was indexed" in str(reasons[3])
    library.exclude_folder(folder)  # still catalogued, no longer inside a watched folder
    with pytest.raises(TrashError, match="not inside a watched folder"):
        trash_file(library, outside.id, send=lambda path: pytest.fail(f"sent {path}"))
    assert paths[2].exists()


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_folders_command_lists_states_and_removes(
    fake_model: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make_library(tmp_path / "a", 2)
    make_library(tmp_path / "b" / "photos", 3)
    assert run(capsys, "index", str(tmp_path / "a"), str(tmp_path / "b" / "photos"))[0] == 0
    shutil.rmtree(tmp_path / "b")  # a folder on a drive that is gone
    code, out, _ = run(capsys, "folders", "--json")
    states = {f["path"]: (f["state"], f["photos"]) for f in json.loads(out)["folders"]}
    assert code == 0 and states == {str(tmp_path / "a"): ("watched", 2),
                                    str(tmp_path / "b" / "photos"): ("not found", 3)}
    code, out, _ = run(capsys, "folders", "remove", str(tmp_path / "b" / "photos"))
    assert code == 0 and "3 photo records forgotten" in out
    code, _, err = run(capsys, "folders", "remove", str(tmp_path / "elsewhere"))
    assert code == 1 and err.count("\n") == 1 and "not a watched or excluded folder" in err
    code, out, _ = run(capsys, "status", "--json")
    assert json.loads(out)["total"] == 2


@pytest.mark.parametrize(("value", "message"), [("", "is empty"), ("a-file", "is a file")])
def test_data_dir_is_validated(
    value: str, message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a-file").write_text("not a folder")
    with pytest.raises(SystemExit) as exit_info:
        main(["--data-dir", value, "status"])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and message in err and err.count("\n") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]  # nothing made in the cwd


@pytest.mark.skipif(Path("/proc/driver/nvidia/version").exists(), reason="a GPU is here")
def test_absent_device_is_refused_even_when_no_model_is_needed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "--data-dir", str(tmp_path / "data"), "--device", "cuda", "status")
    assert code == 1 and "device 'cuda' is not available" in err
