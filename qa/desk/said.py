"""`qa.quotes(...)`, "What did Miranda say about ...?" answered from the quotes, and
"Who said that?" after an answer.

A question that asks what someone said is answered from the quotes attributed to them
(qa.desk.quotebook), ranked by nearness to the topic; each quote is cited to its paragraph.
When that person has no quote on the topic (or the articles quote no one by that name),
the question goes on to the normal answerer, which answers from the paragraphs or
abstains.

A follow-up that asks who said what the last answer quoted ("Who said that?", "According
to whom?") is answered with whom the article attributes that sentence to, from the same
quotes; when no quote holds the sentence, the answer says so, and who its paragraph
quotes. The normal answerer would look for any sentence naming a speaker near the
question's words, and name the wrong one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import replace

from llama_index.core.schema import NodeWithScore

from ..answering.answer import Answer, Citation, Idf, Numbering, idf_for, related_citations
from ..answering.followup import asks_who_said
from ..reading.speakers import GROUP_PRONOUNS, PRONOUNS
from ..search.scope import Scope, resolve
from ..settings import Settings
from ..store.embedding import BundledEmbedding, get_embedder
from ..store.opened import open_store
from .quotebook import OPENING, QuoteItem, book, context_of, quoting_sentence, rank

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


def attribution_answer(
    question: str,
    sentence: str | None,
    settings: Settings,
    search: Callable[[str], list[NodeWithScore]],
    paths: frozenset[str] | None = None,
) -> Answer | None:
    """Whom the article attributes `sentence` (the last answer's, as the article writes
    it) to, when `question` asks who said it; None when it does not, or when no article
    holds the sentence (an abstention or a model's own words came before): the normal
    answerer answers then. `search`: the retriever, which finds the sentence's paragraph
    when it quotes no one; `paths`: the articles the question is restricted to (None: all)."""
    if sentence is None or not asks_who_said(question):
        return None
    key = sentence[:OPENING]
    own: list[tuple[QuoteItem, Citation]] = []
    nearby: list[tuple[QuoteItem, Citation]] = []
    for item in book(settings).items:
        if paths is not None and item.path not in paths:
            continue
        for c in item.citations:
            if key not in c.text or not c.sentence:
                continue
            if key in c.sentence or key in _holding(c):  # the quote holds it, or it the quote
                own.append((item, c))
            else:
                nearby.append((item, c))
    if own:
        return _attributed(own, sentence, direct=True)
    if nearby:
        return _attributed(nearby, sentence, direct=False)
    holding = [h for h in search(sentence) if key in h.node.get_content()]
    if not holding:
        return None
    answer = Answer(
        text="The articles don't say who said that: no speaker is found for the sentence "
        "the last answer quoted, and its paragraph quotes no one.",
        abstained=True,
        related=related_citations(holding),
    )
    answer.notes.append(f"The sentence asked about: “{sentence}”")
    return answer


def _attributed(found: list[tuple[QuoteItem, Citation]], sentence: str, direct: bool) -> Answer:
    """The speakers of `found` (the quotes in the sentence's paragraph), each once."""
    numbering = Numbering()
    parts: list[str] = []
    notes: list[str] = []
    speakers: list[str] = []
    for item, c in found:
        if item.speaker in speakers:
            continue
        speakers.append(item.speaker)
        n = numbering.add(replace(c, score=1.0)).n
        who = f"{item.speaker} ({item.title})" if item.title else item.speaker
        holding = _holding(c)
        parts.append(f'{who} [{n}]. "{holding}" [{n}]')
        if item.resolved:
            notes.append(
                f"The article names the speaker of [{n}] as “{item.said_as}”; read as "
                f"{item.speaker}, whom it was about."
            )
    if direct:
        text = " ".join(parts)
        notes.insert(0, "Whom the article attributes the last answer's sentence to.")
    else:
        text = (
            "No speaker is found for the sentence the last answer quoted. Its paragraph "
            "quotes " + " ".join(parts)
        )
        notes.insert(0, f"The sentence asked about: “{sentence}”")
    answer = Answer(text=text, abstained=False, citations=numbering.citations)
    answer.short = ", ".join(speakers) if direct else ""
    answer.confidence = 1.0 if direct else 0.5
    answer.notes = notes
    return answer


def _holding(c: Citation) -> str:
    """The sentence that holds a quote, else the quote."""
    return quoting_sentence(c) or c.sentence
