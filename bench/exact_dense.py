"""The whole index searched exactly (every stored vector's cosine, held in memory; up to
`retrieve.EXACT_WHOLE` paragraphs) against Chroma's HNSW, on the index of every distinct
BBC article (about 10k paragraphs), interleaved question by question in one process:
what `ask()` and the dense search cost each way, what loading the vectors costs once,
and how often HNSW's 30 candidates are the exact 30 (its recall).

HNSW's graph is rebuilt by each process from the vectors Chroma has not yet written into
it, in several threads, so its candidates can differ from one process to the next; the
exact search gives the same ones every time.

    .venv/bin/python bench/exact_dense.py [--questions N]   # writes bench/exact_dense.json

The questions are BBC headlines: this measures time and candidates, not answers.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

from bbc_corpus import distinct_index, headline_questions
from llama_index.core.schema import QueryBundle

from qa.search import retrieve
from qa.service import ask, warm_up
from qa.store.opened import open_store

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache" / "answerer"
MODES = {"exact": retrieve.EXACT_WHOLE, "hnsw": 0}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--questions", type=int, default=200)
    args = parser.parse_args()
    articles, settings, report = distinct_index(CACHE)
    questions = [q for q, _ in headline_questions(articles, args.questions + 1)]
    warm_up(settings)
    store = open_store(settings)
    t = time.perf_counter()
    assert store.all_vectors(retrieve.EXACT_WHOLE) is not None, "more than EXACT_WHOLE"
    load_ms = (time.perf_counter() - t) * 1000

    ask_ms: dict[str, list[float]] = {m: [] for m in MODES}
    dense_ms: dict[str, list[float]] = {m: [] for m in MODES}
    same = 0
    overlap: list[float] = []
    for limit in MODES.values():  # one warm-up question each
        retrieve.EXACT_WHOLE = limit
        ask(questions[0], settings=settings)
    for n, question in enumerate(questions[1:]):
        found: dict[str, list[str]] = {}
        order = list(MODES.items())
        for mode, limit in order[n % 2 :] + order[: n % 2]:
            retrieve.EXACT_WHOLE = limit
            started = time.perf_counter()
            ask(question, settings=settings)
            ask_ms[mode].append((time.perf_counter() - started) * 1000)
            r = retrieve.hybrid_retriever(settings, mode="dense")
            vector = r.embedder.embed_queries([question])[0]
            started = time.perf_counter()
            hits = r._dense(QueryBundle(query_str=question, embedding=vector.tolist()))
            dense_ms[mode].append((time.perf_counter() - started) * 1000)
            found[mode] = [h.node.node_id for h in hits]
        same += found["exact"] == found["hnsw"]
        overlap.append(len(set(found["exact"]) & set(found["hnsw"])) / len(found["exact"]))
    retrieve.EXACT_WHOLE = MODES["exact"]
    result = {
        "paragraphs": report.paragraphs,
        "questions": len(questions) - 1,
        "load_vectors_ms": round(load_ms, 1),
        **{
            mode: {
                "ask_p50_ms": round(statistics.median(ask_ms[mode]), 1),
                "dense_p50_ms": round(statistics.median(dense_ms[mode]), 1),
            }
            for mode in MODES
        },
        "hnsw_candidates_exact": round(same / (len(questions) - 1), 3),
        "hnsw_recall_at_30": round(statistics.mean(overlap), 4),
    }
    result["ask_p50_ratio_exact_over_hnsw"] = round(
        result["exact"]["ask_p50_ms"] / result["hnsw"]["ask_p50_ms"], 2
    )
    (HERE / "exact_dense.json").write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
