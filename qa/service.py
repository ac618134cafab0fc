"""`ask` and `retrieve`: the public entry points, shared by the CLI and the chat page."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
from llama_index.core.llms import LLM
from llama_index.core.schema import NodeWithScore, QueryBundle

from . import llm as llm_mod
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
from .byline import byline_answer
from .embedding import get_embedder
from .errors import QAError, QuestionError
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
    question: str, k: int = 10, settings: Settings | None = None, mode: str | None = None
) -> list[Citation]:
    """Ranked paragraphs for a question; `score` is the paragraph's cosine similarity.
    `mode`: hybrid, dense or bm25 (default: `settings.retrieval`)."""
    settings = settings or Settings.from_env()
    question = check_question(question)
    retriever = hybrid_retriever(settings, k=k, mode=mode or settings.retrieval)
    q_vec = retriever.embedder.embed_queries([question])[0]
    hits = _hits(retriever, question, q_vec)
    return [_at_cosine(h, n) for n, h in enumerate(hits, start=1)]


def _at_cosine(hit: NodeWithScore, n: int) -> Citation:
    """A retrieved paragraph as citation n, scored by its cosine to the question."""
    return citation_from_hit(hit, n, float(hit.node.metadata.get("dense_score", 0.0)))


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


@dataclass
class _Context:
    """What both answerers start from: the question, as asked and standalone, and the
    retrieved paragraphs."""

    question: str
    standalone: str
    retriever: HybridRetriever
    q_vec: np.ndarray
    hits: list[NodeWithScore]
    t0: float
    timings: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _context(
    question: str,
    history: Sequence[Message] | None,
    settings: Settings,
    llm: LLM | None,
) -> _Context:
    t0 = time.perf_counter()
    question = check_question(question)
    notes: list[str] = []
    timings: dict[str, float] = {}
    standalone = None
    if llm is not None and history:
        t = time.perf_counter()
        try:
            standalone = llm_mod.condense(llm, question, history, settings)
        except QAError as exc:
            notes.append(f"{exc} The follow-up was rewritten offline.")
        timings["condense"] = (time.perf_counter() - t) * 1000
    if standalone is None:
        standalone = condense(question, history)

    retriever = hybrid_retriever(settings, mode=settings.retrieval)
    t1 = time.perf_counter()
    q_vec = retriever.embedder.embed_queries([standalone])[0]
    hits = _hits(retriever, standalone, q_vec)
    timings["retrieve"] = (time.perf_counter() - t1) * 1000
    return _Context(question, standalone, retriever, q_vec, hits, t0, timings, notes)


def _related(hits: Sequence[NodeWithScore]) -> list[Citation]:
    return [_at_cosine(h, n) for n, h in enumerate(hits[:RELATED], start=1)]


def _finish(answer: Answer, ctx: _Context) -> Answer:
    answer.retrieved = [
        (str(h.node.metadata.get("source", "")), int(h.node.metadata.get("paragraph", 0)))
        for h in ctx.hits
    ]
    answer.question = ctx.question
    answer.standalone_question = ctx.standalone
    answer.notes = ctx.notes + answer.notes
    ctx.timings["total"] = (time.perf_counter() - ctx.t0) * 1000
    answer.timings_ms = ctx.timings
    return answer


def _extractive(ctx: _Context) -> Answer:
    """The offline answerer: the best supporting sentences, each cited, or abstain."""
    t2 = time.perf_counter()
    retriever, embedder = ctx.retriever, ctx.retriever.embedder
    idf = idf_for(retriever.store)
    parts = sub_questions(ctx.standalone)
    picked: list[Scored] = []
    confidence = 1.0
    for part in parts:
        if len(parts) > 1:
            part_vec = embedder.embed_queries([part])[0]
            part_hits = _hits(retriever, part, part_vec)
        else:
            part_vec, part_hits = ctx.q_vec, ctx.hits
        scored = score_sentences(part, part_vec, part_hits, embedder, idf)
        best = scored[0].confidence if scored else 0.0
        confidence = min(confidence, best)
        if best >= ABSTAIN_BELOW:
            picked.extend(
                s for s in choose(scored) if s.sentence not in {p.sentence for p in picked}
            )
    ctx.timings["answer"] = (time.perf_counter() - t2) * 1000

    if not picked or confidence < ABSTAIN_BELOW and len(parts) == 1:
        answer = Answer(text=ABSTAIN_TEXT, abstained=True, related=_related(ctx.hits))
    else:
        text, citations = _cite(picked)
        answer = Answer(text=text, abstained=False, citations=citations)
        if confidence < ABSTAIN_BELOW:
            answer.notes.append("Only part of the question is answered by the articles.")
    answer.confidence = confidence
    return answer


def _llm_for(settings: Settings) -> LLM | None:
    if settings.llm != "openai":
        return None
    key = (
        settings.llm_model,
        settings.openai_base_url,
        settings.openai_api_key,
        settings.llm_timeout,
        settings.llm_max_tokens,
        settings.llm_context_window,
    )
    cached = _LLMS.get(key)
    if cached is None:
        cached = _LLMS[key] = llm_mod.build_llm(settings)
    return cached


_LLMS: dict[tuple[object, ...], LLM] = {}


def _words(text: str) -> Iterator[str]:
    yield from re.findall(r"\S+\s*", text)


def _generated(ctx: _Context, llm: LLM, settings: Settings, stream: bool) -> Iterator[str | Answer]:
    """The model's answer, checked: deltas (held back until the first valid citation, so
    nothing ungrounded is shown), then the Answer. On failure or with no valid citation,
    the extractive answer, marked as a fallback."""
    prompt = llm_mod.build_prompt(ctx.standalone, ctx.hits, settings.max_context_tokens)
    mapper = llm_mod.CitationMapper(len(prompt.hits))
    held: list[str] = []
    streamed: list[str] = []
    t = time.perf_counter()
    reason = ""
    try:
        deltas = (
            llm_mod.stream(llm, prompt.messages, settings)
            if stream
            else iter([llm_mod.complete(llm, prompt.messages, settings)])
        )
        for delta in deltas:
            out = mapper.feed(delta)
            if not out:
                continue
            if mapper.order:
                if held:
                    streamed.extend(held)
                    yield "".join(held)
                    held = []
                streamed.append(out)
                yield out
            else:
                held.append(out)
        tail = mapper.flush()
        held.append(tail)
    except QAError as exc:
        reason = str(exc)
    ctx.timings["generate"] = (time.perf_counter() - t) * 1000

    if not reason:
        text = ("".join(streamed) + "".join(held)).strip()
        if mapper.order:
            hits = [prompt.hits[n - 1] for n in mapper.order]
            citations = [_at_cosine(h, i) for i, h in enumerate(hits, start=1)]
            answer = Answer(text=text, abstained=False, citations=citations)
            if mapper.invalid:
                answer.notes.append(
                    "The model cited passage numbers that do not exist "
                    f"({', '.join(map(str, sorted(set(mapper.invalid))))}); they were removed."
                )
        elif llm_mod.says_not_answered(text) or not text:
            answer = Answer(text=text or ABSTAIN_TEXT, abstained=True, related=_related(ctx.hits))
        else:
            reason = "The model's answer cited no passage, so it is not shown as grounded."
    if reason:
        answer = _extractive(ctx)
        answer.fallback = True
        answer.notes.append(f"{reason} This is the offline extractive answer instead.")
    if not streamed:
        yield from _words(answer.text)
    elif not reason and "".join(held):
        yield "".join(held)
    answer.answerer = settings.llm_model
    answer.prompt_tokens = prompt.tokens
    yield _finish(answer, ctx)


def ask_stream(
    question: str,
    history: Sequence[Message] | None = None,
    settings: Settings | None = None,
    *,
    stream: bool = True,
) -> Iterator[str | Answer]:
    """`ask`, as it arrives: text deltas (str), then the final `Answer` as the last item.

    The deltas joined equal `answer.text`, except when a model's reply broke off
    half-way (`answer.fallback`), where the final answer replaces what was streamed:
    show `answer.text` once it arrives. With the offline answerer the text comes at once,
    in words."""
    settings = settings or Settings.from_env()
    llm = _llm_for(settings)
    ctx = _context(question, history, settings, llm)
    offline = byline_answer(ctx.standalone, ctx.hits)  # "Who wrote ...?": the byline
    if offline is None and llm is None:
        offline = _extractive(ctx)
    if offline is not None:
        answer = _finish(offline, ctx)
        yield from _words(answer.text)
        yield answer
        return
    assert llm is not None
    yield from _generated(ctx, llm, settings, stream)


def ask(
    question: str,
    history: Sequence[Message] | None = None,
    settings: Settings | None = None,
) -> Answer:
    """Answer a question from the articles, with citations, or abstain."""
    for item in ask_stream(question, history, settings, stream=False):
        if isinstance(item, Answer):
            return item
    raise AssertionError("ask_stream ended without an Answer")


def warm_up(settings: Settings | None = None) -> None:
    """Load the model and open the index before the first question arrives."""
    settings = settings or Settings.from_env()
    get_embedder(settings.embed_model).embed_queries(["warm up"])
    hybrid_retriever(settings).store.lexical()
