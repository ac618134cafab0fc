"""What a conversation is about: the articles its recent answers quoted. A follow-up leans
toward them (qa.service tries them first and keeps to them when they answer), unless it
names something they never mention: then, as when they do not answer, the whole index
is asked. A preference, not a scope: a scope the user chose always rules.

The articles are found from the answers' own text, so a conversation passed as plain
messages (the chat page, `ask(history=...)`, `/ask`, `qa chat`) works the same: each
sentence an answer quoted is looked up, and the article whose paragraph holds it is the
one the answer cited.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ..reading.text import split_sentences
from ..search.retrieve import HybridRetriever
from .followup import Message, entities, turns

FOCUS_TURNS = 2  # answers looked back over
_QUOTE_MARKS = "\"“”' "


@dataclass(frozen=True)
class Focus:
    paths: frozenset[str]
    sources: tuple[str, ...]  # as citations name them, for the note

    def describe(self) -> str:
        return ", ".join(self.sources)


def quoted_articles(history: Sequence[Message], retriever: HybridRetriever) -> Focus | None:
    """The articles the last FOCUS_TURNS answers quoted, or None (nothing quoted verbatim:
    a hand-written or model-written history, or only abstentions)."""
    paths: list[str] = []
    sources: list[str] = []
    for _, answer in reversed(turns(history)[-FOCUS_TURNS:]):
        sentences = [s.strip(_QUOTE_MARKS) for s in split_sentences(answer)]
        sentences = [s for s in sentences if len(s.split()) >= 5]
        if not sentences:
            continue
        for hit in retriever.retrieve(" ".join(sentences)[:2000]):
            text = hit.node.get_content()
            if any(s[:80] in text for s in sentences):
                path = str(hit.node.metadata.get("path", ""))
                if path and path not in paths:
                    paths.append(path)
                    sources.append(str(hit.node.metadata.get("source", "")))
    return Focus(frozenset(paths), tuple(sources)) if paths else None


def names_elsewhere(question: str, focus_texts: Sequence[str]) -> bool:
    """The question names something (a capitalised name) the focused articles never
    mention: it has moved on to another topic."""
    text = " ".join(focus_texts).lower()
    names = [n for n in entities(question) if not re.fullmatch(r"I|I'm|I’m", n)]
    return any(n.lower() not in text for n in names)
