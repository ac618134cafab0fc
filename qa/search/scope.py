"""Which articles a question is asked of: chosen articles, a publication-date range and a
site, checked, resolved against the index to the paths retrieval is restricted to, and
said in words for the answer ("Scope: 1 article (002_...txt); published 2024-07-01 or
later")."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date as Date
from pathlib import Path
from typing import overload
from urllib.parse import urlparse

from ..errors import ScopeError
from ..settings import Settings
from ..store.ingest import PART
from ..store.library import ArticleInfo, list_articles
from .recency import implied_range
from .retrieve import HybridRetriever, hybrid_retriever

SHOWN_NAMES = 3  # article names the scope text lists before "and N more"
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def check_date(name: str, value: object) -> str | None:
    """An ISO date (YYYY-MM-DD) or None; anything else is a ScopeError saying so."""
    if value is None:
        return None
    if isinstance(value, Date):
        return value.isoformat()
    text = str(value).strip()
    if not text:
        return None
    try:
        if not _ISO.match(text):
            raise ValueError(text)
        return Date.fromisoformat(text).isoformat()
    except ValueError:
        raise ScopeError(f"{name}={text!r} is not a date (use YYYY-MM-DD).") from None


def _sources(value: object) -> tuple[str, ...] | None:
    """Article names as given: one name, or a list of them."""
    if value is None:
        return None
    if isinstance(value, str | Path):
        value = [value]
    if not isinstance(value, Iterable):
        raise ScopeError(f"sources={value!r}: give article names (a name or a list of them).")
    names = tuple(str(s).strip() for s in value if s is not None and str(s).strip())
    return names or None


@dataclass(frozen=True)
class Scope:
    """What a question is restricted to; a field left None does not restrict.

    sources: article file names, paths or titles (case-insensitive); since/until:
    publication dates, inclusive (articles without a date are outside any date range);
    site: the publishing site (its name or web address). `implied` says what of the
    date range the question itself set ("after 2023")."""

    sources: tuple[str, ...] | None = None
    since: str | None = None
    until: str | None = None
    site: str | None = None
    implied: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "sources", _sources(self.sources))
        object.__setattr__(self, "since", check_date("since", self.since))
        object.__setattr__(self, "until", check_date("until", self.until))
        site = (self.site or "").strip() or None
        object.__setattr__(self, "site", site)
        if self.since and self.until and self.since > self.until:
            raise ScopeError(
                f"since={self.since} is after until={self.until}: no date is in that range."
            )

    @classmethod
    def of(
        cls,
        sources: Sequence[str] | str | None = None,
        since: str | Date | None = None,
        until: str | Date | None = None,
        site: str | None = None,
    ) -> Scope | None:
        """The scope of these arguments, or None when none of them restricts anything."""
        scope = cls(sources, since, until, site)  # type: ignore[arg-type]
        return None if scope.everything else scope

    @property
    def everything(self) -> bool:
        return not (self.sources or self.since or self.until or self.site)

    @property
    def dated(self) -> bool:
        return bool(self.since or self.until)

    def as_dict(self) -> dict[str, object]:
        return {"sources": list(self.sources) if self.sources else None,
                "since": self.since, "until": self.until, "site": self.site,
                "from_question": self.implied or None}  # fmt: skip


def _source_matcher(wanted: str) -> Callable[[ArticleInfo], bool]:
    """Whether an article is the one `wanted` names: by file name, title, path or file
    name without its suffix, case-insensitively, or by a path relative to here."""
    w = wanted.casefold()
    try:
        path = str(Path(wanted).expanduser().resolve())
    except (OSError, ValueError):
        path = ""

    def matches(a: ArticleInfo) -> bool:
        # An article that is part of a file (a mailbox's message) is also named by the
        # file: "inbox.mbox" names every message in it.
        file = a.path.split(PART, 1)[0]
        names = (a.source, a.title, a.path, Path(a.source).stem, Path(file).name, file)
        return path in (a.path, file) or any(n.casefold() == w for n in names if n)

    return matches


def _matches_site(article: ArticleInfo, site: str) -> bool:
    s = site.casefold().removeprefix("www.")
    host = (urlparse(article.url).hostname or "").casefold().removeprefix("www.")
    return article.site.casefold() == s or bool(host) and (host == s or host.endswith("." + s))


def _in_dates(article: ArticleInfo, since: str | None, until: str | None) -> bool:
    day = article.date[:10]
    return bool(day) and (not since or day >= since) and (not until or day <= until)


@dataclass(frozen=True)
class Resolved:
    """A scope resolved against the index: the articles in it, and what it left out."""

    scope: Scope
    articles: tuple[ArticleInfo, ...]
    undated: int = 0  # articles left out of a date range for having no date
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def paths(self) -> frozenset[str]:
        return frozenset(a.path for a in self.articles)

    def describe(self) -> str:
        """The scope in words, as the answer shows it."""
        names = sorted(a.source for a in self.articles)
        shown = ", ".join(names[:SHOWN_NAMES])
        if len(names) > SHOWN_NAMES:
            shown += f" and {len(names) - SHOWN_NAMES} more"
        count = f"{len(names)} article{'' if len(names) == 1 else 's'}"
        parts = [f"{count} ({shown})" if names else "no article"]
        s = self.scope
        if s.since and s.until:
            parts.append(f"published between {s.since} and {s.until}")
        elif s.since:
            parts.append(f"published {s.since} or later")
        elif s.until:
            parts.append(f"published {s.until} or earlier")
        if s.implied:
            parts[-1] += f" ({s.implied}, from the question)"
        if s.site:
            parts.append(f"from {s.site}")
        if self.undated:
            were = "article was" if self.undated == 1 else "articles were"
            parts.append(f"{self.undated} undated {were} left out")
        return "Scope: " + "; ".join(parts) + "."

    def as_dict(self) -> dict[str, object]:
        return self.scope.as_dict() | {
            "articles": sorted(a.source for a in self.articles),
            "undated_left_out": self.undated,
            "text": self.describe(),
        }


@overload
def resolve(scope: Scope, settings: Settings) -> Resolved: ...
@overload
def resolve(scope: None, settings: Settings) -> None: ...
@overload
def resolve(scope: Scope | None, settings: Settings) -> Resolved | None: ...


def resolve(scope: Scope | None, settings: Settings) -> Resolved | None:
    """The articles of the index in `scope` (None, as `Scope.of` gives when nothing
    restricts: every article, and None back). The one way every entry point (ask,
    retrieve, check, quotes, timeline) resolves its scope, after checking it with
    `Scope.of` before anything else runs. A source naming no article is an error (a
    misspelt name must not quietly answer from nothing); so is a scope that leaves no
    article, with what each part of it kept."""
    if scope is None:
        return None
    articles = list_articles(settings)
    kept = list(articles)
    if scope.sources:
        matchers = {w: _source_matcher(w) for w in scope.sources}
        unknown = [w for w, m in matchers.items() if not any(m(a) for a in articles)]
        if unknown:
            have = ", ".join(sorted(a.source for a in articles)[:10]) or "none"
            raise ScopeError(
                f"No article in the index matches {', '.join(map(repr, unknown))} (articles "
                f"are named by file name, path or title; in the index: {have})."
            )
        kept = [a for a in kept if any(m(a) for m in matchers.values())]
    if scope.site:
        site = scope.site
        kept = [a for a in kept if _matches_site(a, site)]
        if not kept:
            raise ScopeError(f"No article in the scope is from the site {site!r}.")
    undated = 0
    if scope.dated:
        undated = sum(1 for a in kept if not a.date)
        kept = [a for a in kept if _in_dates(a, scope.since, scope.until)]
    resolved = Resolved(scope, tuple(kept), undated)
    if not kept:
        raise ScopeError(f"No article is in the scope asked for. {resolved.describe()}")
    return resolved


def for_question(
    scope: Scope | None, question: str, settings: Settings
) -> tuple[Resolved | None, list[str]]:
    """The scope a question is answered in: `scope` (None: every article), narrowed by
    the dates the question sets ("after 2023"), and notes. The question's dates narrow
    only when some article is left in them; otherwise a note says they were not used
    (the articles may have no publication dates at all)."""
    resolved = resolve(scope, settings)
    implied = implied_range(question)
    if implied is None:
        return resolved, []
    base = scope or Scope()
    since = max(filter(None, (base.since, implied.since)), default=None)
    until = min(filter(None, (base.until, implied.until)), default=None)
    try:
        narrowed = Scope(base.sources, since, until, base.site, implied=implied.phrase)
        return resolve(narrowed, settings), []
    except ScopeError:
        return resolved, [
            f"The question's “{implied.phrase}” did not narrow the articles: no article "
            "in scope has a publication date in that range."
        ]


def scoped_retriever(
    settings: Settings, scope: Scope | Resolved | None, k: int | None = None, mode: str = "hybrid"
) -> HybridRetriever:
    """The hybrid retriever restricted to a scope (None: every article); for features
    that retrieve on their own (claim check, quotes, timeline)."""
    if isinstance(scope, Scope):
        scope = resolve(scope, settings)
    return hybrid_retriever(settings, k=k, mode=mode, paths=scope.paths if scope else None)
