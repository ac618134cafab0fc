"""Offline follow-up rewriting: make "he", "it", "that ministry" stand on their own.

No model is needed: the referent of a pronoun in a short follow-up is almost always a
name in the previous question or answer. We replace what we can resolve and append the
previous question's words for what we cannot, so retrieval still sees the topic.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

Message = dict[str, str]

_PERSONAL = {"he": "", "him": "", "she": "", "his": "'s", "her": ""}
_THING = {"it", "its", "they", "them", "their", "this", "that", "these", "those", "there"}
_DEMONSTRATIVE = re.compile(r"\b(that|this|these|those|the same)\s+([a-z][a-z-]+)", re.IGNORECASE)
_FOLLOW_START = re.compile(r"^\s*(and|also|what about|how about|and what about|what else)\b", re.I)
# Capitalised phrases, allowing "of", "the", "for", "and" inside: "Ministry of Security of Panama".
_ENTITY = re.compile(r"\b[A-Z][\w’'.-]*(?:\s+(?:(?:of|the|for|and|de|del)\s+)*[A-Z][\w’'.-]*)*")
_NOT_PERSON = re.compile(
    r"\b(Ministry|Department|Bureau|Office|House|States|Panama|Gap|Jungle|Security|"
    r"Secretary|Declaration|Clan|Golfo|News|Mobility|Agreement|U\.S\.|US|America)\b"
)
_QUESTION_WORDS = {"Who", "What", "Which", "How", "When", "Where", "Why", "Whose", "Did", "Does",
                   "Is", "Are", "Was", "Were", "The", "A", "An", "In", "On", "And"}  # fmt: skip
_MARKER = re.compile(r"\s*\[\d+\]")


def _entities(text: str) -> list[str]:
    found = []
    for m in _ENTITY.finditer(_MARKER.sub("", text)):
        words = m.group(0).split()
        while words and words[0] in _QUESTION_WORDS:
            words = words[1:]
        if words:
            found.append(" ".join(words).rstrip(".,;:’'"))
    return found


def _person(candidates: list[str]) -> str | None:
    for name in candidates:
        if len(name.split()) >= 2 and not _NOT_PERSON.search(name):
            return name
    return None


def _previous(history: Sequence[Message]) -> tuple[str, str]:
    user = next((m["content"] for m in reversed(history) if m.get("role") == "user"), "")
    bot = next((m["content"] for m in reversed(history) if m.get("role") == "assistant"), "")
    return str(user), _MARKER.sub("", str(bot))


def needs_context(question: str) -> bool:
    words = re.findall(r"[A-Za-z’']+", question.lower())
    return bool(_FOLLOW_START.search(question) or any(w in _PERSONAL or w in _THING for w in words))


def condense(question: str, history: Sequence[Message] | None) -> str:
    """A standalone version of `question` given earlier turns (unchanged if it already
    stands alone or there is no history)."""
    if not history or not needs_context(question):
        return question
    prev_q, prev_a = _previous(history)
    candidates = _entities(prev_q) + _entities(prev_a)
    rewritten = question
    resolved = False

    def sub_demonstrative(m: re.Match[str]) -> str:
        nonlocal resolved
        noun = m.group(2).lower().rstrip("s")
        for name in candidates:
            if noun in name.lower():
                resolved = True
                return "the " + name
        return m.group(0)

    rewritten = _DEMONSTRATIVE.sub(sub_demonstrative, rewritten)
    person = _person(candidates)
    if person:

        def sub_person(m: re.Match[str]) -> str:
            nonlocal resolved
            resolved = True
            return person + _PERSONAL[m.group(0).lower()]

        rewritten = re.sub(r"\b(he|him|she|his|her)\b", sub_person, rewritten, flags=re.I)
    words = set(re.findall(r"[a-z]+", rewritten.lower()))
    if not resolved or words & _THING or _FOLLOW_START.search(question):
        # Unresolved references: carry the previous question's topic along.
        context = prev_q.strip().rstrip("?")
        if context:
            rewritten = f"{rewritten.rstrip()} (context: {context})"
    return rewritten
