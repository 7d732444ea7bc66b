"""Where a copy is lost on the way to its duplicate group, per edit (tuning half by default):
not a candidate (neither a recorded close neighbour at the candidate threshold nor a turned
layout pair), a candidate the confirmation turns away, or confirmed but not grouped.

    python -m benchmarks.duplicate_stages [--half tuning] [--originals 40] [--distractors 300]
        [--edits KIND,KIND] [--keep DIR]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from benchmarks.heldout import DEFAULT_DATA, Copy, half_photos, pick, read_split
from photofinder.core.duplicates.candidates import neighbour_pairs, ordered, turned_pairs
from photofinder.core.duplicates.grouping import THRESHOLDS, Strictness
from photofinder.core.duplicates.review import geometric_confirmer
from photofinder.core.evaluation.edits import EDIT_KINDS, make_edited_set
from photofinder.core.library import Library


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--half", choices=("tuning", "heldout"), default="tuning")
    parser.add_argument("--originals", type=int, default=40)
    parser.add_argument("--distractors", type=int, default=300)
    parser.add_argument("--edits", default="")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--method", default=None)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--keep", type=Path, default=None, help="keep the library here")
    args = parser.parse_args(argv)
    kinds = args.edits.split(",") if args.edits else list(EDIT_KINDS)
    originals, distractors = pick(half_photos(args.data, read_split()[args.half]),
                                  args.originals, args.distractors, args.seed)
    scratch = Path(tempfile.mkdtemp()) if args.keep is None else args.keep
    library_dir = scratch / "library"
    reused = (scratch / "copies").is_dir()  # a kept library is searched again as it is
    for name in [*originals, *distractors]:
        (library_dir / name).parent.mkdir(parents=True, exist_ok=True)
        if not reused:
            shutil.copyfile(args.data / name, library_dir / name)
    made = [(scratch / "copies" / f"{number:04d}_{kind}.jpg", library_dir / name, kind)
            for number, name in enumerate(originals) for kind in kinds]
    if not reused:
        made = make_edited_set([(n, library_dir / n) for n in originals], scratch / "copies",
                               args.seed, kinds)
    copies = [Copy(str(p.resolve()), str(o.resolve()), k) for p, o, k in made]
    options = {} if args.method is None else {"method": args.method}
    with Library(scratch / "data", device="cpu", **options) as lib:
        lib.add_roots([library_dir, scratch / "copies"])
        lib.update()
        catalog, index = lib.catalog, lib.index
        limits = THRESHOLDS[Strictness.NEAR]
        close = neighbour_pairs(index, catalog, limits.candidate)
        turned = turned_pairs(catalog)
        confirm = geometric_confirmer(catalog)
        paths = [c.path for c in copies] + [c.original for c in copies]
        ids = {}
        for path in paths:
            record = catalog.file_by_path(path)
            if record is not None:
                ids[path] = record.id
        groups = lib.duplicates(Strictness.NEAR)
        group_of = {p: n for n, g in enumerate(groups) for p in g.paths}
        table: dict[str, list[str]] = {k: [] for k in kinds}
        records = catalog.files_by_ids(ids.values())
        for copy in copies:
            pair = ordered(ids[copy.path], ids[copy.original])
            if pair in close:
                stage = "near"
            elif pair in turned:
                stage = "turned"
            else:
                table[copy.kind].append("no candidate")
                continue
            ok = confirm([(records[pair[0]], records[pair[1]])])[0]
            together = group_of.get(copy.path, -1) == group_of.get(copy.original, -2)
            table[copy.kind].append("grouped" if together else
                                    (f"{stage}: confirmed, not grouped" if ok
                                     else f"{stage}: turned away"))
    print(f"{'edit':22s} grouped  no-cand  rejected  confirmed-not-grouped")
    for kind, stages in table.items():
        n = len(stages)
        print(f"{kind:22s} {stages.count('grouped') / n:7.2f}  "
              f"{stages.count('no candidate') / n:7.2f}  "
              f"{sum('turned away' in s for s in stages) / n:8.2f}  "
              f"{sum('not grouped' in s for s in stages) / n:8.2f}")
    print(f"library kept in {scratch}" if args.keep else "")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
