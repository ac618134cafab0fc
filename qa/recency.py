"""What a question says about publication time: "latest", "most recent" or "newest" ask
for the most recently published article that answers; "after 2023", "since July 2024",
"before 1 March 2024" narrow the publication dates it is asked of."""

from __future__ import annotations

import calendar
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date as Date
from datetime import timedelta
from typing import Protocol, TypeVar

from llama_index.core.schema import NodeWithScore

_LATEST = re.compile(
    r"\b(latest|newest|most\s+recent(ly)?|most\s+up[\s-]to[\s-]date|most\s+current)\b", re.I
)
_MONTH_NAMES = (
    {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
    | {name.lower(): i for i, name in enumerate(calendar.month_abbr) if name}
    | {"sept": 9}
)
_MONTHS = "|".join(sorted(_MONTH_NAMES, key=len, reverse=True))
# The forms of X in "after X": a day (ISO, "July 1, 2024", "1 July 2024"), a month with
# its year ("July 2024"), or a year.
_WHEN = (
    r"(?:(?P<iy>(?:19|20)\d\d)-(?P<im>\d\d)-(?P<id>\d\d)\b|"
    rf"(?P<m1>{_MONTHS})\.?\s+(?P<d1>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<y1>(?:19|20)\d\d)\b|"
    rf"(?P<d2>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<m2>{_MONTHS})\.?,?\s+"
    r"(?P<y2>(?:19|20)\d\d)\b|"
    rf"(?P<m3>{_MONTHS})\.?,?\s+(?P<y3>(?:19|20)\d\d)\b|"
    r"(?P<y4>(?:19|20)\d\d)\b)"
)
_RANGE = re.compile(rf"\b(?P<word>after|since|before|until|till)\s+{_WHEN}", re.I)


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
        out = _RANGE.sub(lambda m: " " if _period(m) else m.group(0), out)
    out = re.sub(r"\s+([?.!,])", r"\1", " ".join(out.split()))
    out = re.sub(r"\b(the|a|an)\s+(the|a|an)\b", r"\1", out, flags=re.I)
    return out if len(re.findall(r"\w+", out)) >= 2 else question


@dataclass(frozen=True)
class Implied:
    """A publication-date range a question sets, and the words that set it."""

    since: str | None
    until: str | None
    phrase: str


def _period(m: re.Match[str]) -> tuple[Date, Date] | None:
    """The first and last day X names."""
    g = m.groupdict()
    try:
        if g["iy"]:
            day = Date(int(g["iy"]), int(g["im"]), int(g["id"]))
            return day, day
        for d, mo, y in (("d1", "m1", "y1"), ("d2", "m2", "y2")):
            if g[d]:
                day = Date(int(g[y]), _MONTH_NAMES[g[mo].lower()], int(g[d]))
                return day, day
        if g["m3"]:
            year, month = int(g["y3"]), _MONTH_NAMES[g["m3"].lower()]
            last = calendar.monthrange(year, month)[1]
            return Date(year, month, 1), Date(year, month, last)
        year = int(g["y4"])
        return Date(year, 1, 1), Date(year, 12, 31)
    except (ValueError, KeyError):
        return None


def implied_range(question: str) -> Implied | None:
    """The publication dates a question's "after/since/before/until X" sets (X a day,
    a month with its year, or a year); None when it sets none. "after X" starts the day
    after X ends, "since X" the day X starts; "before X" ends the day before X starts,
    "until X" the day X ends."""
    since: Date | None = None
    until: Date | None = None
    phrases: list[str] = []
    for m in _RANGE.finditer(question):
        period = _period(m)
        if period is None:
            continue
        first, last = period
        word = m.group("word").lower()
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
        phrases.append(" ".join(m.group(0).split()))
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
