"""Who said it: a claim that names its speaker ("Mulino said the agreement is part of a
regional response") checked against the quotes the articles attribute (`qa.desk.quotebook`,
the quotes and reported speech extracted at ingest, speakers resolved and grouped).

When a quote in the retrieved articles states what the claim says was said, and no
quote that states it is by the claimed speaker (under any spelling of the name), the
claim misattributes it: the articles give it to someone else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from ..answering import grounding
from ..answering.answer import Citation, Idf
from ..reading.text import split_sentences, terms
from ..settings import Settings
from .claim_slots import Slot, same
from .quotebook import QuoteItem, book

_SAYS = re.compile(
    r"^(?P<who>[^,]+?)\s+(?:said|says|stated|stressed|added|explained|insisted|noted|"
    r"pointed out|recalled|clarified|reiterated|indicated|highlighted|told reporters|"
    r"announced|warned)\b(?:\s+that)?\s+(?P<what>.+)$",
    re.I,
)
# A quote states the claim's content when it holds its figures and this share of its
# words (IDF-weighted).
SAID_COVER = 0.6


@dataclass
class Misattributed:
    claimed: str  # the speaker the claim names
    speaker: str  # whom the articles attribute it to
    item: QuoteItem
    citation: Citation  # the quote's paragraph, its sentence holding the quote (verbatim)


def _cited(item: QuoteItem) -> Citation:
    """The quote's paragraph, as citation 1, with its sentence that holds the most of
    the quote's words."""
    words = set(terms(item.text))
    best: tuple[float, int, str] = (-1.0, 0, "")
    for i, c in enumerate(item.citations):
        for s in split_sentences(c.text):
            best = max(best, (len(words & set(terms(s))) / max(len(words), 1), i, s))
    share, i, sentence = best
    return replace(item.citations[i], n=1, score=share, sentence=sentence)


def misattributed(
    claim: str, found: list[Slot], paths: set[str], settings: Settings, idf: Idf
) -> Misattributed | None:
    """The quote that states what the claim says its speaker said, when every such quote
    is someone else's; None otherwise (no speaker named, nothing quoted, or the speaker
    is one of those quoted saying it)."""
    m = _SAYS.match(claim)
    if not m:
        return None
    who = m.group("who")
    names = [s for s in found if s.kind == "name" and s.text in who]
    if not names:
        return None
    what = m.group("what")
    figures = [s for s in found if s.kind != "name" and s.text in what]
    quotes = book(settings)
    stating = [
        i
        for i in quotes.items
        if i.path in paths
        and grounding.cover(what, i.text, idf) >= SAID_COVER
        and all(same(f.kind, f.text, i.text) for f in figures)
    ]
    people = {g.name for g in quotes.groups.groups}
    if not stating or any(i.speaker not in people for i in stating):
        return None  # unquoted, or said by a group or a pronoun left unresolved
    claimed = {i.speaker for i in quotes.by(who)}
    if any(i.speaker in claimed or same("name", who, i.speaker) for i in stating):
        return None
    return Misattributed(who, stating[0].speaker, stating[0], _cited(stating[0]))


def quoted_in(name: str, source: str, paragraph: int, settings: Settings) -> bool:
    """Whether the articles quote the person `name` in that paragraph (under any name,
    a pronoun or a role: "The Deputy Assistant Secretary of State recalled ...")."""
    return any(
        c.source == source and c.paragraph == paragraph
        for item in book(settings).by(name)
        for c in item.citations
    )
