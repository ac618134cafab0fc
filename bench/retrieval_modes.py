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

from qa.evaluate import load_cases
from qa.followup import condense
from qa.service import retrieve
from qa.settings import Settings


def main() -> None:
    settings = Settings.from_env()
    cases = [c for c in load_cases() if c.get("answerable") and c.get("gold")]
    results = {}
    for mode in ("dense", "bm25", "hybrid"):
        ranks: list[int | None] = []
        started = time.perf_counter()
        for case in cases:
            gold = {(g["source"], int(g["paragraph"])) for g in case["gold"]}
            question = condense(case["question"], case.get("history"))
            hits = retrieve(question, k=10, settings=settings, mode=mode)
            ranks.append(next((h.n for h in hits if (h.source, h.paragraph) in gold), None))
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
