"""What a conversation is about: the article its recent answers quoted most. A follow-up
leans toward it (qa.service tries it first and keeps to it when it answers), unless it
names something the article never mentions: then, as when it does not answer, the whole
index is asked. A preference, not a scope: a scope the user chose always rules.

The articles are found from the answers' own text, so a conversation passed as plain
messages (the chat page, `ask(history=...)`, `/ask`, `qa chat`) works the same: each
sentence an answer quoted is looked up, and the article whose paragraph holds it is the
one the answer cited. The first sentence the latest answer quoted is the conversation's
anchor (`qa.answering.locality`: a follow-up's answer is most often in it or just after it).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from llama_index.core.schema import BaseNode

from ..reading.text import split_sentences
from ..search.retrieve import HybridRetriever
from .followup import ABSTAINED, Message, turns
from .locality import Anchor
from .referents import entities

FOCUS_TURNS = 4  # answers looked back over
ANCHOR_TURNS = 2  # answers looked back over for the last quoted sentence
_QUOTE_MARKS = "\"“”' "


@dataclass(frozen=True)
class Focus:
    paths: frozenset[str]
    sources: tuple[str, ...]  # as citations name them, for the note
    # The first sentence the latest answer (of the last ANCHOR_TURNS) quoted.
    anchor: Anchor | None = None

    def describe(self) -> str:
        return ", ".join(self.sources)


def _quoted(answer: str) -> list[str]:
    """The sentences an answer quotes (long enough to be found again), best first."""
    sentences = [s.strip(_QUOTE_MARKS) for s in split_sentences(answer)]
    return [s for s in sentences if len(s.split()) >= 5]


def quoted_articles(history: Sequence[Message], retriever: HybridRetriever) -> Focus | None:
    """The article the last FOCUS_TURNS answers quoted most often (the latest among
    equals), or None (nothing quoted verbatim: a hand-written or model-written history,
    or only abstentions). Most often, not last: one answer that strayed to another
    article does not take the conversation with it."""
    counts: dict[str, int] = {}
    names: dict[str, str] = {}
    latest: dict[str, int] = {}
    anchor: Anchor | None = None
    for age, (_, answer) in enumerate(reversed(turns(history)[-FOCUS_TURNS:])):
        sentences = _quoted(answer)
        if not sentences:
            continue
        quoted: set[str] = set()
        for hit in retriever.retrieve(" ".join(sentences)[:2000]):
            path = str(hit.node.metadata.get("path", ""))
            content = hit.node.get_content()
            if path and path not in quoted and any(s[:80] in content for s in sentences):
                quoted.add(path)
                counts[path] = counts.get(path, 0) + 1
                names[path] = str(hit.node.metadata.get("source", ""))
                latest.setdefault(path, age)
                if anchor is None and age < ANCHOR_TURNS:
                    anchor = _anchor(sentences[0], hit.node)
    if not counts:
        return None
    best = min(counts, key=lambda p: (-counts[p], latest[p]))
    return Focus(frozenset({best}), (names[best],), anchor)


def last_quoted(history: Sequence[Message], paragraphs: Sequence[BaseNode]) -> Anchor | None:
    """The anchor alone, for a conversation the user scoped (no focus is sought): the
    first sentence the latest of the last ANCHOR_TURNS answers quoted, looked up in the
    scope's `paragraphs`."""
    for _, answer in reversed(turns(history)[-ANCHOR_TURNS:]):
        sentences = _quoted(answer)
        if not sentences:
            continue
        for node in paragraphs:
            if sentences[0][:80] in node.get_content():
                anchor = _anchor(sentences[0], node)
                if anchor is not None:
                    return anchor
    return None


def last_sentence(history: Sequence[Message]) -> str | None:
    """The sentence the latest answer quoted first, as the article writes it: the first
    in quotation marks, else its first long enough; None after an abstention."""
    said = turns(history)
    if not said or said[-1][1].startswith(ABSTAINED):
        return None
    sentences = [s.strip() for s in split_sentences(said[-1][1])]
    quoted = [s for s in sentences if s[:1] in '"“']
    for sentence in quoted + sentences:  # turns() took out the [n] marks
        text = sentence.strip(_QUOTE_MARKS)
        if len(text.split()) >= 5:
            return text
    return None


def _anchor(sentence: str, node: BaseNode) -> Anchor | None:
    """Where in its paragraph a quoted sentence stands, as the answerer splits it; None
    when the paragraph does not hold it."""
    meta = node.metadata
    path = str(meta.get("path", ""))
    for i, s in enumerate(split_sentences(node.get_content())):
        if path and sentence[:80] in s:
            return Anchor(path, int(meta.get("paragraph", 0)), i)
    return None


def names_elsewhere(question: str, focus_text: str) -> bool:
    """The question names something (a capitalised name) the focused article never
    mentions: it has moved on to another topic."""
    text = focus_text.lower()
    names = [n for n in entities(question) if not re.fullmatch(r"I|I'm|I’m", n)]
    return any(n.lower() not in text for n in names)
