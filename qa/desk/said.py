"""`qa.quotes(...)`, and "What did Miranda say about ...?" answered from the quotes.

A question that asks what someone said is answered from the quotes attributed to them
(qa.desk.quotebook), ranked by nearness to the topic; each quote is cited to its paragraph.
When that person has no quote on the topic (or the articles quote no one by that name),
the question goes on to the normal answerer, which answers from the paragraphs or
abstains.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from ..answering.answer import Answer, Idf, Numbering, idf_for
from ..reading.speakers import GROUP_PRONOUNS, PRONOUNS
from ..search.scope import Scope, resolve
from ..settings import Settings
from ..store.embedding import BundledEmbedding, get_embedder
from ..store.opened import open_store
from .quotebook import QuoteItem, book, context_of, rank

SHOWN = 2  # quotes quoted in an answer

_ASKS = re.compile(
    r"^\s*(?:what|how)\s+(?:did|does|do|has|have|had)\s+(?P<who>.+?)\s+"
    r"(?:say|said|tell|told|state|stated|think|comment|commented|claim|claimed|mention|"
    r"mentioned|note|noted|announce|announced|explain|explained|stress|stressed)"
    r"(?:\s+(?:about|on|regarding|concerning|of|when it comes to)\s+(?P<topic>.+?))?"
    r"\s*[?.!]*\s*$",
    re.IGNORECASE,
)


def quotes(
    speaker: str | None = None,
    settings: Settings | None = None,
    *,
    about: str | None = None,
    sources: Sequence[str] | str | None = None,
    since: str | None = None,
    until: str | None = None,
    site: str | None = None,
) -> list[QuoteItem]:
    """The quotes in the articles, each cited to its paragraph(s): all of them, or those
    of one `speaker` (any spelling of a person's name, or a group as written), and about
    a topic (`about`: nearest first, the rest left out). sources, since, until and site
    restrict the articles as they do for `ask` (qa.search.scope). An unknown speaker gives []."""
    settings = settings or Settings.from_env()
    scope = Scope.of(sources, since, until, site)  # checked before anything else runs
    found = book(settings)
    speaker = (speaker or "").strip()
    items = found.by(speaker) if speaker else list(found.items)
    resolved = resolve(scope, settings)
    if resolved is not None:
        items = [i for i in items if i.path in resolved.paths]
    if about and about.strip():
        embedder = get_embedder(settings.embed_model)
        items = rank(items, about.strip(), embedder, idf_for(open_store(settings)))
    return items


def asked_about(question: str) -> tuple[str, str] | None:
    """("Miranda", "the arrests") for "What did Miranda say about the arrests?"."""
    m = _ASKS.match(question)
    if not m or m.group("who").strip().lower() in PRONOUNS | GROUP_PRONOUNS:
        return None  # "What did they say ...?" names no one the quotes can be looked up by
    return m.group("who").strip(), (m.group("topic") or "").strip()


def quote_answer(
    question: str,
    settings: Settings,
    embedder: BundledEmbedding,
    idf: Idf,
    paths: frozenset[str] | None = None,
) -> Answer | None:
    """The answer from a speaker's quotes (in the articles at `paths`, None: all), or
    None to let the normal answerer answer."""
    asked = asked_about(question)
    if asked is None:
        return None
    who, topic = asked
    items = [i for i in book(settings).by(who) if paths is None or i.path in paths]
    if topic:
        items = rank(items, topic, embedder, idf)
    else:
        items = sorted(items, key=lambda i: i.kind != "direct")
    if not items:
        return None
    return _answer(items[:SHOWN])


def _answer(items: list[QuoteItem]) -> Answer:
    numbering = Numbering()
    parts: list[str] = []
    notes: list[str] = []
    for item in items:
        score = min(1.0, item.relevance)
        numbers = [numbering.add(replace(c, score=score)).n for c in item.citations]
        marks = [f"[{n}]" for n in numbers]
        who = f"{item.speaker} ({item.title})" if item.title else item.speaker
        context = context_of(item)
        if item.kind == "reported":
            said = f"said that {item.text}"
        elif context != item.text:  # a word or two quoted: the sentence says what of
            said = f"is quoted in: {context}"
        else:
            said = f"said: “{item.text}”"
        parts.append(f"{who} {said} {' '.join(marks)}.")
        if item.resolved:
            notes.append(
                f"The article names the speaker of [{numbers[0]}] as “{item.said_as}”; "
                f"read as {item.speaker}, whom it was about."
            )
    answer = Answer(text=" ".join(parts), abstained=False, citations=numbering.citations)
    answer.confidence = min(1.0, max(i.relevance for i in items) or 1.0)
    answer.notes = ["From the quotes the articles attribute to this speaker.", *notes]
    return answer
