"""Add or update articles: embed only paragraphs whose text is new, drop what left disk.

A stored paragraph's id is (file path, paragraph number, content hash), the hash also
covering the paragraph's heading, the article's title and what is known of the article
(date, author, site, address, PDF page), which are stored with it, so a change to any of
them re-stores the paragraph. The article's headline is part of what every paragraph
is found by, while the cited text stays the paragraph alone: BM25 indexes headline,
heading and paragraph; the vector is the paragraph's own (with its heading) plus
TITLE_WEIGHT times its headline's, normalised. (Embedding headline and paragraph as one
text let the headline swamp short paragraphs: on the seed question set, paragraph MRR
fell from 0.86 to 0.75, dense. bench/headline_weight.py measures both ways.)

Re-reading a folder compares ids: unchanged ids are skipped; new ids reuse a stored
vector when the same text (and headline) is already embedded (a paragraph that only
moved, or whose date or author changed), or the paragraph's own vector, combined with
its headline's; the rest is embedded; ids whose file or paragraph is gone are deleted
from Chroma and from the word index alike. So an index built before headlines were
indexed keeps answering, and the next ingest brings it up to date by embedding each
headline once: no paragraph is embedded again.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from chromadb.errors import ChromaError
from llama_index.core.schema import TextNode

from ..errors import IndexWriteError, QAError
from ..reading.articles import Article, ArticleError, Paragraph, find_articles, read_articles
from ..settings import Settings
from . import quote_rows
from .embedding import UnknownModelError, get_embedder
from .index import Store, ids_digest, reset, where, write_lock

log = logging.getLogger(__name__)

EMBED_CHUNK = 256  # paragraphs per embedding call: progress updates without losing speed


@dataclass
class IngestReport:
    files: int = 0
    articles: int = 0  # more than files when an e-mail file or mailbox holds several
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    paragraphs: int = 0
    seconds: float = 0.0
    embedded: int = 0
    skipped: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _short_hash(text: str, n: int = 12) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:n]


PART = "::"  # between a file's path and an article's part, in the article's stored path


def article_path(file_path: str, article: Article) -> str:
    """Where the index keeps an article: its file's path, and which part of the file it
    is when the file holds several (an e-mail's attachment, a mailbox's message)."""
    return f"{file_path}{PART}{article.part}" if article.part else file_path


def file_of(meta: dict[str, Any]) -> str:
    """The file a stored paragraph was read from."""
    return str(meta.get("file") or meta.get("path", ""))


def node_id(path: str, number: int, content_hash: str) -> str:
    # os.path, not Path: called for every paragraph of every re-read file.
    return f"{_short_hash(path, 10)}:{os.path.basename(path)}#{number}@{content_hash[:16]}"


# The headline's share of each paragraph's vector: enough to find an article by its
# headline (BBC headline -> article MRR 0.99), little enough to leave paragraphs apart
# within an article (bench/headline_weight.py).
TITLE_WEIGHT = 0.2


def _vector_key(meta: dict[str, Any]) -> tuple[str, str, str]:
    """Two paragraphs share a vector when text, heading and headline (with its weight)
    are equal. A paragraph without a headline in its vector has "" there."""
    mix = meta.get("title_mix")
    title = f"{meta.get('title', '')}\n{mix}" if mix else ""
    return str(meta.get("content_hash")), str(meta.get("heading", "")), title


def _own_key(meta: dict[str, Any]) -> tuple[str, str, str]:
    """The key of the paragraph's own vector, without a headline."""
    return str(meta.get("content_hash")), str(meta.get("heading", "")), ""


def paragraph_text(node: TextNode) -> str:
    """What is embedded for a paragraph: its heading and text (as before headlines)."""
    heading = str(node.metadata.get("heading", ""))
    return f"{heading}\n\n{node.text}" if heading else node.text


def with_title(vector: np.ndarray, title: np.ndarray) -> list[float]:
    mixed = np.asarray(vector, dtype=np.float32) + TITLE_WEIGHT * title
    out: list[float] = (mixed / max(float(np.linalg.norm(mixed)), 1e-12)).tolist()
    return out


# What an article says about itself, stored with each of its paragraphs ("" / 0: unknown).
ARTICLE_FIELDS = ("date", "author", "site", "url")


def make_node(
    article: Article, paragraph: Paragraph, path: str, folder: str, title: bool = True
) -> TextNode:
    """The paragraph as stored. `title`: index the article's headline with it (False
    only to measure what that buys; see bench/headline.py)."""
    embed_title = title and article.headline and bool(article.title)
    metadata: dict[str, Any] = {
        "source": article.source,
        "paragraph": paragraph.number,
        "title": article.title,
    }
    if paragraph.heading:
        metadata["heading"] = paragraph.heading
    metadata |= {
        "path": path,
        "folder": folder,
        **({"file": path.split(PART, 1)[0]} if article.part else {}),
        "content_hash": paragraph.content_hash,
        "added": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    extra: dict[str, Any] = {k: getattr(article, k) for k in ARTICLE_FIELDS if getattr(article, k)}
    if paragraph.page:
        extra["page"] = paragraph.page
    if embed_title:
        extra["title_mix"] = TITLE_WEIGHT
    metadata |= extra
    shown = ("title", "heading") if embed_title else ("heading",)
    hidden = [k for k in metadata if k not in shown]
    # Paragraphs without any of the newer fields keep the ids they had before them.
    signature = "".join(f"\n{k}={extra[k]}" for k in sorted(extra))
    id_hash = _short_hash(
        f"{article.title}\n{paragraph.heading}\n{paragraph.content_hash}{signature}", 64
    )
    return TextNode(
        id_=node_id(path, paragraph.number, id_hash),
        text=paragraph.text,
        metadata=metadata,
        excluded_embed_metadata_keys=hidden,
        excluded_llm_metadata_keys=[k for k in metadata if k != "heading"],
        metadata_template="{value}",
    )


def _progress(total: int, quiet: bool) -> Any:
    if quiet or not sys.stderr.isatty() or total < 64:
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc="embedding", unit="para", file=sys.stderr)


def ingest(
    paths: list[Path] | None = None,
    settings: Settings | None = None,
    *,
    quiet: bool = False,
    rebuild: bool = False,
    warn: Callable[[str], None] | None = None,
    titles: bool = True,
) -> IngestReport:
    """Add or update the articles under `paths` (default: the articles folder).
    `titles=False` leaves headlines out of the embedded text, to measure what they buy."""
    settings = settings or Settings.from_env()
    warn = warn or (lambda msg: log.warning("%s", msg))
    started = time.perf_counter()
    paths = paths or [settings.seeds_dir]
    try:  # before the index records an unusable model name
        get_embedder(settings.embed_model)
    except UnknownModelError as exc:
        raise QAError(str(exc)) from None
    try:
        with write_lock(
            settings, wait=lambda: warn("another ingest is writing to this index; waiting")
        ):
            if rebuild:
                reset(settings)
            store = Store(settings, create=True)
            return _ingest(paths, settings, store, quiet, warn, started, titles)
    except QAError:
        raise
    except (OSError, ChromaError) as exc:
        # A full disk, a read-only folder, a server that went away: what was stored
        # before stays (rows are added before any are deleted), and a rerun completes.
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise IndexWriteError(
            f"Could not write to the index at {where(settings)} ({reason[:200]}). "
            "Is the disk full or read-only? What was stored before is kept; fix that and "
            "run `qa ingest` again to finish."
        ) from None


def _ingest(
    paths: list[Path],
    settings: Settings,
    store: Store,
    quiet: bool,
    warn: Callable[[str], None],
    started: float,
    titles: bool = True,
) -> IngestReport:
    report = IngestReport()

    files, warnings = find_articles(paths)
    show_progress = not quiet and sys.stderr.isatty()
    articles: list[Article] = []
    for path in files:
        try:
            articles.extend(read_articles(path, warnings.append, progress=show_progress))
        except (ArticleError, OSError) as exc:
            warnings.append(str(exc))
    for msg in warnings:
        warn(msg)
    report.skipped = warnings
    report.files = len({a.path for a in articles})
    report.articles = len(articles)

    # What should be stored for the files and folders we were given.
    wanted: dict[str, TextNode] = {}
    resolved = {p: str(p.resolve()) for p in files}  # once per file: realpath is slow
    read_paths = {resolved[a.path] for a in articles}
    skipped_paths = set(resolved.values()) - read_paths
    folders = {str(p.resolve()) for p in paths if p.is_dir()}
    for article in articles:
        file_path = resolved[article.path]
        folder = os.path.dirname(file_path)
        stored_as = article_path(file_path, article)
        for paragraph in article.evidence:
            node = make_node(article, paragraph, stored_as, folder, title=titles)
            wanted[node.node_id] = node

    # What is stored now, for those same files and folders.
    stored: dict[str, dict[str, Any]] = {}
    hash_to_id: dict[tuple[str, str, str], str] = {}
    all_ids: set[str] = set()
    for row in store.records():
        all_ids.add(row["id"])
        meta = row["metadata"] or {}
        hash_to_id.setdefault(_vector_key(meta), row["id"])
        stored_path = file_of(meta)
        # A file that is now unreadable keeps its old paragraphs: bad input loses nothing.
        in_scope = stored_path in read_paths or (
            any(stored_path.startswith(f + os.sep) for f in folders)
            and stored_path not in skipped_paths
        )
        if in_scope:
            stored[row["id"]] = meta

    def position(meta: dict[str, Any]) -> tuple[str, int]:
        return str(meta["path"]), int(meta["paragraph"])

    def text_key(meta: dict[str, Any]) -> tuple[str, str]:
        return str(meta["path"]), str(meta["content_hash"])

    # Counted by text, not by position: a paragraph inserted above others moves them
    # (updated), it does not remove them. An edit replaces the text at its position.
    old_text_at = {position(m): text_key(m) for m in stored.values()}
    old_texts = set(old_text_at.values())
    new_texts = {text_key(n.metadata) for n in wanted.values()}
    to_add = [n for i, n in wanted.items() if i not in stored]
    to_delete = [i for i in stored if i not in wanted]
    # A re-stored article keeps the time it was first added.
    first_added: dict[str, str] = {}
    for meta in stored.values():
        added = str(meta.get("added", ""))
        if added and added < first_added.get(str(meta.get("path")), "~"):
            first_added[str(meta.get("path"))] = added
    for node in to_add:
        node.metadata["added"] = first_added.get(node.metadata["path"], node.metadata["added"])

    def edits_in_place(node: TextNode) -> bool:
        before = old_text_at.get(position(node.metadata))
        return (
            before is not None
            and before not in new_texts
            and text_key(node.metadata) not in old_texts
        )

    edited = {position(n.metadata) for n in to_add if edits_in_place(n)}
    moved = sum(1 for n in to_add if text_key(n.metadata) in old_texts)
    report.unchanged = len(wanted) - len(to_add)
    report.updated = moved + len(edited)
    report.added = len(to_add) - report.updated
    report.removed = sum(
        1 for p, t in old_text_at.items() if t not in new_texts and p not in edited
    )

    # Reuse vectors: the same one when the same text and headline are embedded; else the
    # paragraph's own vector, with its headline's added; embed the rest.
    exact = {n.node_id: hash_to_id[_vector_key(n.metadata)] for n in to_add
             if _vector_key(n.metadata) in hash_to_id}  # fmt: skip
    own = {n.node_id: hash_to_id[_own_key(n.metadata)] for n in to_add
           if n.node_id not in exact and n.metadata.get("title_mix")
           and _own_key(n.metadata) in hash_to_id}  # fmt: skip
    vectors = store.embeddings(sorted(set(exact.values()) | set(own.values())))
    for node in to_add:
        if exact.get(node.node_id) in vectors:
            node.embedding = vectors[exact[node.node_id]].tolist()
    headlines = sorted({str(n.metadata["title"]) for n in to_add
                        if n.embedding is None and n.metadata.get("title_mix")})  # fmt: skip
    embedder = get_embedder(settings.embed_model)  # loaded by ingest() already
    title_vectors: dict[str, np.ndarray] = {}
    if headlines:  # each headline once
        title_vectors = dict(zip(headlines, embedder.embed_passages(headlines), strict=True))
    for node in to_add:
        if node.embedding is None and own.get(node.node_id) in vectors:
            own_vector = vectors[own[node.node_id]]
            node.embedding = with_title(own_vector, title_vectors[node.metadata["title"]])
    fresh = [n for n in to_add if n.embedding is None]
    report.embedded = len(fresh)
    # Stored as they are embedded, a chunk at a time, and added before anything is
    # deleted: a run killed at any point leaves extra or missing rows that the next run
    # (same ids) completes or removes, never a paragraph twice.
    reused = [n for n in to_add if n.embedding is not None]
    if reused:
        store.add(reused)
    if fresh:
        bar = _progress(len(fresh), quiet)
        # Longest first keeps similar lengths in a batch (less padding where texts are
        # batched, as by the fp32 reference) and shows the slow part of the bar first.
        order = sorted(fresh, key=lambda n: -len(n.text))
        for start in range(0, len(order), EMBED_CHUNK):
            chunk = order[start : start + EMBED_CHUNK]
            texts = [paragraph_text(n) for n in chunk]
            for node, vector in zip(chunk, embedder.embed_passages(texts), strict=False):
                title = node.metadata["title"] if node.metadata.get("title_mix") else None
                node.embedding = (
                    vector.tolist() if title is None else with_title(vector, title_vectors[title])
                )
            store.add(chunk)
            if bar is not None:
                bar.update(len(chunk))
        if bar is not None:
            bar.close()
    if to_delete:
        store.delete(to_delete)
    # Who said what, per article: re-extracted when any of its paragraphs changed.
    gone = {str(m.get("path")) for m in stored.values()} - {
        str(n.metadata["path"]) for n in wanted.values()
    }
    quote_rows.record(
        store,
        [(resolved[a.path], [(p.number, p.text, p.content_hash) for p in a.evidence])
         for a in articles],
        gone=gone,
    )  # fmt: skip
    # The word index must hold exactly what Chroma holds; a killed run can leave it behind.
    after = ids_digest((all_ids | {n.node_id for n in to_add}) - set(to_delete))
    if to_add or to_delete or store.lexical_ids() != after:
        store.update_lexical(to_add, to_delete, before=ids_digest(all_ids))
        store.announce_change(after)
    report.paragraphs = store.count()
    report.seconds = round(time.perf_counter() - started, 3)
    return report
