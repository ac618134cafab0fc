"""The articles behind the index, as the chat page's Articles tab manages them.

An uploaded file is checked (type, size, encoding, some text that can be evidence) and
then copied into the articles folder (`settings.seeds_dir`) before it is ingested, so
that a later `qa ingest` keeps it; a file with the name of an article already there
replaces it. A link is fetched (qa.reading.fetch) and its page or PDF added the same way, under
a name made from the link. Deleting an article removes its paragraphs from the index and, when its
file lies in the articles folder, the file too, so that `qa ingest` does not bring it
back; a file indexed from elsewhere stays where it is.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..errors import IndexMissingError, QAError
from ..reading import articles
from ..reading.articles import KINDS, SUFFIXES, ArticleError, check_size, read_articles
from ..reading.fetch import FetchError, fetch, saved_bytes, saved_name
from ..reading.word import LEGACY, legacy_hint
from ..settings import Settings
from . import quote_rows
from .copies import copies_for
from .index import Store, write_lock
from .ingest import IngestReport, file_of, ingest
from .opened import open_store

# One change at a time from this process (the index's own write lock covers processes).
_WRITE_LOCK = threading.Lock()

Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class ArticleInfo:
    path: str  # as stored in the index: the file's absolute path
    source: str  # the file name, as citations show it
    title: str
    paragraphs: int
    added: str  # ISO time its earliest stored paragraph was added ("" if not recorded)
    date: str = ""  # what the article says about itself ("" when unknown)
    author: str = ""
    site: str = ""
    url: str = ""
    # The source of an earlier article this one mostly copies (qa.store.copies); "" none.
    copy_of: str = ""


@dataclass
class AddResult:
    added: list[str] = field(default_factory=list)  # file names now in the index
    rejected: list[str] = field(default_factory=list)  # one message per refused file
    report: IngestReport | None = None


@dataclass
class DeleteResult:
    source: str
    paragraphs: int
    file_removed: bool
    path: str


_ARTICLES: dict[str, tuple[object, object, list[ArticleInfo]]] = {}


def list_articles(settings: Settings) -> list[ArticleInfo]:
    """Every indexed article, newest first; an index that does not exist yet is empty.

    Kept while the index is unchanged: reading every paragraph's metadata takes about
    3 s at 10k paragraphs, and the chat page, the Articles tab and every scoped question
    read the list. Any change (an ingest or a deletion, here or in another process)
    gives a new open store or a reloaded word index, and so a fresh read."""
    try:
        store = open_store(settings)
        lexical = store.lexical()
    except IndexMissingError:
        return []
    cached = _ARTICLES.get(store.where)
    if cached is not None and cached[0] is store and cached[1] is lexical:
        return list(cached[2])
    articles = _read_articles(store)
    copies = copies_for(settings)
    if len(copies):
        articles = [replace(a, copy_of=copies.copy_of(a.path)) for a in articles]
    _ARTICLES[store.where] = (store, lexical, articles)
    return list(articles)


def _read_articles(store: Store) -> list[ArticleInfo]:
    by_path: dict[str, dict[str, object]] = {}
    for row in store.records():
        meta = row["metadata"] or {}
        path = str(meta.get("path", ""))
        entry = by_path.setdefault(
            path,
            {"source": str(meta.get("source", "")), "title": str(meta.get("title", "")),
             "paragraphs": 0, "added": ""}
            | {k: str(meta.get(k, "")) for k in ("date", "author", "site", "url")},
        )  # fmt: skip
        entry["paragraphs"] = int(str(entry["paragraphs"])) + 1
        added = str(meta.get("added", ""))
        if added and (not entry["added"] or added < str(entry["added"])):
            entry["added"] = added
    articles = [
        ArticleInfo(
            path=path,
            source=str(e["source"]),
            title=str(e["title"]),
            paragraphs=int(str(e["paragraphs"])),
            added=str(e["added"]),
            date=str(e["date"]),
            author=str(e["author"]),
            site=str(e["site"]),
            url=str(e["url"]),
        )
        for path, e in by_path.items()
    ]
    articles.sort(key=lambda a: a.source.lower())
    articles.sort(key=lambda a: a.added, reverse=True)
    return articles


def index_summary(settings: Settings) -> tuple[int, int]:
    """(articles, paragraphs) in the index."""
    articles = list_articles(settings)
    return len(articles), sum(a.paragraphs for a in articles)


def check_upload(path: Path, name: str) -> str:
    """The file name to store the upload under, or ArticleError saying why it is refused."""
    name = Path(name).name
    if not name or name.startswith("."):
        raise ArticleError(f"{name or path.name}: not a usable file name, skipped")
    suffix = Path(name).suffix.lower()
    if suffix in LEGACY:
        raise ArticleError(legacy_hint(name, suffix))
    if suffix not in SUFFIXES:
        raise ArticleError(f"{name}: not {KINDS}, skipped")
    check_size(path, name)  # before copying it anywhere
    # Read it under its real name: the suffix decides how it is parsed.
    with tempfile.TemporaryDirectory() as tmp:
        probe = Path(tmp) / name
        shutil.copyfile(path, probe)
        try:
            read = read_articles(probe)
        except ArticleError as exc:
            raise ArticleError(str(exc)) from None
    if not any(article.evidence for article in read):
        raise ArticleError(f"{name}: no paragraph of article text found, skipped")
    return name


def add_files(
    files: Sequence[Path],
    settings: Settings,
    names: Sequence[str] | None = None,
    progress: Progress | None = None,
) -> AddResult:
    """Check each file, copy the good ones into the articles folder and ingest them.

    `names` are the names the user gave the files (an upload's temporary path may not
    keep it). A refused file changes nothing; if ingesting fails, the articles folder is
    put back as it was."""
    names = list(names) if names is not None else [p.name for p in files]
    report = progress or (lambda fraction, desc: None)
    result = AddResult()
    accepted: list[tuple[Path, str]] = []
    for i, (path, given) in enumerate(zip(files, names, strict=True)):
        report(0.5 * i / max(len(files), 1), f"Checking {Path(given).name}")
        try:
            accepted.append((path, check_upload(path, given)))
        except (ArticleError, OSError) as exc:
            result.rejected.append(str(exc))
    # The same name twice in one upload: the last one wins, as it would on disk.
    chosen = {name: path for path, name in accepted}
    if not chosen:
        report(1.0, "Nothing to add")
        return result

    folder = settings.seeds_dir
    with _WRITE_LOCK:
        folder.mkdir(parents=True, exist_ok=True)
        previous: dict[Path, bytes | None] = {}
        targets: list[Path] = []
        for name, path in chosen.items():
            target = folder / name
            previous[target] = target.read_bytes() if target.exists() else None
            _write_atomically(target, path.read_bytes())
            targets.append(target)
        report(0.5, f"Indexing {len(targets)} file{'s' if len(targets) != 1 else ''}")
        warnings: list[str] = []
        try:
            result.report = ingest(targets, settings, quiet=True, warn=warnings.append)
        except Exception:
            for target, before in previous.items():
                if before is None:
                    target.unlink(missing_ok=True)
                else:
                    _write_atomically(target, before)
            raise
    result.rejected.extend(warnings)
    result.added = sorted(chosen)
    report(1.0, "Done")
    return result


def add_url(
    url: str,
    settings: Settings,
    allow_private: bool | None = None,
    progress: Progress | None = None,
) -> AddResult:
    """Fetch a link and add its page or PDF like an uploaded file. A link that cannot be
    fetched, or whose content is not an article, is refused with one line and changes
    nothing. `allow_private` (default: the setting) lets it reach loopback and private
    addresses."""
    report = progress or (lambda fraction, desc: None)
    allow = settings.allow_private_urls if allow_private is None else allow_private
    report(0.0, f"Fetching {url.strip()[:80]}")
    try:
        fetched = fetch(
            url,
            timeout=settings.fetch_timeout,
            max_bytes=articles.MAX_FILE_BYTES,
            allow_private=allow,
        )
    except FetchError as exc:
        report(1.0, "Nothing to add")
        return AddResult(rejected=[str(exc)])
    name = saved_name(fetched.requested, fetched.suffix)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_bytes(saved_bytes(fetched))
        result = add_files([path], settings, names=[name], progress=progress)
    result.rejected = [f"{fetched.requested}: {msg}" for msg in result.rejected]
    return result


def delete_article(path: str, settings: Settings) -> DeleteResult:
    """Remove an article's paragraphs from the index, and its file from the articles
    folder if it is there. An article that is one of several in its file (a message of
    a mailbox, an e-mail's attachment) goes with the whole file: the file cannot lose
    one message, and the next ingest would bring it back."""
    with _WRITE_LOCK, write_lock(settings):
        store = open_store(settings)
        rows = [(row["id"], row["metadata"] or {}) for row in store.records()]
        chosen = [meta for _, meta in rows if str(meta.get("path", "")) == path]
        source = str(chosen[0].get("source", "")) if chosen else Path(path).name
        if not chosen:
            raise QAError(f"{source} is not in the index (was it deleted already?).")
        file_path = file_of(chosen[0])
        whole_file = file_path != path
        gone = {str(meta.get("path", "")) for _, meta in rows if file_of(meta) == file_path}
        ids = [i for i, meta in rows if str(meta.get("path", "")) in gone]
        if whole_file:
            source = f"{Path(file_path).name} ({len(gone)} articles)"
        store.delete(ids)
        quote_rows.record(store, [], gone=sorted(gone))
        store.announce_change(store.rebuild_lexical())
        file = Path(file_path)
        removed = False
        if _inside(file, settings.seeds_dir) and file.is_file():
            file.unlink()
            removed = True
    return DeleteResult(source=source, paragraphs=len(ids), file_removed=removed, path=path)


def _inside(path: Path, folder: Path) -> bool:
    try:
        return path.resolve().is_relative_to(folder.resolve())
    except OSError:
        return False


def _write_atomically(target: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
