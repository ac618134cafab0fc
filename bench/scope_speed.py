"""What a scope costs and buys per question: `ask()` over BBC articles, unscoped and
scoped to the one article whose headline is the question, interleaved question by
question (each going first in turn), after a warm-up; plus `qa.search.scope.resolve` alone (it
reads every paragraph's metadata). The questions are headlines: this measures time.

    .venv/bin/python bench/scope_speed.py [--articles N] [--questions N]

Writes bench/scope_speed.json; the index is built once into bench/.cache/scope-N/
(git-ignored) and reused.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

from bbc_corpus import bbc_articles, headline_questions, write_corpus

from qa.search.scope import Scope, resolve
from qa.service import ask, warm_up
from qa.settings import Settings
from qa.store.ingest import ingest

HERE = Path(__file__).resolve().parent


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def timed(fn: object, *args: object, **kwargs: object) -> tuple[float, object]:
    started = time.perf_counter()
    out = fn(*args, **kwargs)  # type: ignore[operator]
    return (time.perf_counter() - started) * 1000, out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--articles", type=int, default=400, help="0: every BBC article")
    parser.add_argument("--questions", type=int, default=60)
    args = parser.parse_args()

    articles = bbc_articles(args.articles)
    cache = HERE / ".cache" / f"scope-{args.articles}"
    folder = cache / "articles"
    write_corpus(articles, folder)
    settings = Settings(index_dir=cache / "index", seeds_dir=folder)
    t = time.perf_counter()
    report = ingest([folder], settings, quiet=True)
    print(
        f"index: {report.paragraphs} paragraphs ({time.perf_counter() - t:.0f} s)", file=sys.stderr
    )

    questions = headline_questions(articles, args.questions + 1)
    warm_up(settings)
    ask(questions[0][0], settings=settings)
    ask(questions[0][0], settings=settings, sources=[questions[0][1]])
    ms: dict[str, list[float]] = {"unscoped": [], "scoped": [], "resolve": []}
    for n, (question, name) in enumerate(questions[1:]):
        order = ("unscoped", "scoped") if n % 2 == 0 else ("scoped", "unscoped")
        for kind in order:
            scope = {"sources": [name]} if kind == "scoped" else {}
            elapsed, _ = timed(ask, question, settings=settings, **scope)
            ms[kind].append(elapsed)
        ms["resolve"].append(timed(resolve, Scope(sources=(name,)), settings)[0])
    result: dict[str, object] = {
        "paragraphs": report.paragraphs,
        "articles": report.files,
        "questions": len(questions) - 1,
        **{
            kind: {
                "p50_ms": round(statistics.median(v), 1),
                "p95_ms": round(percentile(v, 0.95), 1),
            }
            for kind, v in ms.items()
        },
        "p50_ratio_scoped_over_unscoped": round(
            statistics.median(ms["scoped"]) / statistics.median(ms["unscoped"]), 2
        ),
    }
    (HERE / "scope_speed.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
