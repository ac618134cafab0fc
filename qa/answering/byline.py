""" "Who wrote ...?": answered from the article's byline (its stored author), cited to
the article's paragraph that the question found. An author bio in the text is never
evidence (qa.reading.boilerplate drops it), so the byline is the only source for this."""

from __future__ import annotations

import re

from llama_index.core.schema import NodeWithScore

from .answer import Answer, citation_from_hit

_WHO_WROTE = re.compile(
    r"^\s*(who\s+(wrote|authored|penned|reported|is\s+the\s+(author|writer|reporter)\s+of|"
    r"was\s+the\s+(author|writer|reporter)\s+of)|by\s+whom\s+was)\b",
    re.IGNORECASE,
)


def asks_for_author(question: str) -> bool:
    return bool(_WHO_WROTE.match(question))


def byline_answer(question: str, hits: list[NodeWithScore]) -> Answer | None:
    """The author of the article the question is about (the best hit's), or None when
    the question is not about an author or that article has no byline."""
    if not asks_for_author(question) or not hits:
        return None
    top = hits[0]
    meta = top.node.metadata
    author = str(meta.get("author", "")).strip()
    if not author:
        return None
    title = str(meta.get("title", "")) or str(meta.get("source", ""))
    citation = citation_from_hit(top, 1, float(meta.get("dense_score", 0.0)))
    answer = Answer(
        text=f"“{title}” was written by {author}, according to its byline [1].",
        abstained=False,
        citations=[citation],
    )
    answer.confidence = 1.0
    answer.notes.append("The author comes from the article's byline, not from its text.")
    return answer
