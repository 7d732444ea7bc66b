"""`photofinder` on the command line: index, search, duplicates, status, methods."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from photofinder import __version__
from photofinder.core.devices import DEVICE_CHOICES
from photofinder.core.duplicates import DEFAULT_THRESHOLD
from photofinder.core.embedders import DEFAULT_METHOD, list_methods
from photofinder.core.errors import PhotoFinderError
from photofinder.core.library import Library
from photofinder.terminal import ProgressBar


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"photofinder: error: {message} (see `photofinder --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="photofinder", description="Find similar photos and duplicates, offline.")
    parser.add_argument("--version", action="version", version=f"photofinder {__version__}")
    parser.add_argument("--data-dir", type=Path, help="catalogue and index folder "
                        "(default: $PHOTOFINDER_DATA_DIR, else the platform's user data folder)")
    parser.add_argument("--device", choices=DEVICE_CHOICES, default="auto",
                        help="where models run (default: auto = CUDA, then MPS, then CPU)")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    index = commands.add_parser("index", help="watch folders and bring the index up to date")
    index.add_argument("paths", nargs="*", type=Path, help="folders to add (none: update all)")
    index.add_argument("--method", default=DEFAULT_METHOD)
    index.add_argument("--json", action="store_true", help="print the report as JSON")

    search = commands.add_parser("search", help="photos similar to the given images")
    search.add_argument("images", nargs="+", type=Path)
    search.add_argument("--top", type=int, default=10, metavar="K")
    search.add_argument("--method", default=DEFAULT_METHOD)
    search.add_argument("--json", action="store_true")

    duplicates = commands.add_parser("duplicates", help="groups of near-duplicate photos")
    duplicates.add_argument("--method", default=DEFAULT_METHOD)
    duplicates.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD,
                            help=f"cosine similarity needed to join (default {DEFAULT_THRESHOLD})")
    duplicates.add_argument("--json", action="store_true")

    status = commands.add_parser("status", help="indexed, pending and failed photos")
    status.add_argument("--method", default=DEFAULT_METHOD)
    status.add_argument("--json", action="store_true")

    methods = commands.add_parser("methods", help="the embedding methods and their state")
    methods.add_argument("--json", action="store_true")
    return parser


def _emit(payload: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(payload, indent=2) + "\n")


def cmd_index(args: argparse.Namespace, library: Library) -> int:
    missing = [p for p in args.paths if not p.is_dir()]
    if missing:
        raise PhotoFinderError(f"not a folder: {missing[0]}")
    library.add_roots(args.paths)
    if not library.roots():
        raise PhotoFinderError("no folders to index: give one, e.g. `photofinder index ~/Pictures`")
    bar = ProgressBar(sys.stderr)
    report = library.update(progress=bar.update if bar.enabled else lambda _p: None)
    bar.finish()
    if args.json:
        _emit({"method": library.info.name, **{k: v for k, v in vars(report).items()},
               "photos_per_s": report.photos_per_s})
        return 0
    print(f"{report.scanned} photos found: {report.new} new, {report.changed} changed, "
          f"{report.moved} moved, {report.deleted} removed; {report.embedded} embedded, "
          f"{report.copied} exact copies reused, {report.failed} failed "
          f"in {report.elapsed_s:.1f} s")
    for path, reason in report.failures[:20]:
        print(f"  failed: {path}: {reason}")
    if len(report.failures) > 20:
        print(f"  … and {len(report.failures) - 20} more (see `photofinder status`)")
    return 0


def cmd_search(args: argparse.Namespace, library: Library) -> int:
    if args.top < 1:
        raise PhotoFinderError("--top must be at least 1")
    images = [p.expanduser().resolve() for p in args.images]
    for image in images:
        if not image.is_file():
            raise PhotoFinderError(f"cannot read query image {image}: no such file")
    results = library.search_files(images, k=args.top)
    if args.json:
        _emit({"method": library.info.name, "queries": [
            {"query": str(query),
             "results": [{"path": h.path, "score": round(h.score, 6)} for h in hits]}
            for query, hits in zip(images, results, strict=True)]})
        return 0
    for query, hits in zip(images, results, strict=True):
        print(f"{query}:")
        for rank, hit in enumerate(hits, 1):
            print(f"  {rank:3d}. {hit.score:.3f}  {hit.path}")
    return 0


def cmd_duplicates(args: argparse.Namespace, library: Library) -> int:
    groups = library.duplicates(args.threshold)
    if args.json:
        _emit({"method": library.info.name, "threshold": args.threshold,
               "groups": [{"files": g.paths, "min_score": round(g.min_score, 6)} for g in groups]})
        return 0
    for number, group in enumerate(groups, 1):
        print(f"group {number} ({len(group.paths)} photos, similarity ≥ {group.min_score:.3f}):")
        for path in group.paths:
            print(f"  {path}")
    print(f"{len(groups)} groups")
    return 0


def cmd_status(args: argparse.Namespace, library: Library) -> int:
    status = library.status()
    counts = status.counts
    if args.json:
        _emit({"method": status.method, "total": counts.total, "indexed": counts.indexed,
               "pending": counts.pending, "failed_count": counts.failed,
               "failed": [{"path": p, "reason": r} for p, r in status.failed],
               "folder_errors": [{"path": p, "reason": r} for p, r in status.folder_errors],
               "roots": [{"path": r.path, "excluded": r.excluded, "photos": r.photo_count}
                         for r in status.roots]})
        return 0
    print(f"method {status.method}: {counts.indexed} indexed, {counts.pending} pending, "
          f"{counts.failed} failed, {counts.total} photos in all")
    for root in status.roots:
        label = "excluded" if root.excluded else f"{root.photo_count} photos"
        print(f"  folder {root.path} ({label})")
    for path, reason in status.folder_errors:
        print(f"  folder problem: {path}: {reason}")
    for path, reason in status.failed:
        print(f"  failed: {path}: {reason}")
    return 0


def cmd_methods(args: argparse.Namespace) -> int:
    methods = list_methods()
    if args.json:
        _emit({"default": DEFAULT_METHOD, "methods": [
            {"name": m.name, "version": m.version, "dim": m.dim, "family": m.family,
             "description": m.description, "available": m.available, "reason": m.reason}
            for m in methods]})
        return 0
    for m in methods:
        mark = "*" if m.name == DEFAULT_METHOD else " "
        state = f"{m.dim}-d, version {m.version}" if m.available else f"unavailable: {m.reason}"
        print(f"{mark} {m.name:20s} {m.family:22s} {state}\n    {m.description}")
    return 0


COMMANDS = {"index": cmd_index, "search": cmd_search, "duplicates": cmd_duplicates,
            "status": cmd_status}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "methods":
            return cmd_methods(args)
        with Library(args.data_dir, method=args.method, device=args.device) as library:
            return COMMANDS[args.command](args, library)
    except PhotoFinderError as exc:
        sys.stderr.write(f"photofinder: {exc}\n")
        return 1
    except KeyboardInterrupt:
        sys.stderr.write("photofinder: interrupted; progress so far is saved\n")
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
