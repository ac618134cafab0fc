"""The index opened once per process and kept in step with ingests elsewhere: every
reader (retrieval, quotes, the timeline, the Articles tab) opens it here."""

from __future__ import annotations

import threading
import time
from typing import Any

from llama_index.core.schema import BaseNode

from ..errors import QAError
from ..settings import Settings
from .index import Store, forget_client, generation

_CACHE: dict[tuple[Any, ...], Store] = {}
_CACHE_LOCK = threading.Lock()


SERVER_CHECK_SECONDS = 2.0


def _key(settings: Settings) -> tuple[Any, ...]:
    return (str(settings.index_dir.resolve()), settings.chroma_host, settings.chroma_port,
            settings.embed_model)  # fmt: skip


def _drop(key: tuple[Any, ...], settings: Settings) -> None:
    """Forget this process's open store (and embedded Chroma database) for an index;
    the caller holds _CACHE_LOCK."""
    _CACHE.pop(key, None)
    if not settings.chroma_host:
        forget_client(settings.index_dir)


def open_store(settings: Settings) -> Store:
    """One open store per index per process, kept in step with ingests elsewhere.

    Embedded Chroma: reopened when an ingest (in this process or another) has changed
    the index, since a Chroma client keeps serving the vectors it loaded, and asking it
    for rows another process added fails. Chroma server: the vectors are always current;
    the local word index is rebuilt when the server's paragraphs changed (checked at most
    every SERVER_CHECK_SECONDS)."""
    key = _key(settings)
    server = bool(settings.chroma_host)
    current = "" if server else generation(settings)
    with _CACHE_LOCK:
        store = _CACHE.get(key)
        if store is not None:
            if store.generation == current:
                try:
                    store.collection.count()
                    if server and time.monotonic() - store.checked > SERVER_CHECK_SECONDS:
                        store.sync_lexical()
                        store.checked = time.monotonic()
                    return store
                except QAError:
                    raise
                except Exception:
                    pass
            _drop(key, settings)
        store = Store(settings)
        store.generation = current
        if server:
            store.sync_lexical()
            store.checked = time.monotonic()
        _CACHE[key] = store
        return store


_PARAGRAPHS: dict[tuple[Any, ...], tuple[str, list[BaseNode]]] = {}


def index_stamp(settings: Settings, store: Store) -> str:
    """What changes whenever the index does: its generation file (embedded Chroma, as
    `open_store` read it) or the generation the last ingest left on a Chroma server
    ("" when unknown)."""
    if settings.chroma_host:
        return str((store.read_state() or {}).get("generation", ""))
    return store.generation


def stored_paragraphs(settings: Settings) -> tuple[str, list[BaseNode]]:
    """Every stored paragraph and the index stamp it was read at; read once per stamp
    (an unknown stamp: read every time). The quotes and the timeline both start here."""
    store = open_store(settings)
    stamp = index_stamp(settings, store)
    key = _key(settings)
    with _CACHE_LOCK:
        cached = _PARAGRAPHS.get(key)
    if stamp and cached is not None and cached[0] == stamp:
        return cached
    read = (stamp, store.nodes())
    with _CACHE_LOCK:
        _PARAGRAPHS[key] = read
    return read


def reopen_store(settings: Settings) -> Store:
    """Drop this process's open store for the index and open it again from disk."""
    key = _key(settings)
    with _CACHE_LOCK:
        _drop(key, settings)
    return open_store(settings)


def forget_stores() -> None:
    with _CACHE_LOCK:
        _CACHE.clear()
