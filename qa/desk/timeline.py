"""A timeline of the articles: every sentence that carries a date, and every article's
publication, in date order, each cited to its paragraph. Relative dates ("on Monday",
"last month") are resolved against the article's publication date and marked so; in an
article without one they are not guessed: they stay off the timeline and the article is
listed as undated, with those expressions and their paragraphs."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date as Date

from llama_index.core.schema import BaseNode, NodeWithScore

from ..answering.answer import Citation, citation_from_hit
from ..errors import QuestionError
from ..reading.dates import PRECISIONS, Mention, When, find_dates, parse_iso
from ..reading.text import split_sentences
from ..search.scope import Resolved, Scope, resolve, scoped_retriever
from ..settings import MAX_QUESTION_CHARS, Settings
from ..store.copies import copies_for
from ..store.embedding import get_embedder
from ..store.opened import stored_paragraphs

# A topic keeps the paragraphs the answerer's retriever ranks for it (TOPIC_K of them, far
# more than a question's) that are about it: a cosine to the topic of TOPIC_FLOOR, or of
# WORD_FLOOR with a word of the topic in the paragraph (a BM25 score), and within
# TOPIC_MARGIN of the best paragraph's. The fused ranking alone always returns TOPIC_K
# paragraphs, related or not. Set by reading the scores on the seeds and on the eight BBC
# articles of bench/timeline_bbc.py: paragraphs about the topic score 0.17-0.85; unrelated
# topics ("football transfer" on the seeds) stay under 0.25 with no word in common; another
# article sharing a word ("concert", "Wales") scores 0.15-0.36 beside 0.6-0.85 for the
# article about it.
TOPIC_K = 60
TOPIC_FLOOR = 0.35
WORD_FLOOR = 0.15
TOPIC_MARGIN = 0.3


@dataclass
class Event:
    """A dated event: the publication of an article (`kind` "published") or a sentence
    with a date in it (`kind` "text"). `resolved`: the date was relative and placed from
    the publication date, as `how` says."""

    when: When
    kind: str
    sentence: str
    expression: str
    resolved: bool
    how: str
    citation: Citation

    @property
    def date(self) -> str:
        return self.when.iso

    def as_dict(self) -> dict[str, object]:
        return {
            "date": self.when.iso,
            "precision": self.when.precision,
            "label": self.when.label,
            "kind": self.kind,
            "sentence": self.sentence,
            "expression": self.expression,
            "resolved": self.resolved,
            "how": self.how,
            "citation": self.citation.as_dict(),
        }


@dataclass
class Unresolved:
    """A relative date in an article with no publication date: shown, never placed."""

    expression: str
    sentence: str
    citation: Citation

    def as_dict(self) -> dict[str, object]:
        return {"expression": self.expression, "sentence": self.sentence,
                "citation": self.citation.as_dict()}  # fmt: skip


@dataclass
class UndatedArticle:
    source: str
    title: str
    path: str
    unresolved: list[Unresolved] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {"source": self.source, "title": self.title, "path": self.path,
                "unresolved": [u.as_dict() for u in self.unresolved]}  # fmt: skip


@dataclass
class Timeline:
    topic: str | None
    events: list[Event]
    undated: list[UndatedArticle]
    articles: int  # articles in scope
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "topic": self.topic,
            "articles": self.articles,
            "events": [e.as_dict() for e in self.events],
            "undated": [a.as_dict() for a in self.undated],
            "notes": self.notes,
        }


# --- reading the paragraphs, once per index generation ---------------------------------


@dataclass(frozen=True)
class _Read:
    """A stored paragraph and the dates in its sentences."""

    node: BaseNode
    published: Date | None
    mentions: tuple[tuple[str, Mention], ...]  # (sentence, mention)

    @property
    def key(self) -> tuple[str, int]:
        return str(self.node.metadata.get("path", "")), int(self.node.metadata.get("paragraph", 0))


def _read(node: BaseNode) -> _Read:
    published = parse_iso(str(node.metadata.get("date", "")))
    mentions = tuple(
        (sentence, m)
        for sentence in split_sentences(node.get_content())
        for m in find_dates(sentence, published)
    )
    return _Read(node, published, mentions)


_CACHE: dict[tuple[str, ...], list[_Read]] = {}
_LOCK = threading.Lock()


def _paragraphs(settings: Settings) -> list[_Read]:
    """Every stored paragraph, read; kept while the index stays the same (an ingest
    changes its stamp)."""
    stamp, nodes = stored_paragraphs(settings)
    key = (str(settings.index_dir.resolve()), settings.embed_model, stamp)
    with _LOCK:
        if stamp and key in _CACHE:
            return _CACHE[key]
    read = sorted((_read(n) for n in nodes), key=lambda r: r.key)
    if stamp:
        with _LOCK:
            _CACHE.clear()
            _CACHE[key] = read
    return read


# --- scope -----------------------------------------------------------------------------


def _check_topic(topic: str | None) -> str | None:
    if topic is None:
        return None
    if not isinstance(topic, str):
        raise QuestionError("The topic must be text.")
    topic = " ".join(topic.split())
    if len(topic) > MAX_QUESTION_CHARS:
        raise QuestionError(
            f"The topic is {len(topic):,} characters long; the limit is "
            f"{MAX_QUESTION_CHARS:,}. Give a shorter one."
        )
    return topic or None


def _relevant(topic: str, settings: Settings, scope: Resolved | None) -> set[str]:
    """Node ids of the paragraphs about the topic, by the answerer's own retriever (within
    the scope's articles)."""
    retriever = scoped_retriever(settings, scope, k=TOPIC_K, mode=settings.retrieval)
    q_vec = get_embedder(settings.embed_model).embed_queries([topic])[0]
    hits = retriever.retrieve_vec(topic, q_vec)
    cosines = {h.node.node_id: float(h.node.metadata.get("dense_score", 0.0)) for h in hits}
    floor = max(cosines.values(), default=0.0) - TOPIC_MARGIN
    relevant: set[str] = set()
    for h in hits:
        cosine = cosines[h.node.node_id]
        words = float(h.node.metadata.get("bm25_score", 0.0)) > 0
        if cosine >= floor and (cosine >= TOPIC_FLOOR or (words and cosine >= WORD_FLOOR)):
            relevant.add(h.node.node_id)
    return relevant


# --- the timeline ----------------------------------------------------------------------


def _cite(r: _Read, sentence: str) -> Citation:
    return citation_from_hit(NodeWithScore(node=r.node, score=1.0), 0, 1.0, sentence)


def _publication(article: list[_Read]) -> Event | None:
    first = article[0]
    if first.published is None:
        return None
    title = str(first.node.metadata.get("title", "")) or str(first.node.metadata.get("source"))
    how = f"publication date {first.published.isoformat()} (from the article's metadata)"
    return Event(When(first.published, "day"), "published", title, "", False, how,
                 _cite(first, title))  # fmt: skip


def _text_events(r: _Read) -> Iterable[Event]:
    seen: set[tuple[str, When]] = set()
    for sentence, m in r.mentions:
        if m.when is None or (sentence, m.when) in seen:
            continue
        seen.add((sentence, m.when))
        yield Event(m.when, "text", sentence, m.text, m.relative, m.how, _cite(r, sentence))


def _order(e: Event) -> tuple[object, ...]:
    """By date, a coarser date first where two start on the same day (a month sorts at
    its first day), then by article and paragraph (an article's publication first)."""
    c = e.citation
    return (e.when.start, -PRECISIONS.index(e.when.precision), c.source, c.title,
            0 if e.kind == "published" else c.paragraph)  # fmt: skip


def timeline(
    topic: str | None = None,
    settings: Settings | None = None,
    *,
    sources: Sequence[str] | str | None = None,
    since: str | Date | None = None,
    until: str | Date | None = None,
    site: str | None = None,
) -> Timeline:
    """The dated events of the articles (all of them, or those about `topic`), in date
    order, each cited to its paragraph. sources/since/until/site restrict the articles as
    they do for `ask` (qa.search.scope: file names, paths or titles; publication dates, where an
    undated article is outside any date range; the site)."""
    settings = settings or Settings.from_env()
    topic = _check_topic(topic)
    scope = Scope.of(sources, since, until, site)  # checked before anything else runs
    paragraphs = _paragraphs(settings)
    notes: list[str] = []
    resolved = resolve(scope, settings)
    if resolved is not None:
        paths = resolved.paths
        paragraphs = [r for r in paragraphs if r.key[0] in paths]
        notes.append(resolved.describe())
    if topic is not None:
        relevant = _relevant(topic, settings, resolved)
        paragraphs = [r for r in paragraphs if r.node.node_id in relevant]
        if not paragraphs:
            notes.append(f"No paragraph of the articles is about “{topic}”.")

    # A paragraph with copies in other articles of the timeline (one agency story
    # republished) gives its events once, from its earliest copy, which lists the others.
    copies = copies_for(settings)
    present = {r.node.node_id for r in paragraphs}
    scope_paths = resolved.paths if resolved is not None else None

    def first_copy(r: _Read) -> bool:
        members = [c.id for c in copies.members(r.node.node_id, scope_paths) if c.id in present]
        return not members or members[0] == r.node.node_id

    by_article: dict[str, list[_Read]] = {}
    for r in paragraphs:
        by_article.setdefault(r.key[0], []).append(r)

    events: list[Event] = []
    undated: list[UndatedArticle] = []
    for path, article in by_article.items():
        published = _publication(article)
        if published is not None:
            events.append(published)
        else:
            meta = article[0].node.metadata
            undated.append(UndatedArticle(
                str(meta.get("source", "")), str(meta.get("title", "")), path,
                [Unresolved(m.text, s, _cite(r, s))
                 for r in article for s, m in r.mentions if m.when is None],
            ))  # fmt: skip
        for r in article:
            if not first_copy(r):
                continue
            node_id = r.node.node_id
            also_in = [c.as_dict() for c in copies.members(node_id, scope_paths)
                       if c.id in present and c.id != node_id]  # fmt: skip
            for event in _text_events(r):
                event.citation.also_in = also_in
                events.append(event)
    events.sort(key=_order)
    for n, e in enumerate(events, start=1):
        e.citation.n = n
    n = len(events)
    for a in undated:
        for u in a.unresolved:
            n += 1
            u.citation.n = n
    undated.sort(key=lambda a: a.source.lower())
    if undated:
        notes.append(
            f"{len(undated)} article{'s' * (len(undated) != 1)} without a publication date: "
            f"relative dates in {'them' if len(undated) != 1 else 'it'} (Monday, last month, "
            "5 May without a year) are not resolved and not on the timeline."
        )
    return Timeline(topic, events, undated, len(by_article), notes)
