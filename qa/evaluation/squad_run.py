"""The SQuAD benchmark run: the held-out part's questions asked through `qa.ask` with the
learned answerer, the hand-set answerer it replaced, and the stock llama-index
pipeline, side by side; metrics, the threshold curve, and the report files."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from ..answering import squad
from ..settings import Settings
from . import SCORERS

REPORT_SAMPLE = {squad.ANSWERABLE: 1000, squad.NEAR_MISS: 400, squad.OUT_OF_CORPUS: 400}
# The measurements on a news set (kept outside the repo), for the chart:
# (label, accuracy, near-miss abstention).
NEWS_POINTS = [
    ("hand-set, news set", 0.70, 0.58),
    ("logistic regression, news set", 0.64, 0.76),
    ("cross-encoder, news set", 0.68, 0.58),
    ("cross-encoder (stricter), news set", 0.62, 0.75),
]
CONFIGS = ("reader", "ours", "handset", "stock")


def _para(c: Any) -> tuple[str, int]:
    return (c.source, c.paragraph)


def _our_case(case: squad.Case, settings: Settings) -> dict[str, Any]:
    from ..answering.spans import span_matches
    from ..service import ask

    started = time.perf_counter()
    answer = ask(case.question, settings=settings)
    seconds = time.perf_counter() - started
    gold = (case.source, case.paragraph)
    cited = [_para(c) for c in answer.citations]
    precise = [
        _para(c) == gold or squad.answer_holds(c.sentence or c.text, case.answers)
        for c in answer.citations
    ]
    return {
        "id": case.id,
        "kind": case.kind,
        "abstained": answer.abstained,
        "holds": (not answer.abstained) and squad.answer_holds(answer.text, case.answers),
        "gold_cited": gold in cited,
        "precise": precise,
        "retrieved": gold in [tuple(r) for r in answer.retrieved[:6]],
        "short": answer.short,
        "short_right": bool(answer.short) and span_matches(answer.short, case.answers),
        "confidence": answer.confidence,
        "seconds": seconds,
        "answer": answer.text[:300],
    }


def _stock_case(case: squad.Case, stock: Any, engine: Any) -> dict[str, Any]:
    started = time.perf_counter()
    response = engine.query(case.question)
    seconds = time.perf_counter() - started
    nodes = list(response.source_nodes)
    text = nodes[0].node.get_content() if nodes else ""
    gold = (case.source, case.paragraph)
    covers = [stock.covers(h.node) for h in nodes]
    return {
        "id": case.id,
        "kind": case.kind,
        "abstained": False,
        "holds": squad.answer_holds(text, case.answers),
        "gold_cited": any(gold in c for c in covers),
        "precise": [gold in c for c in covers],
        "retrieved": any(gold in c for c in covers),
        "short": "",
        "short_right": False,
        "confidence": 1.0,
        "seconds": seconds,
        "answer": text[:300],
    }


def metrics(rows: list[dict[str, Any]]) -> dict[str, float]:
    def share(xs: list[bool]) -> float:
        return float(np.mean(xs)) if xs else 0.0

    ans = [r for r in rows if r["kind"] == squad.ANSWERABLE]
    answered = [r for r in ans if not r["abstained"]]
    with_short = [r for r in answered if r["short"]]
    return {
        "accuracy": share([r["holds"] for r in ans]),
        "false_abstention": share([r["abstained"] for r in ans]),
        "gold_cited": share([r["gold_cited"] for r in ans]),
        "citation_precision": share([p for r in answered for p in r["precise"]]),
        "near_miss_abstention": share(
            [r["abstained"] for r in rows if r["kind"] == squad.NEAR_MISS]
        ),
        "out_of_corpus_abstention": share(
            [r["abstained"] for r in rows if r["kind"] == squad.OUT_OF_CORPUS]
        ),
        "gold_retrieved": share([r["retrieved"] for r in ans]),
        "short_answer_shown": share([bool(r["short"]) for r in answered]),
        "short_answer_right": share([r["short_right"] for r in with_short]),
        "latency_p50_ms": float(np.percentile([r["seconds"] for r in rows], 50) * 1000),
        "latency_p95_ms": float(np.percentile([r["seconds"] for r in rows], 95) * 1000),
    }


def curve(settings: Settings, cases: list[squad.Case], scorer: str) -> list[dict[str, float]]:
    """Accuracy against near-miss and out-of-corpus abstention as the threshold moves:
    each case's best sentence, its score, and whether it holds an answer."""
    from ..answering import extractive
    from ..answering.answer import idf_for
    from ..search.retrieve import hybrid_retriever

    retriever = hybrid_retriever(settings)
    idf = idf_for(retriever)
    vectors = retriever.embedder.embed_queries([c.question for c in cases])
    best: list[tuple[str, float, bool]] = []
    for case, vec in zip(cases, vectors, strict=True):
        hits = retriever.retrieve_vec(case.question, vec)
        asked = extractive.Asked(case.question, vec, hits, retriever.embedder, idf)
        found = extractive.ranked(scorer, asked)
        if found:
            score, sentence = found[0]
            best.append((case.kind, score, squad.answer_holds(sentence, case.answers)))
        else:
            best.append((case.kind, 0.0, False))
    scores = sorted({round(s, 3) for _, s, _ in best})
    grid = [float(t) for t in np.quantile(scores, np.linspace(0, 1, 41))] if scores else []
    return [{"threshold": t, **squad.rates(best, t)} for t in grid]


def run(
    cache: Path,
    sample: dict[str, int] | None = None,
    say: Callable[[str], None] = print,
    configs: tuple[str, ...] = CONFIGS,
    part: str = squad.TEST,
    articles: int | None = None,
) -> dict[str, Any]:
    """The held-out part (or, for a quick check, the first `articles` of a part),
    ingested (cached), its sampled cases through each config."""
    from ..answering.answer import forget_sentence_vectors
    from ..answering.training import prepare
    from ..store.embedding import get_embedder
    from .stock import StockPipeline, indexed_files, stock_engine

    t0 = time.perf_counter()
    settings, cases = prepare(part, cache, articles)
    chosen = squad.sample(cases, sample or REPORT_SAMPLE, seed=2)
    say(f"SQuAD {part} part: {len(chosen)} cases, index in {time.perf_counter() - t0:.0f} s")
    result: dict[str, Any] = {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "part": part,
        "articles": len(list(settings.seeds_dir.iterdir())),
        "paragraphs": squad.count_paragraphs(settings.seeds_dir),
        "cases": {k: len(v) for k, v in squad.iter_kinds(chosen)},
        "configs": {},
        "curves": {},
    }
    for config in configs:
        t = time.perf_counter()
        if config == "stock":
            files = indexed_files(settings)
            persist = cache / f"{settings.seeds_dir.parent.name}-stock"
            stock = StockPipeline.build(files, get_embedder(settings.embed_model), persist)
            engine = stock_engine(stock)
            rows = [_stock_case(c, stock, engine) for c in chosen]
        else:
            # Each answerer starts with no sentence vectors cached, so neither inherits
            # the other's (latencies are comparable).
            forget_sentence_vectors()
            scorer = SCORERS.get(config, "learned")
            rows = [_our_case(c, settings.with_(scorer=scorer, llm="extractive")) for c in chosen]
            result["curves"][config] = curve(settings, chosen, scorer)
        result["configs"][config] = {"metrics": metrics(rows), "cases": rows}
        say(f"  {config}: {time.perf_counter() - t:.0f} s")
    return result


def load(folder: Path) -> dict[str, Any] | None:
    path = folder / "squad.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def write(result: dict[str, Any], folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "squad.json"
    path.write_text(json.dumps(result, separators=(",", ":")) + "\n", encoding="utf-8")
    return path
