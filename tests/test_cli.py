"""The command-line contract that scripts rely on."""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from photofinder.cli import build_parser, main
from photofinder.core.duplicates.keepers import human_size
from photofinder.core.embedders import method_names
from tests.support.photos import make_library, write_jpeg


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def indexed(fake_model: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    make_library(tmp_path / "photos", 8)
    shutil_copy = (tmp_path / "photos" / "photo_000.jpg").read_bytes()
    (tmp_path / "photos" / "dup.jpg").write_bytes(shutil_copy)
    code, out, _ = run(capsys, "index", str(tmp_path / "photos"))
    assert code == 0 and "9 photos found" in out
    return tmp_path / "photos"


def test_search_json_contract(indexed: Path, capsys: pytest.CaptureFixture[str]) -> None:
    query = write_jpeg(indexed.parent / "query.jpg", 3)  # same picture, outside the library
    other = indexed / "photo_005.jpg"
    code, out, _ = run(capsys, "search", str(query), str(other), "--top", "3", "--json")
    assert code == 0
    payload = json.loads(out)
    assert payload["method"] == "efficientnet-lite0"
    assert [q["query"] for q in payload["queries"]] == [str(query), str(other)]
    first = payload["queries"][0]["results"]
    assert len(first) == 3
    assert first[0]["path"] == str(indexed / "photo_003.jpg")
    assert first[0]["score"] == pytest.approx(1.0, abs=1e-3)
    assert [r["score"] for r in first] == sorted((r["score"] for r in first), reverse=True)
    assert all(Path(r["path"]).is_absolute() for r in first)
    second = [r["path"] for r in payload["queries"][1]["results"]]
    assert str(other) not in second  # a catalogued query does not find itself


def test_duplicates_json_contract(indexed: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "duplicates", "--json")
    assert code == 0
    payload = json.loads(out)
    assert payload["method"] == "efficientnet-lite0"
    assert [sorted(g["files"]) for g in payload["groups"]] == [
        sorted([str(indexed / "dup.jpg"), str(indexed / "photo_000.jpg")])
    ]
    code, out, _ = run(capsys, "duplicates")  # sizes as the app shows them, not "0.0 MiB"
    removable = payload["groups"][0]["reclaimable_bytes"]
    assert code == 0 and f"1 group, {human_size(removable)} reclaimable" in out
    assert removable < 2**20 and " KB reclaimable" in out


def test_status_and_methods(indexed: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (indexed / "broken.jpg").write_bytes(b"\xff\xd8\xff garbage")
    run(capsys, "index")
    code, out, _ = run(capsys, "status", "--json")
    assert code == 0
    payload = json.loads(out)
    assert (payload["indexed"], payload["pending"], payload["failed_count"]) == (9, 0, 1)
    assert payload["failed"][0]["path"] == str(indexed / "broken.jpg")
    assert payload["failed"][0]["reason"]
    code, out, _ = run(capsys, "methods", "--json")
    assert code == 0
    methods = {m["name"]: m for m in json.loads(out)["methods"]}
    default = methods["efficientnet-lite0"]
    assert default["available"] and default["dim"] == 256
    assert not methods["surf"]["available"] and "SIFT" in methods["surf"]["reason"]


@pytest.mark.parametrize(
    "args",
    [
        ["search", "/no/such/photo.jpg"],
        ["index", "/no/such/folder"],
        ["search", "--method", "nope", "x.jpg"],
        ["--device", "cuda", "search", "x.jpg"],
    ],
)
def test_bad_input_is_one_line_and_non_zero(
    indexed: Path, capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    code, out, err = run(capsys, *args)
    assert code != 0 and out == ""
    assert err.count("\n") == 1 and err.startswith("photofinder: ")
    assert "Traceback" not in err


def test_unreadable_query_image(indexed: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = indexed.parent / "bad.jpg"
    bad.write_text("nope")
    code, _, err = run(capsys, "search", str(bad))
    assert code == 1 and "not an image" in err


def test_bad_arguments_exit_two(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["search"])
    assert exit_info.value.code == 2
    assert "photofinder: error:" in capsys.readouterr().err


def test_data_dir_from_environment(
    fake_model: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("PHOTOFINDER_DATA_DIR", str(tmp_path / "elsewhere"))
    make_library(tmp_path / "p", 1)
    assert run(capsys, "index", str(tmp_path / "p"))[0] == 0
    assert (tmp_path / "elsewhere" / "catalog.sqlite3").exists()


def command_parsers(
    parser: argparse.ArgumentParser, name: str = "photofinder"
) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    """Every parser of the command line, the top one and each (sub-)command's, with its name."""
    yield name, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for command, subparser in action.choices.items():
                yield from command_parsers(subparser, f"{name} {command}")


def test_every_command_option_and_argument_has_help() -> None:
    missing = []
    for name, parser in command_parsers(build_parser()):
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                missing += [f"{name} {choice.dest}" for choice in action._choices_actions
                            if not choice.help]
            elif not action.help:
                missing.append(f"{name} {'/'.join(action.option_strings) or action.dest}")
    assert missing == []


def test_help_has_no_internal_wording() -> None:
    internal = re.compile(r"\bissue\b|\bTODO\b|#\d")
    found = [name for name, parser in command_parsers(build_parser())
             if internal.search(parser.format_help())]
    assert found == []


def test_method_help_lists_every_method_name() -> None:
    helps = {name: action.help for name, parser in command_parsers(build_parser())
             for action in parser._actions if "--method" in action.option_strings}
    assert set(helps) == {f"photofinder {c}" for c in ("index", "search", "duplicates", "status")}
    for help_text in helps.values():
        assert help_text is not None
        assert all(method in help_text for method in method_names())


HELP_IMPORTS = """
import contextlib, io, sys
from photofinder.cli import main
for argv in (["--help"], ["index", "--help"]):
    with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):
        main(argv)
print(sorted(m for m in ("torch", "cv2", "PySide6", "onnxruntime", "matplotlib")
             if m in sys.modules))
"""


def test_help_imports_no_model_library_nor_qt() -> None:
    result = subprocess.run([sys.executable, "-c", HELP_IMPORTS], capture_output=True,
                            text=True, check=True)
    assert result.stdout.strip() == "[]"
