"""What fusion buys: hit@1, hit@5 and MRR@10 of dense-only, BM25-only and hybrid retrieval
on the answerable questions of eval/questions.jsonl (follow-ups rewritten first), with
each mode's MRR as a ratio of dense-only's, measured in the same run.

    QA_INDEX_DIR=index .venv/bin/python bench/retrieval_modes.py

Retrieval only and quick; `qa eval` scores the same modes end to end (answers, citations,
abstentions) beside the stock llama-index pipeline, and `qa eval --bbc` at BBC size.
"""

from __future__ import annotations

import json
import time

from qa.evaluation.cases import retrieval_cases, retrieval_rank
from qa.settings import Settings


def main() -> None:
    settings = Settings.from_env()
    cases = retrieval_cases()
    results = {}
    for mode in ("dense", "bm25", "hybrid"):
        started = time.perf_counter()
        ranks = [retrieval_rank(case, settings, mode) for case in cases]
        n = len(ranks)
        results[mode] = {
            "hit@1": round(sum(r == 1 for r in ranks) / n, 4),
            "hit@5": round(sum(r is not None and r <= 5 for r in ranks) / n, 4),
            "mrr@10": round(sum(1 / r for r in ranks if r) / n, 4),
            "ms_per_query": round((time.perf_counter() - started) * 1000 / n, 1),
            "questions": n,
        }
    for mode in results:
        results[mode]["mrr_vs_dense"] = round(
            results[mode]["mrr@10"] / max(results["dense"]["mrr@10"], 1e-9), 3
        )
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
