"""Who said what across the index: quotes stored at ingest, listed by speaker, ranked by
topic, each cited to the stored paragraph(s) it is verbatim from.

`qa ingest` keeps each article's quotes beside its paragraphs (qa.store.quote_rows).
A stored row is used only when its digest matches the paragraphs the index holds now;
any other article (an index built or upgraded before quotes were stored, rows left by
a killed ingest, newer rules) is extracted from its stored paragraphs on read, so a
stale row is never shown. What is read is cached per index generation.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from llama_index.core.schema import BaseNode, NodeWithScore

from ..answering.answer import Citation, Idf, citation_from_hit, coverage, sentence_vectors
from ..reading.attribution import sentences
from ..reading.quotes import ArticleQuotes, Quote, extract
from ..reading.speakers import Groups, fold, kind_of
from ..reading.text import terms
from ..settings import Settings
from ..store.embedding import BundledEmbedding
from ..store.index import Store
from ..store.opened import open_store, stored_paragraphs
from ..store.quote_rows import digest, stored_rows

# A quote is about a topic when its meaning is this near the topic (cosine, the
# bundled embedder) or it holds this share of the topic's weighted words.
NEAR = 0.45
COVER = 0.5
CONTEXT_WORDS = 8  # a quote shorter than this is weighed with its sentence
OPENING = 80  # characters of a quote or sentence that find it again in its paragraph


@dataclass
class QuoteItem:
    """A quote as shown: who said it (one name per person across the articles), what,
    in which article, cited to its paragraph(s)."""

    speaker: str
    text: str
    kind: str  # "direct" (verbatim) or "reported"
    said_as: str  # as the article names the speaker there ("Jocobstein", "the official")
    resolved: bool  # the article said "he", "she" or a role; resolved to this person
    title: str
    source: str
    path: str  # the article's file, as stored
    article_title: str
    citations: list[Citation]
    relevance: float = 0.0  # to the topic asked about (0 when none was)

    def as_dict(self) -> dict[str, Any]:
        return {
            "speaker": self.speaker,
            "text": self.text,
            "kind": self.kind,
            "said_as": self.said_as,
            "resolved": self.resolved,
            "title": self.title,
            "source": self.source,
            "article_title": self.article_title,
            "paragraphs": [c.paragraph for c in self.citations],
            "citations": [c.as_dict() for c in self.citations],
            "relevance": round(self.relevance, 4),
        }


@dataclass
class Book:
    """Every quote in the index, and the people who said them."""

    items: list[QuoteItem] = field(default_factory=list)
    groups: Groups = field(default_factory=lambda: Groups([]))
    extracted_on_read: int = 0  # articles whose stored row was missing or out of date

    def speakers(self) -> list[str]:
        """Everyone quoted, people before groups, most quoted first."""
        counts: dict[str, int] = {}
        for item in self.items:
            counts[item.speaker] = counts.get(item.speaker, 0) + 1
        people = {g.name for g in self.groups.groups}
        return sorted(counts, key=lambda s: (s not in people, -counts[s], fold(s)))

    def by(self, speaker: str) -> list[QuoteItem]:
        """The quotes of whoever `speaker` names: a person under any spelling ("Jocobstein",
        "Miranda"), or a group as the articles write it ("State Department officials")."""
        names = {g.name for g in self.groups.find(speaker)}
        names |= {i.speaker for i in self.items if fold(i.speaker) == fold(speaker.strip())}
        return [i for i in self.items if i.speaker in names]


_CACHE: dict[tuple[Any, ...], Book] = {}
_LOCK = threading.Lock()


def book(settings: Settings) -> Book:
    """The quotes of the index, read once per index generation."""
    stamp, nodes = stored_paragraphs(settings)
    key = (str(settings.index_dir), settings.chroma_host, settings.chroma_port, stamp)
    with _LOCK:
        cached = _CACHE.get(key)
    if cached is not None and stamp:
        return cached
    built = _read(open_store(settings), nodes)
    with _LOCK:
        _CACHE.clear()
        _CACHE[key] = built
    return built


def _read(store: Store, nodes: list[BaseNode]) -> Book:
    by_path: dict[str, list[BaseNode]] = {}
    for node in nodes:
        by_path.setdefault(str(node.metadata.get("path", "")), []).append(node)
    stored = stored_rows(store)
    found = Book()
    people: list[tuple[str, str, str, int]] = []
    per_article: list[tuple[list[BaseNode], ArticleQuotes]] = []
    for path in sorted(by_path):
        nodes = sorted(by_path[path], key=lambda n: int(n.metadata.get("paragraph", 0)))
        paras = [(int(n.metadata.get("paragraph", 0)), n.get_content()) for n in nodes]
        have = stored.get(path)
        now = digest((int(n.metadata.get("paragraph", 0)), str(n.metadata.get("content_hash")))
                     for n in nodes)  # fmt: skip
        if have is not None and have[0] == now:
            quotes = ArticleQuotes.from_dict(json.loads(have[1]))
        else:
            quotes = extract(paras)
            found.extracted_on_read += 1
        source = str(nodes[0].metadata.get("source", ""))
        people += [(name, source, title, 0) for name, title in quotes.people.items()]
        people += [(q.speaker, source, q.title, 1) for q in quotes.quotes if _is_person(q)]
        per_article.append((nodes, quotes))
    found.groups = Groups(people)
    for nodes, quotes in per_article:
        at = {int(n.metadata.get("paragraph", 0)): n for n in nodes}
        for q in quotes.quotes:
            item = _item(q, at, found.groups)
            if item is not None:
                found.items.append(item)
    return found


def _is_person(q: Quote) -> bool:
    said = kind_of(q.speaker)
    return said is not None and said.kind == "name"


def _item(q: Quote, at: dict[int, BaseNode], groups: Groups) -> QuoteItem | None:
    if any(n not in at for n in q.paragraphs):
        return None
    citations = [
        citation_from_hit(NodeWithScore(node=at[n], score=1.0), i, 1.0, part)
        for i, (n, part) in enumerate(zip(q.paragraphs, q.parts, strict=True), start=1)
    ]
    group = groups.of(q.speaker) if _is_person(q) else None
    meta = at[q.paragraphs[0]].metadata
    return QuoteItem(
        speaker=group.name if group else q.speaker,
        text=q.text,
        kind=q.kind,
        said_as=q.said_as,
        resolved=q.resolved,
        title=q.title,
        source=str(meta.get("source", "")),
        path=str(meta.get("path", "")),
        article_title=str(meta.get("title", "")),
        citations=citations,
    )


def rank(
    items: list[QuoteItem], topic: str, embedder: BundledEmbedding, idf: Idf
) -> list[QuoteItem]:
    """The quotes about `topic`, nearest first: by the bundled embedder's cosine between
    topic and quote, or by the share of the topic's weighted words the quote holds (the
    answerer's term weights). A quote near neither is left out."""
    if not items:
        return []
    q_vec = embedder.embed_queries([topic])[0]
    texts = [context_of(i) for i in items]
    vectors = sentence_vectors(embedder, texts)
    cosines = np.asarray(vectors @ np.asarray(q_vec, dtype=np.float32)).ravel()
    weights = {t: idf(t) for t in set(terms(topic))}
    out: list[QuoteItem] = []
    for item, text, cosine in zip(items, texts, cosines, strict=True):
        cover, _ = coverage(weights, set(terms(text))) if weights else (0.0, set())
        if cosine >= NEAR or cover >= COVER:
            out.append(replace(item, relevance=float(cosine) + 0.5 * cover))
    return sorted(out, key=lambda i: -i.relevance)


def context_of(item: QuoteItem) -> str:
    """What a quote is weighed by: its text, or for a short one ('“close”') the sentence
    that quotes it, which says what it is about."""
    if len(item.text.split()) >= CONTEXT_WORDS:
        return item.text
    return quoting_sentence(item.citations[0]) or item.text


def quoting_sentence(c: Citation) -> str | None:
    """The sentence of a quote's paragraph that holds the quote (its opening OPENING
    characters, for a quote running on over sentences); None when none does."""
    return next((s for _, s in sentences(c.text) if c.sentence[:OPENING] in s), None)
