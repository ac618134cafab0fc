"""What near-copy grouping (qa.store.copies) costs: finding the groups of an index of every
distinct BBC article (about 10k paragraphs, which still hold a few hundred near-copy
pairs), and `ask()` with the groups against `ask()` without them, interleaved question
by question (each going first in turn) after one warm-up each.

    .venv/bin/python bench/copies_speed.py [--questions N]

Writes bench/copies_speed.json. The index is the one bench/answerer_speed.py builds
(bench/.cache/answerer/, git-ignored), built here if missing. Ingest does no work for the
groups: they are found at the first question after the index changes.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

from bbc_corpus import distinct_index, headline_questions

from qa.answering.answer import forget_sentence_vectors
from qa.search import retrieve
from qa.service import ask, warm_up
from qa.store import copies
from qa.store.opened import forget_stores, stored_paragraphs

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache" / "answerer"
MODES = ("without", "with")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--questions", type=int, default=100)
    args = parser.parse_args()
    articles, settings, report = distinct_index(CACHE)

    forget_stores()
    t = time.perf_counter()
    _, nodes = stored_paragraphs(settings)
    read_s = time.perf_counter() - t
    t = time.perf_counter()
    groups = copies.Copies(nodes)
    group_s = time.perf_counter() - t

    real = retrieve.copies_for
    empty = copies.Copies([])
    modes = {"with": real, "without": lambda s: empty}
    questions = [q for q, _ in headline_questions(articles, args.questions + 1)]
    warm_up(settings)
    ms: dict[str, list[float]] = {m: [] for m in MODES}
    for mode in MODES:
        retrieve.copies_for = modes[mode]  # type: ignore[assignment]
        ask(questions[0], settings=settings)
    for n, question in enumerate(questions[1:]):
        for mode in MODES if n % 2 == 0 else MODES[::-1]:
            retrieve.copies_for = modes[mode]  # type: ignore[assignment]
            forget_sentence_vectors()
            started = time.perf_counter()
            ask(question, settings=settings)
            ms[mode].append((time.perf_counter() - started) * 1000)
    retrieve.copies_for = real
    result = {
        "paragraphs": report.paragraphs,
        "groups": len(groups),
        "read_stored_paragraphs_s": round(read_s, 2),
        "find_groups_s": round(group_s, 2),
        "questions": len(questions) - 1,
        **{m: {"p50_ms": round(statistics.median(ms[m]), 1)} for m in MODES},
    }
    result["p50_ratio_with_over_without"] = round(
        result["with"]["p50_ms"] / result["without"]["p50_ms"],
        3,  # type: ignore[index]
    )
    (HERE / "copies_speed.json").write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
