"""The stock llama-index baseline: the quick-start pipeline on the same files, and one
case through its query engine."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import QAError
from ..settings import Settings
from .cases import Para, gold_paragraphs, judge_text
from .metrics import CaseResult, LLMJudge


def normalize(text: str) -> str:
    """Whitespace folded and lower-cased: how chunk and paragraph texts are compared."""
    return " ".join(text.split()).lower()


class StockPipeline:
    """What a llama-index user gets from the quick start, on the same files and the same
    embedding model: SimpleDirectoryReader -> VectorStoreIndex (default SentenceSplitter
    chunking, in-memory SimpleVectorStore) -> retriever / query engine, default top-k.

    Chunks are mapped back to our paragraph numbers by text: a chunk covers a paragraph
    when it contains the paragraph's whole text (whitespace-normalized)."""

    def __init__(self, index: Any, files: Sequence[Path], embedder: Any) -> None:
        from ..reading.articles import read_article

        self.index = index
        self.embedder = embedder
        self.paragraphs: dict[str, list[tuple[int, str]]] = {}
        for path in files:
            article = read_article(path)
            self.paragraphs[article.source] = [
                (p.number, normalize(p.text)) for p in article.evidence
            ]

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
        text = normalize(node.get_content())
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
    gold = gold_paragraphs(case)
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
    from ..store.opened import open_store

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
