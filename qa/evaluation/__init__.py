"""Evaluation: a question set scored through our pipeline, its dense-only and BM25-only
variants and the stock llama-index pipeline, the same way in the same run (`qa eval`).

Where each part lives:
  cases.py    the question set: reading it, gold paragraphs, what counts as a right answer
  metrics.py  scoring: per-case results, the report's metrics, misses by kind, the LLM judge
  stock.py    the stock llama-index baseline built on the same files
  bbc.py      the BBC retrieval benchmark (corpus reading, cached indexes, headline queries)
  report.py   rendering: terminal table, Markdown report, PNG chart
  squad.py    the SQuAD benchmark's data: articles written as files, answerable, near-miss
              and out-of-corpus cases, split into a fit part and a held-out part
  squad_run.py  the SQuAD benchmark run: held-out cases through each answerer, the curve
  run.py      the whole evaluation and the `qa eval` command
"""

from __future__ import annotations

# The configurations compared, in report order; every module of the package uses these.
CONFIGS = ("ours", "reader", "handset", "dense", "bm25", "stock")
# Those that differ in retrieval (the BBC benchmark ranks paragraphs only).
RETRIEVAL_CONFIGS = ("ours", "dense", "bm25", "stock")
LABELS = {
    "ours": "ours (hybrid), support trees",
    "handset": "ours, hand-set scorer",
    "reader": "ours, trees with the reading model (the default)",
    "dense": "ours, dense only",
    "bm25": "ours, BM25 only",
    "stock": "stock llama-index",
}
MODES = {
    "ours": "hybrid",
    "reader": "hybrid",
    "handset": "hybrid",
    "dense": "dense",
    "bm25": "bm25",
}
# The answerer's sentence scorer per configuration (qa.settings.SCORERS); else the support
# trees ("learned"), so that the retrieval configurations differ from "ours" in retrieval only.
SCORERS = {"handset": "handset", "reader": "reader"}
