"""Dates written in a sentence, read and placed on the calendar: absolute ones as they
are ("1 July 2024", "November 2023", "in 2023", "the 1990s"), relative ones ("on Monday",
"last month", "two years ago", "in November", "5 May" without a year) resolved against
the article's publication date, and left unresolved when the article has none."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date as Date
from datetime import timedelta

PRECISIONS = ("day", "week", "month", "year", "decade")

MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august",
          "september", "october", "november", "december")  # fmt: skip
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
            "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12}  # fmt: skip

_MONTH = (
    r"(?P<month>January|February|March|April|May|June|July|August|September|October|"
    r"November|December|(?:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\.?)"
)
_WEEKDAY = r"(?P<weekday>Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
_DAY = r"(?P<day>[0-3]?\d)(?:st|nd|rd|th)?"
_YEAR = r"(?P<year>1[0-9]\d\d|20\d\d)"
_NUMBER = r"(?P<n>\d{1,3}|a|an|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)"
_UNIT = r"(?P<unit>day|week|month|year)s?"
# Words that put a bare year or month on the calendar: "in 2023", "since May".
_LEAD = r"(?i:in|on|since|by|until|till|from|during|of|before|after|between|and|to|through)"
_EDGE_WORDS = r"(?i:early|mid|late|the end of|the start of|the beginning of|the middle of)"
_EDGE = rf"(?:{_EDGE_WORDS}[\s-]+)?"
# A date is future when the words just before it (in its sentence) say so.
_FUTURE = re.compile(
    r"\b(will|shall|'ll|to be|is to|are to|is due|are due|due to|set to|scheduled|"
    r"expected to|next|upcoming|coming|going to|later)\b",
    re.I,
)


@dataclass(frozen=True)
class When:
    """A point or span of the calendar: `start` is its first day."""

    start: Date
    precision: str  # one of PRECISIONS

    @property
    def iso(self) -> str:
        """'2024-07-01', '2024-W27' (a week by its Monday: '2024-06-24'), '2023-11',
        '2023', '1990s'."""
        s = self.start
        return {
            "day": s.isoformat(),
            "week": s.isoformat(),
            "month": f"{s.year:04d}-{s.month:02d}",
            "year": f"{s.year:04d}",
            "decade": f"{s.year:04d}s",
        }[self.precision]

    @property
    def last(self) -> Date:
        """The span's last day: `start` for a day, the 31st for December, and so on."""
        s = self.start
        if self.precision == "day":
            return s
        if self.precision == "week":
            return s + timedelta(days=6)
        if self.precision == "month":
            return _month_start(s.year, s.month, 1) - timedelta(days=1)
        return Date(s.year + (9 if self.precision == "decade" else 0), 12, 31)

    @property
    def label(self) -> str:
        s = self.start
        return {
            "day": f"{s.day} {s.strftime('%B')} {s.year}",
            "week": f"week of {s.day} {s.strftime('%B')} {s.year}",
            "month": f"{s.strftime('%B')} {s.year}",
            "year": str(s.year),
            "decade": f"{s.year}s",
        }[self.precision]


@dataclass(frozen=True)
class Mention:
    """A date expression in a sentence. `when` is None when it is relative and no
    publication date is known; `relative` says it needed one; `how` says how it was
    resolved ("Monday → 2024-07-01 (publication date 2024-07-02)")."""

    start: int
    end: int
    text: str
    when: When | None
    relative: bool
    how: str = ""


# --- calendar arithmetic ---------------------------------------------------------------


def _month_start(year: int, month: int, shift: int = 0) -> Date:
    index = year * 12 + (month - 1) + shift
    return Date(index // 12, index % 12 + 1, 1)


def _safe(year: int, month: int, day: int) -> Date | None:
    try:
        return Date(year, month, day)
    except ValueError:
        return None


def _month_number(name: str) -> int:
    name = name.lower().rstrip(".")
    return next(i for i, m in enumerate(MONTHS, start=1) if m.startswith(name[:3]))


def _weekday(day: Date, weekday: int, future: bool, strict: bool) -> Date:
    """The nearest such weekday at or before `day` (past) or at or after it (future);
    `strict`: never `day` itself ("last Monday", "next Monday")."""
    if future:
        ahead = (weekday - day.weekday()) % 7 or (7 if strict else 0)
        return day + timedelta(days=ahead)
    back = (day.weekday() - weekday) % 7 or (7 if strict else 0)
    return day - timedelta(days=back)


def _month_year(published: Date, month: int, future: bool) -> int:
    """The year of the most recent such month at or before publication (past), or of the
    next one at or after it (future)."""
    if future:
        return published.year if month >= published.month else published.year + 1
    return published.year if month <= published.month else published.year - 1


def _day_month_year(
    published: Date, month: int, day: int, weekday: int | None, future: bool
) -> int | None:
    """The year of a day written without one: the year (around publication) whose date
    falls on the weekday written beside it, else the next one when the words before it
    say it is ahead, else the one nearest the publication date."""
    if weekday is not None:
        years = [y for y in (published.year, published.year + (1 if future else -1),
                             published.year + (-1 if future else 1))
                 if (d := _safe(y, month, day)) and d.weekday() == weekday]  # fmt: skip
        if years:
            return years[0]
    if _safe(published.year, month, day) is None and (month, day) != (2, 29):
        return None
    this = _safe(published.year, month, day) or Date(published.year, 2, 28)
    if future:
        return published.year if this >= published else published.year + 1
    # Not said to be ahead: the nearest (news names coming dates as often as past ones).
    other = this.replace(year=published.year + (1 if this < published else -1))
    nearer = abs((this - published).days) <= abs((other - published).days)
    return this.year if nearer else other.year


# --- reading ---------------------------------------------------------------------------

# A reading: the date (None: relative, and no publication date to place it), and whether it
# was relative; None when the words are not a date after all ("31 February").
Reading = tuple[When | None, bool] | None
Match = re.Match[str]
_Handler = Callable[[Match, Date | None, bool], Reading]


def _full(m: Match, published: Date | None, future: bool) -> Reading:
    d = _safe(int(m["year"]), _month_number(m["month"]), int(m["day"]))
    return (When(d, "day"), False) if d else None


def _iso(m: Match, published: Date | None, future: bool) -> Reading:
    d = _safe(int(m["year"]), int(m["mm"]), int(m["dd"]))
    return (When(d, "day"), False) if d else None


def _month_and_year(m: Match, published: Date | None, future: bool) -> Reading:
    return When(Date(int(m["year"]), _month_number(m["month"]), 1), "month"), False


def _year(m: Match, published: Date | None, future: bool) -> Reading:
    return When(Date(int(m["year"]), 1, 1), "year"), False


def _decade(m: Match, published: Date | None, future: bool) -> Reading:
    year = int(m["decade"])
    return (When(Date(year, 1, 1), "decade"), False) if year % 10 == 0 else None


def _day_month(m: Match, published: Date | None, future: bool) -> Reading:
    month, day = _month_number(m["month"]), int(m["day"])
    if not 1 <= day <= 31 or _safe(2024, month, day) is None:
        return None
    if published is None:
        return None, True
    named = m.groupdict().get("weekday")
    weekday = WEEKDAYS.index(named.lower()) if named else None
    year = _day_month_year(published, month, day, weekday, future)
    d = _safe(year, month, day) if year else None
    return (When(d, "day"), True) if d else None


def _month_alone(m: Match, published: Date | None, future: bool) -> Reading:
    if published is None:
        return None, True
    month = _month_number(m["month"])
    which = (m["which"] or "").lower()
    if which == "this":
        year = published.year
    elif which in ("last", "next"):
        year = _month_year(published, month, which == "next")
        if (year, month) == (published.year, published.month):
            year += 1 if which == "next" else -1
    else:
        year = _month_year(published, month, future)
    return When(Date(year, month, 1), "month"), True


def _month_of_year(m: Match, published: Date | None, future: bool) -> Reading:
    if published is None:
        return None, True
    shift = {"last": -1, "this": 0, "next": 1}[m["which"].lower()]
    return When(Date(published.year + shift, _month_number(m["month"]), 1), "month"), True


def _weekday_rel(m: Match, published: Date | None, future: bool) -> Reading:
    if published is None:
        return None, True
    which = (m["which"] or "").lower()
    weekday = WEEKDAYS.index(m["weekday"].lower())
    if which in ("last", "next"):
        return When(_weekday(published, weekday, which == "next", strict=True), "day"), True
    return When(_weekday(published, weekday, future and which != "this", strict=False), "day"), True


_DAY_WORDS = {"yesterday": -1, "today": 0, "tonight": 0, "tomorrow": 1}


def _day_word(m: Match, published: Date | None, future: bool) -> Reading:
    if published is None:
        return None, True
    return When(published + timedelta(days=_DAY_WORDS[m["word"].lower()]), "day"), True


def _shift(published: Date, unit: str, n: int) -> When:
    if unit == "day":
        return When(published + timedelta(days=n), "day")
    if unit == "week":
        monday = published - timedelta(days=published.weekday())
        return When(monday + timedelta(weeks=n), "week")
    if unit == "month":
        return When(_month_start(published.year, published.month, n), "month")
    return When(Date(published.year + n, 1, 1), "year")


def _this_last_next(m: Match, published: Date | None, future: bool) -> Reading:
    if published is None:
        return None, True
    shift = {"last": -1, "this": 0, "next": 1}[m["which"].lower()]
    return _shift(published, m["unit"].lower(), shift), True


def _ago(m: Match, published: Date | None, future: bool) -> Reading:
    if published is None:
        return None, True
    n = int(m["n"]) if m["n"].isdigit() else _NUMBERS[m["n"].lower()]
    return _shift(published, m["unit"].lower(), -n), True


_NOT_AFTER = r"(?![\w-]|\s?(?:GMT|BST|UTC|hours|hrs|am|pm)\b|\s*(?:%|per\s?cent|percent))"
# Each pattern, its reading, and a quick test a sentence must pass for it to be tried
# (most sentences name no month, weekday or number).
_MONTH_WORD = re.compile(r"\b(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)")
_DIGIT = re.compile(r"\d")
_WEEKDAY_WORD = re.compile(r"(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day\b")
_PATTERNS: list[tuple[re.Pattern[str], _Handler, re.Pattern[str] | None]] = [
    (
        re.compile(rf"\b(?:{_WEEKDAY},?\s+)?{_DAY}\s+(?:of\s+)?{_MONTH},?\s+{_YEAR}\b"),
        _full,
        _MONTH_WORD,
    ),
    (re.compile(rf"\b(?:{_WEEKDAY},?\s+)?{_MONTH}\s+{_DAY},?\s+{_YEAR}\b"), _full, _MONTH_WORD),
    (re.compile(r"\b(?P<year>\d{4})-(?P<mm>\d\d)-(?P<dd>\d\d)\b"), _iso, _DIGIT),
    (re.compile(rf"\b{_EDGE}{_MONTH}\s+(?:of\s+)?{_YEAR}\b"), _month_and_year, _MONTH_WORD),
    (
        re.compile(rf"\b(?:{_WEEKDAY},?\s+)?{_DAY}\s+(?:of\s+)?{_MONTH}(?![\w-]|,?\s+\d)"),
        _day_month,
        _MONTH_WORD,
    ),  # fmt: skip
    (
        re.compile(
            rf"\b{_DAY}\s*(?:-|–|and|to)\s*[0-3]?\d(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}"
            r"(?![\w-]|,?\s+\d)"
        ),
        _day_month,
        _MONTH_WORD,
    ),  # fmt: skip
    (
        re.compile(rf"\b(?:{_WEEKDAY},?\s+)?{_MONTH}\s+{_DAY}\b(?!,?\s+\d|\s?(?:%|per))"),
        _day_month,
        _MONTH_WORD,
    ),
    (
        re.compile(rf"\b{_EDGE}{_MONTH}\s+(?P<which>(?i:last|this|next))\s+year\b"),
        _month_of_year,
        _MONTH_WORD,
    ),
    (
        re.compile(
            rf"\b(?:(?P<which>(?i:last|this|next))|{_LEAD}|{_EDGE_WORDS})[\s-]+{_EDGE}{_MONTH}"
            rf"(?![\w-]|\s+\d)"
        ),
        _month_alone,
        _MONTH_WORD,
    ),  # fmt: skip
    (re.compile(rf"\b{_LEAD}\s+(?:the\s+)?{_EDGE}{_YEAR}{_NOT_AFTER}"), _year, _DIGIT),
    (re.compile(rf"\b(?:the\s+)?{_EDGE}(?P<decade>1[0-9]\d0|20\d0)s\b"), _decade, _DIGIT),
    (
        re.compile(rf"\b(?:(?P<which>(?i:last|next|this))\s+)?{_WEEKDAY}\b(?!,?\s+\d)"),
        _weekday_rel,
        _WEEKDAY_WORD,
    ),
    (re.compile(r"\b(?P<word>yesterday|today|tonight|tomorrow)\b", re.I), _day_word, None),
    (
        re.compile(rf"\b(?P<which>last|this|next)\s+{_UNIT}\b(?!\s+or\b)", re.I),
        _this_last_next,
        None,
    ),
    (re.compile(rf"\b{_NUMBER}\s+{_UNIT}\s+ago\b", re.I), _ago, None),
]


def find_dates(sentence: str, published: Date | None) -> list[Mention]:
    """The date expressions of a sentence, left to right, without overlaps (the longest
    reading wins)."""
    found: list[tuple[int, int, re.Match[str], _Handler]] = []
    passed: dict[re.Pattern[str] | None, bool] = {None: True}
    for pattern, handler, need in _PATTERNS:
        if need not in passed:
            passed[need] = bool(need.search(sentence))  # type: ignore[union-attr]
        if not passed[need]:
            continue
        for m in pattern.finditer(sentence):
            found.append((m.start(), m.end(), m, handler))
    found.sort(key=lambda f: (f[0], -(f[1] - f[0])))
    out: list[Mention] = []
    taken: list[tuple[int, int]] = []
    for start, end, m, handler in sorted(found, key=lambda f: -(f[1] - f[0])):
        if any(start < b and a < end for a, b in taken):
            continue
        before = sentence[max(0, start - 60) : start]
        future = bool(_FUTURE.search(before)) and not re.search(r"\b(ago|last)\b", m.group(0), re.I)
        read = handler(m, published, future)
        if read is None:
            continue
        when, relative = read
        text = _trim(m.group(0))
        how = ""
        if relative and when is not None and published is not None:
            how = f"{text} → {when.iso} (publication date {published.isoformat()})"
        taken.append((start, end))
        out.append(Mention(start, end, text, when, relative, how))
    return sorted(out, key=lambda x: x.start)


def _trim(text: str) -> str:
    """The expression without the little word that introduced it ("in 2023" -> "2023"
    stays readable either way; only a leading preposition goes)."""
    return re.sub(rf"^{_LEAD}\s+", "", text).strip()


def parse_iso(value: str) -> Date | None:
    """A publication date from paragraph metadata (ISO; "" when unknown)."""
    try:
        return Date.fromisoformat(value[:10]) if value else None
    except ValueError:
        return None
