"""Near-copies: the same paragraph in several articles, as when one agency story is
republished by many outlets under a new headline with a trimmed ending. Found by MinHash
over word shingles with locality-sensitive hashing (Broder 1997; the banding of Indyk and
Motwani), each candidate pair then checked by its exact Jaccard similarity and its
figures, so that a group holds only paragraphs that share most of their wording and
state the same numbers.

A group is cited once, by its earliest published copy (or, undated, the first
ingested), with the other copies listed beside it (`also_in`). Groups are read from the
stored paragraphs once per index generation: adding or removing a copy or the original
re-forms them. Copies within one article are left alone (an article may repeat itself).
"""

from __future__ import annotations

import re
import threading
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from llama_index.core.schema import BaseNode

from ..settings import Settings
from .opened import stored_paragraphs

THRESHOLD = 0.5  # Jaccard similarity of two paragraphs' word 3-shingles
SHINGLE = 3
MIN_WORDS = 8  # shorter paragraphs ("Reuters", "Photo: ...") are too generic to group
PERMUTATIONS = 64
BANDS = 32  # of 2 rows: pairs at Jaccard 0.5 become candidates with p > 0.9999
MAX_BUCKET = 64  # a band value shared by more paragraphs is boilerplate, not a story
COPY_SHARE = 0.5  # an article with this share of its paragraphs copied is a near-copy
_P = np.uint64(4_294_967_311)  # a prime above 2**32
_RNG = np.random.default_rng(20_240_601)
_A = _RNG.integers(1, 2**31, size=PERMUTATIONS, dtype=np.uint64)
_B = _RNG.integers(0, 2**32, size=PERMUTATIONS, dtype=np.uint64)


def shingles(text: str) -> set[int]:
    words = re.findall(r"\w+", text.lower())
    if len(words) < MIN_WORDS:
        return set()
    grams = (" ".join(words[i : i + SHINGLE]) for i in range(len(words) - SHINGLE + 1))
    return {zlib.crc32(g.encode()) for g in grams}


def signature(hashed: set[int]) -> np.ndarray:
    x = np.fromiter(hashed, dtype=np.uint64, count=len(hashed))[:, None]
    return ((x * _A[None, :] + _B[None, :]) % _P).min(axis=0)  # type: ignore[no-any-return]


def jaccard(a: set[int], b: set[int]) -> float:
    return len(a & b) / max(len(a | b), 1)


_FIGURE = re.compile(r"\d+(?:[.,]\d+)*")


def figures(text: str) -> frozenset[str]:
    return frozenset(_FIGURE.findall(text))


def find_groups(items: Sequence[tuple[str, str, str]]) -> list[list[str]]:
    """Groups of near-copies among (id, article, text), each group's ids in input order;
    paragraphs of one article never pair with each other, nor two that state different
    figures: a report made from a template ("logged 703 containers" / "logged 1,204")
    is another story in the same words, a republished one keeps its figures."""
    sets = [shingles(text) for _, _, text in items]
    numbers = [figures(text) for _, _, text in items]
    buckets: dict[tuple[int, int, int], list[int]] = {}
    for i, s in enumerate(sets):
        if not s:
            continue
        sig = signature(s)
        for band in range(BANDS):
            key = (band, int(sig[2 * band]), int(sig[2 * band + 1]))
            buckets.setdefault(key, []).append(i)
    parent = list(range(len(items)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    checked: set[tuple[int, int]] = set()
    for members in buckets.values():
        if len(members) < 2 or len(members) > MAX_BUCKET:
            continue
        for x, i in enumerate(members):
            for j in members[x + 1 :]:
                if items[i][1] == items[j][1] or (i, j) in checked or root(i) == root(j):
                    continue
                checked.add((i, j))
                if numbers[i] == numbers[j] and jaccard(sets[i], sets[j]) >= THRESHOLD:
                    parent[root(j)] = root(i)
    grouped: dict[int, list[int]] = {}
    for i in range(len(items)):
        grouped.setdefault(root(i), []).append(i)
    return [[items[i][0] for i in g] for g in grouped.values() if len({items[i][1] for i in g}) > 1]


@dataclass(frozen=True)
class Copy:
    """Where a copy of a paragraph stands, as a citation lists it."""

    id: str
    path: str
    source: str
    paragraph: int
    date: str
    site: str
    added: str

    def as_dict(self) -> dict[str, object]:
        return {"source": self.source, "paragraph": self.paragraph, "date": self.date,
                "site": self.site}  # fmt: skip


def _copy(node: BaseNode) -> Copy:
    meta = node.metadata
    return Copy(node.node_id, str(meta.get("path", "")), str(meta.get("source", "")),
                int(meta.get("paragraph", 0)), str(meta.get("date", "") or "")[:10],
                str(meta.get("site", "") or ""), str(meta.get("added", "") or ""))  # fmt: skip


def _order(c: Copy) -> tuple[int, str, str, str, int]:
    """Earliest published first; undated after every dated copy, by when ingested."""
    return (0 if c.date else 1, c.date, c.added, c.path, c.paragraph)


class Copies:
    """The near-copy groups of an index."""

    def __init__(self, nodes: Iterable[BaseNode]) -> None:
        self.nodes = {n.node_id: n for n in nodes}
        items = [
            (i, str(n.metadata.get("path", "")), n.get_content()) for i, n in self.nodes.items()
        ]
        self.groups = [
            sorted((_copy(self.nodes[i]) for i in g), key=_order) for g in find_groups(items)
        ]
        self.group_of = {c.id: k for k, g in enumerate(self.groups) for c in g}
        self._per_path: dict[str, int] = {}
        for n in self.nodes.values():
            path = str(n.metadata.get("path", ""))
            self._per_path[path] = self._per_path.get(path, 0) + 1
        self._grouped: dict[str, list[Copy]] = {}
        for g in self.groups:
            for c in g:
                self._grouped.setdefault(c.path, []).append(c)

    def __len__(self) -> int:
        return len(self.groups)

    def members(self, node_id: str, paths: frozenset[str] | None = None) -> list[Copy]:
        """The copies of this paragraph (itself included) in `paths` (None: all), the
        earliest first; [] when it has none."""
        k = self.group_of.get(node_id)
        if k is None:
            return []
        return [c for c in self.groups[k] if paths is None or c.path in paths]

    def canonical(self, node_id: str, paths: frozenset[str] | None = None) -> str:
        """The id of the copy cited for this paragraph: the earliest in scope."""
        members = self.members(node_id, paths)
        return members[0].id if members else node_id

    def also_in(self, node_id: str, paths: frozenset[str] | None = None) -> list[dict[str, object]]:
        return [c.as_dict() for c in self.members(node_id, paths) if c.id != node_id]

    def collapse(self, scores: dict[str, float], paths: frozenset[str] | None) -> dict[str, float]:
        """Retrieval scores with each group's copies replaced by the one it is cited by,
        which keeps the best score among them."""
        out: dict[str, float] = {}
        for node_id, score in scores.items():
            kept = self.canonical(node_id, paths)
            out[kept] = max(out.get(kept, score), score)
        return out

    def copy_of(self, path: str) -> str:
        """The source of the article this one is a near-copy of ("" : none): the earlier
        article that holds the first copies of most of its grouped paragraphs."""
        firsts = [self.groups[self.group_of[c.id]][0] for c in self._grouped.get(path, [])]
        elsewhere = [f for f in firsts if f.path != path]
        paragraphs = self._per_path.get(path, 0)
        if not elsewhere or len(elsewhere) < COPY_SHARE * max(paragraphs, 1):
            return ""
        sources: dict[str, int] = {}
        for f in elsewhere:
            sources[f.source] = sources.get(f.source, 0) + 1
        return max(sorted(sources), key=lambda s: sources[s])


_CACHE: dict[tuple[Any, ...], Copies] = {}
_LOCK = threading.Lock()


def copies_for(settings: Settings) -> Copies:
    """The index's near-copy groups, found once per index generation."""
    stamp, nodes = stored_paragraphs(settings)
    if not stamp:  # an index that cannot say when it changed: not read on every question
        return Copies([])
    key = (str(settings.index_dir.resolve()), settings.chroma_host, settings.chroma_port, stamp)
    with _LOCK:
        cached = _CACHE.get(key)
    if cached is not None:
        return cached
    found = Copies(nodes)
    with _LOCK:
        _CACHE.clear()
        _CACHE[key] = found
    return found
