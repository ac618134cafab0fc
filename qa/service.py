"""`ask` and `retrieve`: the public entry points, shared by the CLI and the chat page."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Sequence

import numpy as np
from llama_index.core.schema import NodeWithScore, QueryBundle

from .answer import (
    ABSTAIN_BELOW,
    ABSTAIN_TEXT,
    Answer,
    Citation,
    Idf,
    Scored,
    choose,
    citation_from_hit,
    score_sentences,
    sub_questions,
)
from .embedding import get_embedder
from .errors import QuestionError
from .followup import Message, condense
from .retrieve import HybridRetriever, hybrid_retriever
from .settings import MAX_QUESTION_CHARS, Settings
from .store import Store

RELATED = 3


def check_question(question: object) -> str:
    if not isinstance(question, str) or not question.strip():
        raise QuestionError("The question is empty: type a question about the articles.")
    question = " ".join(question.split())
    if len(question) > MAX_QUESTION_CHARS:
        raise QuestionError(
            f"The question is {len(question):,} characters long; the limit is "
            f"{MAX_QUESTION_CHARS:,}. Ask something shorter."
        )
    return question


_IDF: dict[int, tuple[object, Idf]] = {}


def idf_for(store: Store) -> Idf:
    """Document frequencies straight from the BM25 index (same stemmer, same corpus)."""
    lexical = store.lexical()
    if lexical is None:
        return Idf({}, 1)
    cached = _IDF.get(id(store))
    if cached and cached[0] is lexical:
        return cached[1]
    bm25 = lexical.bm25
    indptr = np.asarray(bm25.scores["indptr"])
    doc_freq = {
        token: int(indptr[i + 1] - indptr[i])
        for token, i in bm25.vocab_dict.items()
        if i + 1 < len(indptr)
    }
    idf = Idf(doc_freq, int(bm25.scores["num_docs"]))
    _IDF[id(store)] = (lexical, idf)
    return idf


def _hits(retriever: HybridRetriever, query: str, q_vec: np.ndarray) -> list[NodeWithScore]:
    return retriever.retrieve(QueryBundle(query_str=query, embedding=q_vec.tolist()))


def retrieve(
    question: str, k: int = 10, settings: Settings | None = None, mode: str = "hybrid"
) -> list[Citation]:
    """Ranked paragraphs for a question; `score` is the paragraph's cosine similarity."""
    settings = settings or Settings.from_env()
    question = check_question(question)
    retriever = hybrid_retriever(settings, k=k, mode=mode)
    q_vec = retriever.embedder.embed_queries([question])[0]
    hits = _hits(retriever, question, q_vec)
    return [
        citation_from_hit(h, n, float(h.node.metadata.get("dense_score", 0.0)))
        for n, h in enumerate(hits, start=1)
    ]


def _cite(picked: list[Scored]) -> tuple[str, list[Citation]]:
    """Answer text with [n] after each quoted sentence; numbers by first use, one per
    paragraph."""
    citations: list[Citation] = []
    numbers: dict[str, int] = {}
    parts: list[str] = []
    for s in picked:
        key = s.hit.node.node_id
        if key not in numbers:
            numbers[key] = len(citations) + 1
            citations.append(citation_from_hit(s.hit, numbers[key], s.score, s.sentence))
        parts.append(f"{s.sentence} [{numbers[key]}]")
    return " ".join(parts), citations


def ask(
    question: str,
    history: Sequence[Message] | None = None,
    settings: Settings | None = None,
) -> Answer:
    settings = settings or Settings.from_env()
    t0 = time.perf_counter()
    question = check_question(question)
    standalone = condense(question, history)
    timings: dict[str, float] = {}

    retriever = hybrid_retriever(settings)
    embedder = retriever.embedder
    t1 = time.perf_counter()
    q_vec = embedder.embed_queries([standalone])[0]
    hits = _hits(retriever, standalone, q_vec)
    timings["retrieve"] = (time.perf_counter() - t1) * 1000

    t2 = time.perf_counter()
    idf = idf_for(retriever.store)
    parts = sub_questions(standalone)
    picked: list[Scored] = []
    confidence = 1.0
    for part in parts:
        if len(parts) > 1:
            part_vec = embedder.embed_queries([part])[0]
            part_hits = _hits(retriever, part, part_vec)
        else:
            part_vec, part_hits = q_vec, hits
        scored = score_sentences(part, part_vec, part_hits, embedder, idf)
        best = scored[0].confidence if scored else 0.0
        confidence = min(confidence, best)
        if best >= ABSTAIN_BELOW:
            picked.extend(
                s for s in choose(scored) if s.sentence not in {p.sentence for p in picked}
            )
    timings["answer"] = (time.perf_counter() - t2) * 1000

    related = [
        citation_from_hit(h, n, float(h.node.metadata.get("dense_score", 0.0)))
        for n, h in enumerate(hits[:RELATED], start=1)
    ]
    if not picked or confidence < ABSTAIN_BELOW and len(parts) == 1:
        answer = Answer(text=ABSTAIN_TEXT, abstained=True, related=related)
    else:
        text, citations = _cite(picked)
        answer = Answer(text=text, abstained=False, citations=citations)
        if confidence < ABSTAIN_BELOW:
            answer.notes.append("Only part of the question is answered by the articles.")
    answer.question = question
    answer.standalone_question = standalone
    answer.confidence = confidence
    timings["total"] = (time.perf_counter() - t0) * 1000
    answer.timings_ms = timings
    return answer


def warm_up(settings: Settings | None = None) -> None:
    """Load the model and open the index before the first question arrives."""
    settings = settings or Settings.from_env()
    get_embedder(settings.embed_model).embed_queries(["warm up"])
    hybrid_retriever(settings).store.lexical()


def ask_stream(
    question: str,
    history: Sequence[Message] | None = None,
    settings: Settings | None = None,
) -> Iterator[str | Answer]:
    """`ask`, as it arrives: text deltas (str), then the final `Answer` as the last item.

    The deltas joined equal `answer.text`, except for a fallback (`answer.fallback`), where
    the final answer replaces what was streamed: show `answer.text` once it arrives."""
    answer = ask(question, history=history, settings=settings)
    yield from re.findall(r"\S+\s*", answer.text)
    yield answer
