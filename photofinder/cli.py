"""`photofinder` on the command line: index, search, duplicates, status, methods."""

from __future__ import annotations

import argparse
import io
import json
import sqlite3
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, NoReturn, TextIO

from photofinder import __version__
from photofinder.core.duplicates.grouping import DEFAULT_STRICTNESS, Strictness
from photofinder.core.duplicates.keepers import human_size
from photofinder.core.embedders import (
    DEFAULT_METHOD,
    list_methods,
    method_info,
    method_names,
    weights_methods,
    weights_source,
)
from photofinder.core.embedders.devices import DEVICE_CHOICES, resolve_device
from photofinder.core.embedders.weights import import_weights, models_dir
from photofinder.core.errors import PhotoFinderError
from photofinder.core.library import Library
from photofinder.core.progress import Progress
from photofinder.core.storage.paths import resolve_paths
from photofinder.core.storage.repair import repair_library
from photofinder.core.storage.sqlite_errors import user_facing_error
from photofinder.terminal import ProgressBar

FAILURES_LISTED = 20  # failed reads listed after an update; `photofinder status` lists all
SKIPPED_LISTED = 10  # unreadable photos listed after training
EXIT_INTERRUPTED = 130  # 128 + SIGINT: how a shell reports a command stopped by Ctrl-C


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"photofinder: error: {message} (see `photofinder --help`)\n")


JSON_HELP = "print the result as JSON (a stable format for scripts)"


def _add_method(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--method", default=DEFAULT_METHOD, metavar="NAME",
                        help=f"embedding method (default: {DEFAULT_METHOD}); one of: "
                        f"{', '.join(method_names())} (`photofinder methods` says which can run)")


def _add_json(parser: argparse.ArgumentParser, text: str = JSON_HELP) -> None:
    parser.add_argument("--json", action="store_true", help=text)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="photofinder", description="Find similar photos and duplicates, offline.",
                     epilog="`photofinder COMMAND --help` shows the options of a command.")
    parser.add_argument("--version", action="version", version=f"photofinder {__version__}")
    parser.add_argument("--data-dir", type=_data_dir, metavar="DIR",
                        help="catalogue and index folder (default: $PHOTOFINDER_DATA_DIR, else "
                        "the platform's user data folder)")
    parser.add_argument("--device", choices=DEVICE_CHOICES, default="auto",
                        help="where models run (default: auto = CUDA, then MPS, then CPU)")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser,
                                     title="commands", metavar="COMMAND")

    index = commands.add_parser("index", help="watch folders and bring the index up to date")
    index.add_argument("paths", nargs="*", type=Path, metavar="FOLDER",
                       help="folders to watch from now on (none: update every watched folder)")
    _add_method(index)
    index.add_argument("--retry-failed", action="store_true",
                       help="read again every photo that failed before (those that failed for "
                       "a reason that may go away, such as permission denied, always are)")
    _add_json(index, "print the report as JSON")

    folders = commands.add_parser("folders", help="watched folders and their state")
    folder_commands = folders.add_subparsers(dest="folders_command", parser_class=_Parser,
                                             title="commands (none: list the folders)",
                                             metavar="COMMAND")
    _add_json(folders, "list the folders as JSON")
    folder_remove = folder_commands.add_parser(
        "remove", help="stop watching a folder and forget its photos (the files stay)")
    folder_remove.add_argument("path", type=Path, metavar="FOLDER",
                               help="a watched folder")
    folder_exclude = folder_commands.add_parser(
        "exclude", help="skip a folder inside a watched one")
    folder_exclude.add_argument("path", type=Path, metavar="FOLDER",
                                help="a folder inside a watched one; its photos are no longer "
                                "indexed or shown")

    search = commands.add_parser("search", help="photos similar to the given images")
    search.add_argument("images", nargs="+", type=Path, metavar="IMAGE",
                        help="query photos, in the library or not (several share one model load)")
    search.add_argument("--top", type=int, default=10, metavar="K",
                        help="results per query (default 10)")
    _add_method(search)
    _add_json(search)
    search.add_argument("--verify", action="store_true",
                        help="precise: also find rotated/mirrored copies and put keypoint-"
                        "verified near-duplicates first (adds \"inliers\" to JSON)")

    duplicates = commands.add_parser("duplicates", help="groups of near-duplicate photos")
    _add_method(duplicates)
    duplicates.add_argument(
        "--strictness", choices=[s.value for s in Strictness], default=DEFAULT_STRICTNESS.value,
        help="exact: identical files; near (default): the same photo resized, re-encoded, "
             "cropped, rotated or edited; similar: also other shots of one scene (bursts)")
    _add_json(duplicates)

    status = commands.add_parser("status", help="indexed, pending and failed photos")
    _add_method(status)
    _add_json(status)

    repair = commands.add_parser(
        "repair", help="check the catalogue; rebuild a damaged one from what can be read")
    _add_json(repair, "print the repair report as JSON")

    methods = commands.add_parser("methods", help="the embedding methods and their state")
    _add_json(methods)

    models = commands.add_parser("models", help="weights of the methods that need a file")
    model_commands = models.add_subparsers(dest="models_command", required=True,
                                           parser_class=_Parser, title="commands",
                                           metavar="COMMAND")
    model_import = model_commands.add_parser(
        "import", help="check a weights file fits a method, then copy it into the data folder")
    model_import.add_argument("name", metavar="METHOD",
                              help=f"one of: {', '.join(weights_methods())}")
    model_import.add_argument("file", type=Path, metavar="FILE",
                              help="the weights file (a PyTorch state_dict checkpoint, e.g. "
                              "downloaded on another machine)")
    model_list = model_commands.add_parser("list", help="methods with weights, and their state")
    _add_json(model_list)

    desktop = commands.add_parser("desktop", help="add PhotoFinder to the desktop's menu (Linux)")
    desktop_commands = desktop.add_subparsers(dest="desktop_command", required=True,
                                              parser_class=_Parser, metavar="ACTION")
    desktop_commands.add_parser("install", help="the menu entry and icon, in ~/.local/share")
    desktop_commands.add_parser("uninstall", help="remove what `desktop install` added")

    compare = commands.add_parser(
        "compare", help="measure the methods on a folder of labelled photos (folder = class)")
    compare.add_argument("folder", type=Path, metavar="FOLDER",
                         help="one sub-folder per class, its photos inside")
    compare.add_argument("--methods", nargs="+", metavar="METHOD",
                         help=f"methods to measure (default: all): {', '.join(method_names())}")
    compare.add_argument("--limit-per-class", type=int, metavar="N",
                         help="use at most N photos of each class (seeded sample)")
    compare.add_argument("--neardup-originals", type=int, default=30, metavar="N",
                         help="photos turned into near-duplicate queries (default 30)")
    compare.add_argument("--seed", type=int, default=0, metavar="N",
                         help="seed of the samples and generated copies (default 0)")
    _add_json(compare, "print the measurements as JSON")
    compare.add_argument("--plot", type=Path, metavar="FILE.png",
                         help="write a speed-vs-accuracy scatter plot")

    train = commands.add_parser("train", help="train a method on your photos")
    train_commands = train.add_subparsers(dest="train_kind", required=True, parser_class=_Parser,
                                          title="kinds of training", metavar="KIND")
    for kind, text, folder_text, epochs in (
        ("finetune", "fine-tune on your albums: sub-folder names are labels "
                     "(method efficientnet-lite0-ft)", "one sub-folder per album, photos inside",
         8),
        ("simclr", "self-supervised on your unlabelled photos (method efficientnet-lite0-simclr)",
         "your photos, in this folder and its sub-folders", 3),
    ):
        train_kind = train_commands.add_parser(kind, help=text)
        train_kind.add_argument("folder", type=Path, metavar="FOLDER", help=folder_text)
        train_kind.add_argument("--epochs", type=int, metavar="N",
                                help=f"passes over the photos (default {epochs})")
        _add_json(train_kind, "print the training report as JSON")
    return parser


def _data_dir(text: str) -> Path:
    """--data-dir: a folder (made when missing); never empty, never a file."""
    if not text.strip():
        raise argparse.ArgumentTypeError("is empty: give the folder for the catalogue and index")
    path = Path(text).expanduser()
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(f"{path} is a file, not a folder")
    return path


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
    told: list[bool] = []

    def progress(p: Progress) -> None:
        if p.stage == "waiting" and not told:
            told.append(True)
            sys.stderr.write(f"photofinder: waiting: {p.message}\n")
        elif bar.enabled:
            bar.update(p)

    report = library.update(progress=progress, retry_failed=args.retry_failed)
    bar.finish()
    if args.json:
        _emit({"method": library.info.name, **{k: v for k, v in vars(report).items()},
               "photos_per_s": report.photos_per_s})
        return 0
    print(f"{report.scanned} photos found: {report.new} new, {report.changed} changed, "
          f"{report.moved} moved, {report.deleted} removed; {report.embedded} embedded, "
          f"{report.copied} exact copies reused, {report.failed} failed "
          f"in {report.elapsed_s:.1f} s")
    for old_root in report.retired_roots:
        print(f"  folder {old_root} was renamed or moved: its photos were found in a new "
              "folder and keep their place in the library")
    for path, reason in report.failures[:FAILURES_LISTED]:
        print(f"  failed: {path}: {reason}")
    if len(report.failures) > FAILURES_LISTED:
        print(f"  … and {len(report.failures) - FAILURES_LISTED} more (see `photofinder status`)")
    return 0


def cmd_search(args: argparse.Namespace, library: Library) -> int:
    if args.top < 1:
        raise PhotoFinderError("--top must be at least 1")
    images = [p.expanduser().resolve() for p in args.images]
    for image in images:
        if not image.is_file():
            raise PhotoFinderError(f"cannot read query image {image}: no such file")
    results = library.iter_search_files(images, k=args.top, verify=args.verify)
    if args.json:  # each query's results written as they come: memory stays bounded
        _emit_streamed({"method": library.info.name}, "queries", (
            {"query": str(query),
             "results": [{"path": h.path, "score": round(h.score, 6),
                          **({"inliers": h.inliers} if args.verify else {})}
                         for h in hits]}
            for query, hits in results))
        return 0
    for query, hits in results:
        print(f"{query}:")
        for rank, hit in enumerate(hits, 1):
            checked = ""
            if args.verify and hit.inliers is not None:
                checked = f"  {hit.inliers:4d} inliers"
            print(f"  {rank:3d}. {hit.score:.3f}{checked}  {hit.path}")
        sys.stdout.flush()
    return 0


def _emit_streamed(head: dict[str, Any], key: str, items: Iterable[Any]) -> None:
    """Write what `_emit({**head, key: list(items)})` would, each item as soon as it comes
    (nothing at all until the first one, so a failure before it leaves stdout empty)."""
    opening = json.dumps({**head, key: []}, indent=2)[: -len("[]\n}")]  # up to the list
    written = False
    for item in items:
        lines = json.dumps(item, indent=2).split("\n")
        body = "\n".join(f"    {line}" for line in lines)
        sys.stdout.write(f",\n{body}" if written else f"{opening}[\n{body}")
        sys.stdout.flush()
        written = True
    sys.stdout.write("\n  ]\n}\n" if written else f"{opening}[]\n}}\n")


def cmd_duplicates(args: argparse.Namespace, library: Library) -> int:
    groups = library.duplicates(Strictness(args.strictness))
    if args.json:
        _emit({"method": library.info.name, "strictness": args.strictness, "groups": [
            {"files": g.paths, "min_score": round(g.min_score, 6),
             "keeper": g.keeper_record.path, "keeper_reason": g.keeper.reason,
             "reclaimable_bytes": g.reclaimable_bytes}
            for g in groups]})
        return 0
    for number, group in enumerate(groups, 1):
        print(f"group {number}: {len(group.paths)} photos, similarity ≥ {group.min_score:.3f}, "
              f"{human_size(group.reclaimable_bytes)} reclaimable")
        for record in group.records:
            mark = "keep" if record.id == group.keeper.keeper_id else "    "
            print(f"  {mark} {record.path}")
        print(f"  (keeper: {group.keeper.reason})")
    total = sum(g.reclaimable_bytes for g in groups)
    print(f"{len(groups)} group{'' if len(groups) == 1 else 's'}, {human_size(total)} reclaimable")
    return 0


def cmd_status(args: argparse.Namespace, library: Library) -> int:
    status = library.status()
    counts = status.counts
    if args.json:
        _emit({"method": status.method, "total": counts.total, "indexed": counts.indexed,
               "pending": counts.pending, "failed_count": counts.failed,
               "failed": [{"path": p, "reason": r} for p, r in status.failed],
               "folder_errors": [{"path": p, "reason": r} for p, r in status.folder_errors],
               "skipped": [{"path": p, "reason": r} for p, r in status.skipped],
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
    for path, reason in status.skipped:
        print(f"  skipped: {path}: {reason}")
    return 0


def cmd_folders(args: argparse.Namespace, library: Library) -> int:
    if args.folders_command == "remove":
        removed = library.remove_root(args.path)
        print(f"stopped watching {args.path.expanduser().absolute()}: {removed} photo records "
              "forgotten (the files are untouched)")
        return 0
    if args.folders_command == "exclude":
        root = library.exclude_folder(args.path)
        print(f"excluded {root.path}; run `photofinder index` to forget what was indexed there")
        return 0
    folders = library.folders()
    if args.json:
        _emit({"folders": [{"path": f.root.path, "state": f.state, "photos": f.root.photo_count}
                           for f in folders]})
        return 0
    if not folders:
        print("no folders yet: add one with `photofinder index FOLDER`")
    for folder in folders:
        count = "" if folder.root.excluded else f", {folder.root.photo_count} photos"
        print(f"{folder.root.path} ({folder.state}{count})")
    return 0


def cmd_repair(args: argparse.Namespace) -> int:
    report = repair_library(resolve_paths(args.data_dir))
    if args.json:
        _emit({"catalog": str(report.catalog), "healthy": report.healthy,
               "problems": report.problems,
               "damaged_copy": str(report.damaged_copy) if report.damaged_copy else None,
               "tables": [vars(t) for t in report.tables],
               "roots_restored": report.roots_restored, "requeued": report.requeued,
               "indexes_removed": report.indexes_removed})
        return 0
    if report.healthy:
        print(f"the catalogue {report.catalog} is healthy (integrity check: ok)")
        return 0
    print(f"the catalogue {report.catalog} was damaged: {report.problems[0]}"
          + (f" (and {len(report.problems) - 1} more problems)" if len(report.problems) > 1
             else ""))
    for table in report.tables:
        lost = table.unreadable + table.rejected
        if table.recovered or lost:
            print(f"  {table.name}: {table.recovered} rows recovered"
                  + (f", {lost} lost" if lost else ""))
    if report.roots_restored:
        print(f"  {report.roots_restored} watched folders restored from roots.json")
    if report.requeued:
        print(f"  {report.requeued} photos lost their thumbnail and will be read again")
    if report.damaged_copy:
        print(f"  the damaged file is kept as {report.damaged_copy}")
    print("  run `photofinder index` to read again what was lost and rebuild the search index")
    return 0


def cmd_methods(args: argparse.Namespace) -> int:
    methods = list_methods(models_dir(resolve_paths(args.data_dir).data_dir))
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
        if m.available and m.reason:  # e.g. weights downloaded on first use
            print(f"    note: {m.reason}")
    return 0


def cmd_desktop(args: argparse.Namespace) -> int:
    from photofinder import desktop

    if args.desktop_command == "install":
        files = desktop.install()
        print(f"added PhotoFinder to the menu: {files.entry}")
        for icon in files.icons:
            print(f"  icon: {icon}")
        return 0
    removed = desktop.uninstall()
    print("\n".join(f"removed {path}" for path in removed) or "nothing to remove")
    return 0


def cmd_models(args: argparse.Namespace) -> int:
    folder = models_dir(resolve_paths(args.data_dir).data_dir)
    if args.models_command == "import":
        target = import_weights(weights_source(args.name), args.file, folder)
        print(f"imported {args.file} as {args.name} weights: {target}")
        print(f"  method version now {method_info(args.name, folder).version}")
        return 0
    infos = [method_info(name, folder) for name in weights_methods()]
    if args.json:
        _emit({"models_dir": str(folder), "methods": [
            {"name": m.name, "version": m.version, "ready": not m.reason, "reason": m.reason}
            for m in infos]})
        return 0
    print(f"weights folder: {folder}")
    for m in infos:
        print(f"  {m.name:14s} {'ready' if not m.reason else m.reason} (version {m.version})")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from photofinder.core.evaluation.compare import format_table, plot_speed_accuracy, run_compare

    if args.limit_per_class is not None and args.limit_per_class < 2:
        raise PhotoFinderError("--limit-per-class must be at least 2")
    device = "cpu" if args.device == "auto" else args.device
    def log(message: str) -> None:
        if not args.json and sys.stderr.isatty():
            sys.stderr.write(f"compare: {message}\n")

    report = run_compare(args.folder, args.methods, args.limit_per_class,
                         args.neardup_originals, args.seed, device, args.data_dir, log)
    if args.plot:
        plot_speed_accuracy(report, args.plot)
    if args.json:
        _emit(report.to_json())
        return 0
    print(format_table(report))
    if args.plot:
        print(f"plot: {args.plot}")
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from photofinder.core.embedders.devices import resolve_device
    from photofinder.core.embedders.training import (
        SIMCLR_DEFAULTS,
        TrainConfig,
        find_photos,
        labelled_photos,
        train_finetune,
        train_simclr,
    )

    if args.epochs is not None and args.epochs < 1:
        raise PhotoFinderError("--epochs must be at least 1")
    paths = resolve_paths(args.data_dir)
    folder, cache = models_dir(paths.data_dir), paths.model_cache
    device = "cpu" if args.device == "auto" else resolve_device(args.device)
    bar = ProgressBar(sys.stderr)

    def progress(p: Progress) -> None:
        if p.stage == "epoch" and not args.json:
            bar.finish()
            sys.stderr.write(f"train: epoch {p.done}/{p.total} {p.message}\n")
        elif bar.enabled:
            bar.update(p)

    if args.train_kind == "finetune":
        config = TrainConfig() if args.epochs is None else TrainConfig(epochs=args.epochs)
        report = train_finetune(labelled_photos(args.folder), folder, cache, config, device,
                                progress)
    else:
        config = SIMCLR_DEFAULTS if args.epochs is None else replace(SIMCLR_DEFAULTS,
                                                                    epochs=args.epochs)
        report = train_simclr(find_photos(args.folder), folder, cache, config, device, progress)
    bar.finish()
    if args.json:
        _emit(report.to_json())
        return 0
    albums = f" in {report.classes} albums" if report.classes else ""
    resumed = f" (resumed after epoch {report.resumed_from})" if report.resumed_from else ""
    losses = f", loss {report.losses[0]:.4f} → {report.losses[-1]:.4f}" if report.losses else ""
    print(f"trained {report.method} version {report.version} on {report.photos} photos"
          f"{albums}: {report.epochs_done} epochs{resumed}{losses}, {report.elapsed_s:.0f} s")
    print(f"  weights: {report.weights}")
    print(f"  use it: photofinder index --method {report.method}")
    for path, reason in report.skipped[:SKIPPED_LISTED]:
        print(f"  skipped: {path}: {reason}")
    return 0


COMMANDS = {"index": cmd_index, "search": cmd_search, "duplicates": cmd_duplicates,
            "status": cmd_status, "folders": cmd_folders}


def _keep_any_file_name(*streams: TextIO) -> None:
    """Print file names that are not valid text (Linux allows any bytes) as they are, instead
    of failing on them."""
    for stream in streams:
        if isinstance(stream, io.TextIOWrapper) and stream.errors == "strict":
            stream.reconfigure(errors="surrogateescape")


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _keep_any_file_name(sys.stdout, sys.stderr)
    try:
        if args.device in ("cuda", "mps"):
            resolve_device(args.device)  # asked for explicitly: it must be there
        if args.command == "methods":
            return cmd_methods(args)
        if args.command == "models":
            return cmd_models(args)
        if args.command == "compare":
            return cmd_compare(args)
        if args.command == "train":
            return cmd_train(args)
        if args.command == "desktop":
            return cmd_desktop(args)
        if args.command == "repair":
            return cmd_repair(args)
        method = getattr(args, "method", DEFAULT_METHOD)
        library = Library(args.data_dir, method=method, device=args.device)
        with library:
            code = COMMANDS[args.command](args, library)
        for warning in library.warnings:
            sys.stderr.write(f"photofinder: warning: {warning}\n")
        return code
    except PhotoFinderError as exc:
        sys.stderr.write(f"photofinder: {exc}\n")
        return 1
    except (sqlite3.Error, OSError) as exc:  # a damaged catalogue or a full disk: one line
        error = user_facing_error(exc, resolve_paths(args.data_dir).catalog)
        if error is None:
            raise
        sys.stderr.write(f"photofinder: {error}\n")
        return 1
    except KeyboardInterrupt:
        sys.stderr.write("photofinder: interrupted; progress so far is saved\n")
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    raise SystemExit(main())
