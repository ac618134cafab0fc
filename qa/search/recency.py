"""What a question says about publication time: "latest", "most recent" or "newest" ask
for the most recently published article that answers; "after 2023", "since July 2024",
"before 1 March 2024" narrow the publication dates it is asked of."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date as Date
from datetime import timedelta
from typing import Protocol, TypeVar

from llama_index.core.schema import NodeWithScore

from ..reading.dates import find_dates

_LATEST = re.compile(
    r"\b(latest|newest|most\s+recent(ly)?|most\s+up[\s-]to[\s-]date|most\s+current)\b", re.I
)
# "after X", "since X", "before X", "until X": X is read by qa.reading.dates, as any date
# in an article is, and must be on the calendar without a publication date (a day, a
# month with its year, a year, a decade).
_RANGE_WORD = re.compile(r"\b(?P<word>after|since|before|until|till)\s+", re.I)


@dataclass(frozen=True)
class _Range:
    word: str  # after, since, before, until (till reads as until)
    first: Date
    last: Date
    start: int  # the phrase's place in the question
    end: int


def _ranges(question: str) -> list[_Range]:
    """The "after X" phrases of a question whose X is a date on the calendar."""
    found: list[_Range] = []
    for m in _RANGE_WORD.finditer(question):
        rest = question[m.start() :]
        after_word = m.end() - m.start()
        for mention in find_dates(rest, None):
            if mention.start not in (0, after_word):
                continue
            if mention.when is not None and not mention.relative:
                word = m.group("word").lower()
                word = "until" if word == "till" else word
                when = mention.when
                end = m.start() + mention.end
                found.append(_Range(word, when.start, when.last, m.start(), end))
            break
    return found


def asks_latest(question: str) -> bool:
    return bool(_LATEST.search(question))


def plain(question: str, dates: bool) -> str:
    """The question as retrieval and the offline answerer read it: without "latest"
    words (the preference is applied to the answer's choice) and, when `dates`, without
    the "after X" phrases the scope already applied; a sentence stating the fact rarely
    repeats either ("What is the latest number ...?" asks for a number)."""
    if not _LATEST.search(question) and not dates:
        return question
    out = _LATEST.sub(" ", question)
    if dates:
        for r in reversed(_ranges(out)):
            out = out[: r.start] + " " + out[r.end :]
    out = re.sub(r"\s+([?.!,])", r"\1", " ".join(out.split()))
    out = re.sub(r"\b(the|a|an)\s+(the|a|an)\b", r"\1", out, flags=re.I)
    return out if len(re.findall(r"\w+", out)) >= 2 else question


@dataclass(frozen=True)
class Implied:
    """A publication-date range a question sets, and the words that set it."""

    since: str | None
    until: str | None
    phrase: str


def implied_range(question: str) -> Implied | None:
    """The publication dates a question's "after/since/before/until X" sets (X a day,
    a month with its year, or a year); None when it sets none. "after X" starts the day
    after X ends, "since X" the day X starts; "before X" ends the day before X starts,
    "until X" the day X ends."""
    since: Date | None = None
    until: Date | None = None
    phrases: list[str] = []
    for r in _ranges(question):
        first, last, word = r.first, r.last, r.word
        if word == "after":
            start = last + timedelta(days=1)
            since = max(since, start) if since else start
        elif word == "since":
            since = max(since, first) if since else first
        elif word == "before":
            end = first - timedelta(days=1)
            until = min(until, end) if until else end
        else:
            until = min(until, last) if until else last
        phrases.append(" ".join(question[r.start : r.end].split()))
    if not phrases:
        return None
    return Implied(
        since.isoformat() if since else None, until.isoformat() if until else None,
        ", ".join(phrases),
    )  # fmt: skip


def published(hit: NodeWithScore) -> str:
    """The hit's article's publication date (YYYY-MM-DD), "" when unknown."""
    return str(hit.node.metadata.get("date", "") or "")[:10]


class _Scored(Protocol):
    @property
    def score(self) -> float: ...
    @property
    def hit(self) -> NodeWithScore: ...


S = TypeVar("S", bound=_Scored)


def latest_first(rows: Sequence[S], threshold: float) -> list[S]:
    """Scored sentences with, first, the one from the most recently published article
    among those that state the answer (score at least `threshold`); the order is
    otherwise kept. Undated articles count as older than any dated one."""
    passing = [r for r in rows if r.score >= threshold]
    if len(passing) < 2:
        return list(rows)
    best = max(passing, key=lambda r: (published(r.hit), r.score))
    return [best, *(r for r in rows if r is not best)]
