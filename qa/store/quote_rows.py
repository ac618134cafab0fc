"""Each article's quotes kept beside its paragraphs, in a side collection of the same
Chroma database ("quotes": one row per article, keyed by its path), so that who said
what is read once, at ingest, and lives on the Chroma server in server mode too.

A row holds the quotes extracted by rule (qa.reading.quotes) and a digest of the
article's stored paragraphs (number and content hash of each) and of the extraction
rules. Attribution crosses paragraphs ("... Jacobstein ..." then "He clarified that
..."), so the unit is the article: when any paragraph of it changes, the digest changes
and the whole article is extracted again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from typing import Any

from ..reading.quotes import RULES_VERSION, extract
from .index import Store

COLLECTION = "quotes"


def digest(paragraphs: Iterable[tuple[int, str]]) -> str:
    """Of an article's stored paragraphs, as (number, content hash), and the rules."""
    h = hashlib.sha256(RULES_VERSION.encode())
    for number, content_hash in sorted(paragraphs):
        h.update(f"\n{number}:{content_hash}".encode())
    return h.hexdigest()


def _row_id(path: str) -> str:
    return hashlib.sha256(path.encode()).hexdigest()[:32]


def _collection(store: Store) -> Any:
    return store.client.get_or_create_collection(COLLECTION, embedding_function=None)


def record(
    store: Store,
    articles: Sequence[tuple[str, Sequence[tuple[int, str, str]]]],
    gone: Iterable[str] = (),
) -> int:
    """At ingest: store the quotes of each article, given as (path, [(number, text,
    content hash)]), whose stored row is missing or out of date, and drop the rows of
    the articles at `gone` (no longer indexed). Returns how many articles were
    extracted."""
    collection = _collection(store)
    dropped = [_row_id(p) for p in gone]
    if dropped:
        collection.delete(ids=dropped)
    wanted = {
        _row_id(path): (path, digest((n, h) for n, _, h in paras), paras)
        for path, paras in articles
    }
    have: dict[str, str] = {}
    ids = sorted(wanted)
    for start in range(0, len(ids), 1000):
        rows = collection.get(ids=ids[start : start + 1000], include=["metadatas"])
        for id_, meta in zip(rows["ids"], rows["metadatas"], strict=False):
            have[id_] = str((meta or {}).get("digest", ""))
    todo = [i for i in ids if have.get(i) != wanted[i][1]]
    for start in range(0, len(todo), 500):
        chunk = todo[start : start + 500]
        docs = [json.dumps(extract([(n, t) for n, t, _ in wanted[i][2]]).as_dict()) for i in chunk]
        collection.upsert(
            ids=chunk,
            embeddings=[[0.0]] * len(chunk),
            documents=docs,
            metadatas=[{"path": wanted[i][0], "digest": wanted[i][1]} for i in chunk],
        )
    return len(todo)


def stored_rows(store: Store) -> dict[str, tuple[str, str]]:
    """Every stored row as {article path: (digest, quotes as JSON)}; empty where the
    collection cannot be read (a read-only or older server: every article is then read
    from its text)."""
    stored: dict[str, tuple[str, str]] = {}
    try:
        rows = _collection(store).get(include=["metadatas", "documents"])
        for meta, doc in zip(rows["metadatas"], rows["documents"], strict=False):
            stored[str((meta or {}).get("path", ""))] = (str((meta or {}).get("digest")), doc)
    except Exception:
        return {}
    return stored
