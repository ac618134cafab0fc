"""What the answerer costs per question: `ask()` with the reader (support trees plus the
reading model over their best candidates) against the trees alone and the hand-set
scorer, interleaved question by question (each going first in
turn, neither finding sentence vectors the other computed) on the same index of every
distinct BBC article (about 10k paragraphs), after one warm-up question each. The
questions are BBC headlines: this measures time, not answers.

The reader runs twice: as it answers (leaving unread the candidates that cannot change
the answer, `extractive.SPARE_READS`) and reading all its TOP_K (`reader_all`); the
bench counts the windows each read and checks that the two give the same answers.

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

from qa.answering import extractive, reader
from qa.answering.answer import Answer, forget_sentence_vectors
from qa.service import ask, warm_up

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache" / "answerer"
# (name, scorer, whether the reader spares reads)
RUNS = (
    ("handset", "handset", True),
    ("learned", "learned", True),
    ("reader", "reader", True),
    ("reader_all", "reader", False),
)
SCORERS = tuple(name for name, _, _ in RUNS)


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
    r = reader.reader()
    assert r is not None, "the committed reader (qa/answering/models/reader.onnx)"
    ms: dict[str, list[float]] = {s: [] for s in SCORERS}
    answered: dict[str, int] = {s: 0 for s in SCORERS}
    read: dict[str, int] = {s: 0 for s in SCORERS}
    said: dict[str, list[str]] = {s: [] for s in SCORERS}

    def run(name: str, scorer: str, spare: bool, question: str) -> Answer:
        extractive.SPARE_READS = spare
        return ask(question, settings=settings.with_(scorer=scorer))

    for name, scorer, spare in RUNS:
        run(name, scorer, spare, questions[0])
    for n, question in enumerate(questions[1:]):
        # Each starts cold (no sentence vectors kept from another's turn), in turns.
        for name, scorer, spare in RUNS[n % len(RUNS) :] + RUNS[: n % len(RUNS)]:
            forget_sentence_vectors()
            before = r.windows_read
            started = time.perf_counter()
            answer = run(name, scorer, spare, question)
            ms[name].append((time.perf_counter() - started) * 1000)
            read[name] += r.windows_read - before
            answered[name] += not answer.abstained
            cited = [(c.source, c.paragraph) for c in answer.citations]
            said[name].append(f"{answer.text}|{answer.short}|{cited}|{answer.confidence:.6f}")
    extractive.SPARE_READS = True
    result = {
        "paragraphs": report.paragraphs,
        "questions": len(questions) - 1,
        **{
            name: {
                "p50_ms": round(statistics.median(ms[name]), 1),
                "p95_ms": round(percentile(ms[name], 0.95), 1),
                "answered": answered[name],
                "windows_read_per_question": round(read[name] / (len(questions) - 1), 2),
            }
            for name in SCORERS
        },
        "reader_same_answers_as_reader_all": sum(
            a == b for a, b in zip(said["reader"], said["reader_all"], strict=True)
        ),
    }
    for a, b in (("learned", "handset"), ("reader", "learned"), ("reader_all", "learned")):
        result[f"p50_ratio_{a}_over_{b}"] = round(result[a]["p50_ms"] / result[b]["p50_ms"], 2)
    (HERE / "answerer_speed.json").write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
