"""What the answerer costs per question: `ask()` with the reader (support trees plus the
reading model over their best candidates) against the trees alone and the hand-set
scorer, interleaved question by question (each going first in
turn, neither finding sentence vectors the other computed) on the same index of every
distinct BBC article (about 10k paragraphs), after one warm-up question each. The
questions are BBC headlines: this measures time, not answers.

    make bench-answerer        # or: .venv/bin/python bench/answerer_speed.py [--questions N]

Writes bench/answerer_speed.json; prints p50/p95 per scorer and the ratios. The index is
built once into bench/.cache/answerer/ (git-ignored) and reused.
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
from qa.service import ask, warm_up

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache" / "answerer"
SCORERS = ("handset", "learned", "reader")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--questions", type=int, default=200)
    args = parser.parse_args()

    t = time.perf_counter()
    articles, settings, report = distinct_index(CACHE)
    print(
        f"index: {report.paragraphs} paragraphs ({time.perf_counter() - t:.0f} s)", file=sys.stderr
    )

    questions = [q for q, _ in headline_questions(articles, args.questions + 1)]
    warm_up(settings)
    ms: dict[str, list[float]] = {s: [] for s in SCORERS}
    answered: dict[str, int] = {s: 0 for s in SCORERS}
    for scorer in SCORERS:
        ask(questions[0], settings=settings.with_(scorer=scorer))
    for n, question in enumerate(questions[1:]):
        # Both start cold (no sentence vectors kept from the other's turn), in turns.
        for scorer in SCORERS[n % 3 :] + SCORERS[: n % 3]:
            forget_sentence_vectors()
            started = time.perf_counter()
            answer = ask(question, settings=settings.with_(scorer=scorer))
            ms[scorer].append((time.perf_counter() - started) * 1000)
            answered[scorer] += not answer.abstained
    result = {
        "paragraphs": report.paragraphs,
        "questions": len(questions) - 1,
        **{
            scorer: {
                "p50_ms": round(statistics.median(ms[scorer]), 1),
                "p95_ms": round(percentile(ms[scorer], 0.95), 1),
                "answered": answered[scorer],
            }
            for scorer in SCORERS
        },
    }
    for a, b in (("learned", "handset"), ("reader", "learned")):
        result[f"p50_ratio_{a}_over_{b}"] = round(result[a]["p50_ms"] / result[b]["p50_ms"], 2)
    (HERE / "answerer_speed.json").write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
