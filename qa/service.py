"""`ask` and `retrieve`: the public entry points, shared by the CLI and the chat page."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
from llama_index.core.llms import LLM
from llama_index.core.schema import BaseNode, NodeWithScore

from .answering import grounding
from .answering import llm as llm_mod
from .answering.answer import (
    ABSTAIN_TEXT,
    Answer,
    Citation,
    Numbering,
    at_cosine,
    check_question,
    idf_for,
    related_citations,
)
from .answering.byline import byline_answer
from .answering.conversation import (
    Focus,
    last_quoted,
    last_sentence,
    names_elsewhere,
    quoted_articles,
)
from .answering.extractive import Asked, Evidence, Pick, evidence
from .answering.followup import Message, asks_who_said, condense
from .answering.llm import llm_for
from .answering.locality import Anchor, Near, near_anchor
from .desk.quotebook import book
from .desk.said import attribution_answer, quote_answer
from .errors import QAError
from .search.recency import asks_latest, plain, published
from .search.retrieve import HybridRetriever, hybrid_retriever
from .search.scope import Resolved, Scope, for_question, resolve
from .settings import Settings
from .store.embedding import get_embedder
from .store.opened import stored_paragraphs

# A conversation scoped to at most this many articles has its follow-ups' pronouns judged
# from their text (as the articles its answers quoted are, unscoped).
SCOPED_TEXT = 3


def retrieve(
    question: str,
    k: int = 10,
    settings: Settings | None = None,
    mode: str | None = None,
    *,
    sources: Sequence[str] | str | None = None,
    since: str | None = None,
    until: str | None = None,
    site: str | None = None,
) -> list[Citation]:
    """Ranked paragraphs for a question; `score` is the paragraph's cosine similarity.
    `mode`: hybrid, dense or bm25 (default: `settings.retrieval`); sources, since, until
    and site restrict it as in `ask`."""
    settings = settings or Settings.from_env()
    question = check_question(question)
    resolved = resolve(Scope.of(sources, since, until, site), settings)
    paths = resolved.paths if resolved else None
    retriever = hybrid_retriever(settings, k=k, mode=mode or settings.retrieval, paths=paths)
    q_vec = retriever.embedder.embed_queries([question])[0]
    hits = retriever.retrieve_vec(question, q_vec)
    return [at_cosine(h, n) for n, h in enumerate(hits, start=1)]


def _cite(picks: list[Pick]) -> tuple[str, list[Citation]]:
    """Answer text: for each quoted sentence, its short answer first when it has one
    (`$6,000,000 [1]. "MIAMI.- The amount ... is $6,000,000." [1]`), else the sentence
    with its [n]. Numbers by first use, one per paragraph."""
    numbering = Numbering()
    parts: list[str] = []
    for p in picks:
        n = numbering.cite(p.hit, p.score, p.sentence).n
        parts.append(f'{p.short} [{n}]. "{p.sentence}" [{n}]' if p.short else f"{p.sentence} [{n}]")
    return " ".join(parts), numbering.citations


@dataclass
class _Context:
    """What both answerers start from: the question, as asked and standalone, and the
    retrieved paragraphs."""

    question: str
    standalone: str
    searched: str  # the standalone question as retrieval and the offline answerer read it
    latest: bool  # it asks for the latest: the most recently published answer is preferred
    retriever: HybridRetriever
    q_vec: np.ndarray
    hits: list[NodeWithScore]
    t0: float
    timings: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    scope: Resolved | None = None
    found: list[Evidence] | None = None  # the offline answerer's evidence, when known
    near: Near | None = None  # a follow-up's sentences' distance from the last one quoted


def _context(
    question: str,
    history: Sequence[Message] | None,
    settings: Settings,
    llm: LLM | None,
    scope: Scope | None = None,
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
    focus, focus_text, unscoped, anchor = None, "", None, None
    if history and scope is None:
        unscoped = hybrid_retriever(settings, mode=settings.retrieval)
        focus = quoted_articles(history, unscoped)
        if focus is not None:
            anchor = focus.anchor
            focus_text = _text_of(focus.paths, settings)
    if history and scope is not None and scope.sources:
        # A conversation scoped to a few articles: who "he" is is judged from them.
        chosen = resolve(scope, settings)
        if chosen is not None and 0 < len(chosen.paths) <= SCOPED_TEXT:
            focus_text = _text_of(chosen.paths, settings)
    if standalone is None:
        lowered = focus_text.lower()
        standalone = condense(
            question, history, is_person=lambda name: _quoted(name, settings),
            in_focus=(lambda name: name.lower() in lowered) if focus_text else None,
            article=focus_text,
        )  # fmt: skip

    resolved, scope_notes = for_question(scope, standalone, settings)
    notes.extend(scope_notes)
    searched = plain(standalone, dates=bool(resolved and resolved.scope.implied))
    paths = resolved.paths if resolved else None
    if unscoped is None or paths is not None:
        retriever = hybrid_retriever(settings, mode=settings.retrieval, paths=paths)
    else:
        retriever = unscoped
    if history and paths is not None and anchor is None:
        anchor = last_quoted(history, _paragraphs_of(paths, settings))
    t1 = time.perf_counter()
    q_vec = retriever.embedder.embed_queries([searched])[0]
    hits = retriever.retrieve_vec(searched, q_vec)
    timings["retrieve"] = (time.perf_counter() - t1) * 1000
    ctx = _Context(
        question, standalone, searched, asks_latest(standalone), retriever, q_vec, hits, t0,
        timings, notes, resolved, near=_near(anchor, settings),
    )  # fmt: skip
    if focus is not None and resolved is None and not asks_who_said(question):
        _lean_to_focus(ctx, focus, focus_text, settings)
    return ctx


def _paragraphs_of(paths: frozenset[str], settings: Settings) -> list[BaseNode]:
    """The stored paragraphs of these articles."""
    _, stored = stored_paragraphs(settings)
    return [n for n in stored if n.metadata.get("path") in paths]


def _text_of(paths: frozenset[str], settings: Settings) -> str:
    """The stored paragraphs of these articles, as one text."""
    return " ".join(n.get_content() for n in _paragraphs_of(paths, settings))


def _near(anchor: Anchor | None, settings: Settings) -> Near | None:
    """A candidate's distance in sentences from the anchor, over its article's paragraphs."""
    if anchor is None:
        return None
    _, stored = stored_paragraphs(settings)
    own = [n for n in stored if n.metadata.get("path") == anchor.path]
    return near_anchor(anchor, [(int(n.metadata["paragraph"]), n.get_content()) for n in own])


def _quoted(name: str, settings: Settings) -> bool:
    """Whether the articles quote someone of this name (a person, not a place)."""
    return bool(book(settings).groups.find(name))


def _lean_to_focus(ctx: _Context, focus: Focus, focus_text: str, settings: Settings) -> None:
    """A follow-up is answered from the article the conversation's answers quoted when it
    answers it (and it names nothing the article never mentions); else from every
    article. The answer's notes say which."""
    t = time.perf_counter()
    if names_elsewhere(ctx.standalone, focus_text):
        return
    focused = hybrid_retriever(settings, mode=settings.retrieval, paths=focus.paths)
    hits = focused.retrieve_vec(ctx.searched, ctx.q_vec)
    found = _evidence(ctx, settings, focused, hits)
    ctx.timings["focus"] = (time.perf_counter() - t) * 1000
    if any(part.picks for part in found):
        ctx.retriever, ctx.hits, ctx.found = focused, hits, found
        ctx.notes.append(f"Kept to the article this conversation is about: {focus.describe()}.")
    else:
        ctx.notes.append(
            f"The article this conversation is about ({focus.describe()}) does not answer "
            "this; answered from all the articles."
        )


def _finish(answer: Answer, ctx: _Context) -> Answer:
    answer.retrieved = [
        (str(h.node.metadata.get("source", "")), int(h.node.metadata.get("paragraph", 0)))
        for h in ctx.hits
    ]
    answer.question = ctx.question
    answer.standalone_question = ctx.standalone
    answer.notes = ctx.notes + answer.notes
    if ctx.scope is not None:
        answer.scope = ctx.scope.as_dict()
        answer.notes.append(ctx.scope.describe())
    ctx.timings["total"] = (time.perf_counter() - ctx.t0) * 1000
    answer.timings_ms = ctx.timings
    return answer


def _evidence(
    ctx: _Context, settings: Settings, retriever: HybridRetriever, hits: list[NodeWithScore]
) -> list[Evidence]:
    """The offline answerer's evidence for the question among `hits`. The hand-set
    baseline scorer keeps its order; the learned ones prefer the latest."""
    latest = ctx.latest and settings.scorer != "handset"
    idf = idf_for(retriever)
    asked = Asked(ctx.searched, ctx.q_vec, hits, retriever.embedder, idf, latest, ctx.near)
    return evidence(settings.scorer, asked, retriever.retrieve_vec)


def _extractive(ctx: _Context, settings: Settings) -> Answer:
    """The offline answerer: the asked fact and the sentence stating it, each cited, or
    abstain when no sentence states it."""
    t2 = time.perf_counter()
    latest = ctx.latest and settings.scorer != "handset"
    found = ctx.found or _evidence(ctx, settings, ctx.retriever, ctx.hits)
    picks: list[Pick] = []
    for part in found:
        picks.extend(p for p in part.picks if p.sentence not in {q.sentence for q in picks})
    confidence = min(part.confidence for part in found)
    ctx.timings["answer"] = (time.perf_counter() - t2) * 1000

    if not picks:
        answer = Answer(text=ABSTAIN_TEXT, abstained=True, related=related_citations(ctx.hits))
    else:
        text, citations = _cite(picks)
        answer = Answer(text=text, abstained=False, citations=citations)
        answer.short = "; ".join(p.short for p in picks if p.short)
        if any(not part.picks for part in found):
            answer.notes.append("Only part of the question is answered by the articles.")
        if latest:
            answer.notes.append(_latest_note(picks[0]))
    answer.confidence = confidence
    return answer


def _latest_note(pick: Pick) -> str:
    day = published(pick.hit)
    if not day:
        return (
            "The question asks for the latest, but the article quoted has no publication "
            "date, so which is latest is not known."
        )
    return (
        "The question asks for the latest: quoted from the most recently published article "
        f"that answers it ({pick.hit.node.metadata.get('source', '')}, {day})."
    )


def _check_grounding(answer: Answer, hits: list[NodeWithScore], ctx: _Context) -> None:
    """Flag each sentence of a model's answer that its citations do not support: in
    `notes`, in `flags`, and in the text itself, after the sentence."""
    t = time.perf_counter()
    embedder = ctx.retriever.embedder
    cited = dict(enumerate(hits, start=1))
    flags = grounding.check(answer.text, cited, embedder, idf_for(ctx.retriever))
    answer.text = grounding.mark(answer.text, flags)
    answer.flags = [f.as_dict() for f in flags]
    answer.notes.extend(f.note for f in flags)
    ctx.timings["check"] = (time.perf_counter() - t) * 1000


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
            citations = [at_cosine(h, i) for i, h in enumerate(hits, start=1)]
            answer = Answer(text=text, abstained=False, citations=citations)
            _check_grounding(answer, hits, ctx)
            if mapper.invalid:
                answer.notes.append(mapper.invalid_note())
        elif llm_mod.says_not_answered(text) or not text:
            answer = Answer(
                text=text or ABSTAIN_TEXT, abstained=True, related=related_citations(ctx.hits)
            )
        else:
            reason = "The model's answer cited no passage, so it is not shown as grounded."
    if reason:
        answer = _extractive(ctx, settings)
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
    sources: Sequence[str] | str | None = None,
    since: str | None = None,
    until: str | None = None,
    site: str | None = None,
) -> Iterator[str | Answer]:
    """`ask`, as it arrives: text deltas (str), then the final `Answer` as the last item.

    The deltas joined equal `answer.text`, except when a model's reply broke off
    half-way (`answer.fallback`) or a sentence of it was flagged as not supported by its
    citations (`answer.flags`, marked in the text), where the final answer replaces what
    was streamed:
    show `answer.text` once it arrives. With the offline answerer the text comes at once,
    in words."""
    settings = settings or Settings.from_env()
    scope = Scope.of(sources, since, until, site)  # checked before anything else runs
    llm = llm_for(settings)
    ctx = _context(question, history, settings, llm, scope)
    offline = byline_answer(ctx.standalone, ctx.hits)  # "Who wrote ...?": the byline
    paths = ctx.scope.paths if ctx.scope else None
    if offline is None and history:  # "Who said that?": the last answer's sentence's speaker
        sentence = last_sentence(history)
        find = ctx.retriever.retrieve
        offline = attribution_answer(ctx.question, sentence, settings, find, paths)
        if offline is not None:
            ctx.standalone = f"Who said “{sentence}”?"
    if offline is None:  # "What did Miranda say about ...?": the quotes
        offline = quote_answer(
            ctx.standalone, settings, ctx.retriever.embedder, idf_for(ctx.retriever), paths
        )
    if offline is None and llm is None:
        offline = _extractive(ctx, settings)
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
    *,
    sources: Sequence[str] | str | None = None,
    since: str | None = None,
    until: str | None = None,
    site: str | None = None,
) -> Answer:
    """Answer a question from the articles, with citations, or abstain.

    sources (article file names, paths or titles), since/until (publication dates,
    YYYY-MM-DD, inclusive) and site restrict the articles it is answered from; the
    answer's `scope` and a note say which were used."""
    for item in ask_stream(
        question, history, settings, stream=False,
        sources=sources, since=since, until=until, site=site,
    ):  # fmt: skip
        if isinstance(item, Answer):
            return item
    raise AssertionError("ask_stream ended without an Answer")


def warm_up(settings: Settings | None = None) -> None:
    """Load the model and open the index before the first question arrives."""
    settings = settings or Settings.from_env()
    get_embedder(settings.embed_model).embed_queries(["warm up"])
    hybrid_retriever(settings).store.lexical()
