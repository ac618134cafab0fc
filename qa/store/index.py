"""Where paragraphs live: a Chroma collection (cosine space) for vectors and a BM25
index beside it for words, both holding the same paragraph ids."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import itertools
import json
import logging
import os
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import bm25s
import numpy as np
import Stemmer
from llama_index.core.schema import BaseNode, MetadataMode, TextNode
from llama_index.core.vector_stores.utils import metadata_dict_to_node, node_to_metadata_dict
from llama_index.retrievers.bm25 import BM25Retriever
from llama_index.vector_stores.chroma import ChromaVectorStore

from ..errors import IndexCorruptError, IndexMissingError, IndexModelError
from ..settings import Settings
from .embedding import LEGACY_VARIANT, resolve_variant, vectors_compatible

log = logging.getLogger(__name__)
logging.getLogger("bm25s").setLevel(logging.WARNING)

COLLECTION = "paragraphs"
LEXICAL_DIR = "lexical"
LEXICAL_IDS = "ids.sha256"  # in LEXICAL_DIR: which paragraphs the word index holds
GENERATION = "generation"  # rewritten at the end of every ingest that changed something
WRITE_LOCK = ".ingest.lock"
STATE = "qa_state"  # a one-row collection: the last ingest's generation and ids digest
WRITE_BATCH = 1000  # well below Chroma's maximum batch size (5461 here); checked at run time
READ_PAGE = 5000
REBUILD_HINT = "Rebuild it with `qa ingest --rebuild`"
TOKEN_PATTERN = r"(?u)\b\w\w+\b"  # BM25Retriever's default


def _chroma_settings() -> Any:
    from chromadb.config import Settings as ChromaSettings

    return ChromaSettings(anonymized_telemetry=False, allow_reset=False)


def _open_client(settings: Settings, create: bool) -> Any:
    import chromadb

    if settings.chroma_host:
        try:
            return chromadb.HttpClient(
                host=settings.chroma_host, port=settings.chroma_port, settings=_chroma_settings()
            )
        except Exception as exc:
            raise IndexMissingError(
                f"Could not connect to the Chroma server at {settings.chroma_host}:"
                f"{settings.chroma_port} ({type(exc).__name__}). Start it (`chroma run "
                "--path <folder>`) or unset CHROMA_HOST to use the index in QA_INDEX_DIR."
            ) from None
    index_dir = settings.index_dir
    if not create and not (index_dir / "chroma.sqlite3").exists():
        raise IndexMissingError(
            f"No index at {index_dir}/. Run `qa ingest` first (it reads seeds/ by default)."
        )
    index_dir.mkdir(parents=True, exist_ok=True)
    try:
        return chromadb.PersistentClient(path=str(index_dir), settings=_chroma_settings())
    except Exception as exc:  # chromadb raises many types for a damaged store
        raise IndexCorruptError(
            f"The index at {index_dir}/ could not be opened ({type(exc).__name__}: {exc}). "
            f"{REBUILD_HINT}."
        ) from None


def _configured_variant(model_name: str) -> str:
    """The embedder variant in force; an unknown model keeps the model check's message."""
    try:
        return resolve_variant(model_name)
    except ValueError:
        return LEGACY_VARIANT.get(model_name, "")


class Store:
    def __init__(self, settings: Settings, create: bool = False) -> None:
        self.settings = settings
        self.client = _open_client(settings, create)
        self._lexical: BM25Retriever | None = None
        self._lexical_stamp: float | None = None
        self._vectors: tuple[list[str], np.ndarray] | None = None
        self._count: int | None = None  # paragraphs, as all_vectors counted them
        self.generation = ""  # of the index when opened (see qa.retrieve.open_store)
        self.checked = 0.0  # server mode: when the shared state was last read
        self._lock = threading.Lock()
        variant = _configured_variant(settings.embed_model)
        try:
            if create:
                self.collection = self.client.get_or_create_collection(
                    COLLECTION,
                    metadata={
                        "hnsw:space": "cosine",
                        "embed_model": settings.embed_model,
                        "embed_variant": variant,
                    },
                    embedding_function=None,
                )
            else:
                self.collection = self.client.get_collection(COLLECTION, embedding_function=None)
        except Exception as exc:
            if "does not exist" in str(exc) or "NotFound" in type(exc).__name__:
                raise IndexMissingError(
                    f"The index at {self.where} has no articles. Run `qa ingest` first."
                ) from None
            raise IndexCorruptError(
                f"The index at {self.where} could not be read ({type(exc).__name__}: {exc}). "
                f"{REBUILD_HINT}."
            ) from None
        built_with = (self.collection.metadata or {}).get("embed_model")
        if built_with != settings.embed_model:
            raise IndexModelError(
                f"The index at {self.where} was built with the embedding model "
                f"{built_with!r}, but {settings.embed_model!r} is configured. "
                f"{REBUILD_HINT}, or set QA_EMBED_MODEL={built_with}."
            )
        # Indexes from before variants were recorded were built by the only one there was.
        built_variant = (self.collection.metadata or {}).get("embed_variant") or (
            LEGACY_VARIANT.get(settings.embed_model, variant)
        )
        if not vectors_compatible(settings.embed_model, built_variant, variant):
            raise IndexModelError(
                f"The index at {self.where} was built with the {built_variant!r} variant of "
                f"{settings.embed_model!r}, whose vectors do not agree closely enough with "
                f"the configured {variant!r} variant to be searched together. "
                f"{REBUILD_HINT}, or set QA_EMBED_VARIANT={built_variant}."
            )
        self.embed_variant = built_variant
        self.vector_store = ChromaVectorStore(chroma_collection=self.collection)

    @property
    def where(self) -> str:
        return where(self.settings)

    @property
    def lexical_dir(self) -> Path:
        return self.settings.index_dir / LEXICAL_DIR

    # --- reading -------------------------------------------------------------------

    def count(self) -> int:
        return int(self.collection.count())

    def records(self, include: Iterable[str] = ("metadatas",)) -> Iterator[dict[str, Any]]:
        """Every stored paragraph, a page at a time: {"id", "metadata", ...}."""
        include = list(include)
        offset = 0
        while True:
            page = self.collection.get(limit=READ_PAGE, offset=offset, include=include)
            ids = page["ids"]
            for i, id_ in enumerate(ids):
                row: dict[str, Any] = {"id": id_}
                if "metadatas" in include:
                    row["metadata"] = page["metadatas"][i]
                if "documents" in include:
                    row["document"] = page["documents"][i]
                yield row
            if len(ids) < READ_PAGE:
                return
            offset += READ_PAGE

    def embeddings(self, ids: list[str]) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        for start in range(0, len(ids), READ_PAGE):
            page = self.collection.get(ids=ids[start : start + READ_PAGE], include=["embeddings"])
            for id_, emb in zip(page["ids"], page["embeddings"], strict=False):
                out[id_] = np.asarray(emb, dtype=np.float32)
        return out

    def all_vectors(self, limit: int) -> tuple[list[str], np.ndarray] | None:
        """Every stored paragraph's id and vector (the rows of one matrix), read once for
        this open store, which an ingest here or in another process replaces
        (qa.store.opened); None when the index holds more than `limit` paragraphs, or is
        on a Chroma server (whose vectors may change under an open store)."""
        if self.settings.chroma_host:
            return None
        with self._lock:
            if self._count is None:
                self._count = self.count()
            if self._count > limit:
                return None
            if self._vectors is None:
                ids: list[str] = []
                rows: list[Any] = []
                for start in itertools.count(0, READ_PAGE):
                    page = self.collection.get(
                        limit=READ_PAGE, offset=start, include=["embeddings"]
                    )
                    ids += page["ids"]
                    rows.extend(page["embeddings"])
                    if len(page["ids"]) < READ_PAGE:
                        break
                matrix = np.asarray(rows, dtype=np.float32)
                self._vectors = (ids, matrix.reshape(len(ids), -1 if ids else 0))
            return self._vectors

    def nodes(self) -> list[BaseNode]:
        nodes: list[BaseNode] = []
        for row in self.records(include=("metadatas", "documents")):
            node = metadata_dict_to_node(row["metadata"], text=row["document"])
            nodes.append(node)
        return nodes

    # --- writing -------------------------------------------------------------------

    def _batch(self) -> int:
        try:
            return min(WRITE_BATCH, int(self.client.get_max_batch_size()))
        except Exception:
            return WRITE_BATCH

    def add(self, nodes: list[TextNode]) -> None:
        self._vectors, self._count = None, None
        size = self._batch()
        for start in range(0, len(nodes), size):
            self.vector_store.add(nodes[start : start + size])  # type: ignore[arg-type]

    def delete(self, ids: list[str]) -> None:
        self._vectors, self._count = None, None
        size = self._batch()
        for start in range(0, len(ids), size):
            self.collection.delete(ids=ids[start : start + size])

    # --- the lexical index ------------------------------------------------------------

    def rebuild_lexical(self) -> str:
        """BM25 over exactly the paragraphs in Chroma, written beside it, with the hash of
        their ids (see `lexical_ids`), which it returns. Built in a private folder and
        renamed into place, so readers never see half an index and two builders don't
        collide."""
        nodes = self.nodes()
        retriever = None
        if nodes:
            retriever = BM25Retriever.from_defaults(
                nodes=nodes, similarity_top_k=min(len(nodes), 50), language="en"
            )
        return self._write_lexical(retriever, (n.node_id for n in nodes))

    def _write_lexical(self, retriever: BM25Retriever | None, ids: Iterable[str]) -> str:
        """Persist a word index (None: there is none) and the digest of its ids in a
        private folder, then rename it into place. Returns the digest."""
        digest = ids_digest(ids)
        target = self.lexical_dir
        tmp = target.with_name(f"{LEXICAL_DIR}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
        try:
            if retriever is not None:
                tmp.mkdir(parents=True)
                retriever.persist(str(tmp), show_progress=False)
                (tmp / LEXICAL_IDS).write_text(digest)
            shutil.rmtree(target, ignore_errors=True)
            if retriever is not None:
                with contextlib.suppress(OSError):  # another builder just put one there
                    tmp.rename(target)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        self._lexical = None
        return digest

    def update_lexical(
        self, added: Sequence[BaseNode], deleted: Iterable[str], before: str
    ) -> None:
        """The word index after an ingest that added `added` and deleted `deleted`. When
        the index on disk holds exactly the paragraphs Chroma held before that ingest
        (`before` is the digest of their ids), its stored paragraphs are kept and only the
        added ones are converted: re-reading every paragraph from Chroma would dominate a
        small change to a large index. Otherwise it is rebuilt from Chroma."""
        corpus = self._stored_corpus(before)
        if corpus is None:
            self.rebuild_lexical()
            return
        gone = set(deleted) | {n.node_id for n in added}
        entries = [e for e in corpus if e["node_id"] not in gone]
        texts = [metadata_dict_to_node(e).get_content(MetadataMode.EMBED) for e in entries]
        entries += [node_to_metadata_dict(n) | {"node_id": n.node_id} for n in added]
        texts += [n.get_content(MetadataMode.EMBED) for n in added]
        retriever = None
        if entries:
            # As BM25Retriever.from_defaults(nodes=..., language="en") builds it.
            stemmer = Stemmer.Stemmer("english")
            tokens = bm25s.tokenize(
                texts, stopwords="en", stemmer=stemmer, token_pattern=TOKEN_PATTERN,
                show_progress=False,
            )  # fmt: skip
            bm25 = bm25s.BM25(corpus=entries)
            bm25.index(tokens, show_progress=False)
            retriever = BM25Retriever(
                existing_bm25=bm25, stemmer=stemmer, token_pattern=TOKEN_PATTERN,
                similarity_top_k=min(len(entries), 50),
            )  # fmt: skip
        self._write_lexical(retriever, (e["node_id"] for e in entries))

    def _stored_corpus(self, expected: str) -> list[dict[str, Any]] | None:
        """The paragraphs of the word index on disk, if it holds exactly the ids whose
        digest is `expected`; None when it is missing, damaged or behind."""
        if self.lexical_ids() != expected:
            return None
        try:
            with open(self.lexical_dir / "corpus.jsonl", encoding="utf-8") as handle:
                corpus = [json.loads(line) for line in handle if line.strip()]
        except (OSError, ValueError):
            return None
        if ids_digest(str(e.get("node_id")) for e in corpus) != expected:
            return None
        return corpus

    # --- shared state, for readers on other machines (server mode) -----------------

    def announce_change(self, lexical_ids: str) -> None:
        """After a write (the word index already updated; `lexical_ids` the digest of the
        paragraph ids now stored): readers in this and other processes reopen the store,
        and in server mode other machines rebuild their word index."""
        generation = bump_generation(self.settings)
        if self.settings.chroma_host:
            self.write_state(generation, lexical_ids)

    def write_state(self, generation: str, lexical_ids: str) -> None:
        """What the last ingest left, where every reader of a Chroma server can see it."""
        state = self.client.get_or_create_collection(STATE, embedding_function=None)
        state.upsert(
            ids=["index"],
            embeddings=[[0.0]],
            metadatas=[{"generation": generation, "lexical_ids": lexical_ids}],
        )

    def read_state(self) -> dict[str, Any] | None:
        try:
            state = self.client.get_collection(STATE, embedding_function=None)
            rows = state.get(ids=["index"], include=["metadatas"])
        except Exception:
            return None
        return dict(rows["metadatas"][0]) if rows["ids"] else None

    def sync_lexical(self) -> bool:
        """Server mode: rebuild this machine's word index when the server's paragraphs
        changed since it was built (an ingest from another machine). True if rebuilt."""
        state = self.read_state()
        if state is None or state.get("lexical_ids") == self.lexical_ids():
            return False
        log.info("the server's paragraphs changed; rebuilding the local word index")
        self.rebuild_lexical()
        return True

    def lexical_ids(self) -> str | None:
        """The digest of the ids the word index was built from; None if there is none.
        An ingest killed between its Chroma writes and the word index leaves a
        mismatch, which the next ingest repairs."""
        try:
            return (self.lexical_dir / LEXICAL_IDS).read_text().strip()
        except OSError:
            return None

    def lexical(self) -> BM25Retriever | None:
        """The persisted BM25 index, reloaded when an ingest (here or in another
        process) has replaced it, and rebuilt from Chroma if it is missing or damaged
        while Chroma holds paragraphs."""
        with self._lock:
            for attempt in range(2):
                try:
                    return self._load_lexical()
                except FileNotFoundError:
                    if attempt or self.count() == 0:
                        self._lexical = None
                        return None
                except Exception as exc:
                    if attempt:
                        raise IndexCorruptError(
                            f"The word index at {self.lexical_dir}/ could not be read "
                            f"({type(exc).__name__}). {REBUILD_HINT}."
                        ) from None
                log.warning("the word index at %s is missing or damaged; rebuilding it",
                            self.lexical_dir)  # fmt: skip
                self.rebuild_lexical()
            return None

    def _load_lexical(self) -> BM25Retriever:
        stamp = (self.lexical_dir / "retriever.json").stat().st_mtime
        if self._lexical is None or stamp != self._lexical_stamp:
            # Not memory-mapped (bm25s's mmap=True): its corpus reader seeks and reads one
            # shared mmap, so concurrent questions got each other's paragraphs.
            self._lexical = BM25Retriever.from_persist_dir(
                str(self.lexical_dir), show_progress=False
            )
            self._lexical_stamp = stamp
        return self._lexical


def where(settings: Settings) -> str:
    """The index as a user names it: the server's address, or the folder."""
    if settings.chroma_host:
        return f"{settings.chroma_host}:{settings.chroma_port}"
    return f"{settings.index_dir}/"


def ids_digest(ids: Iterable[str]) -> str:
    h = hashlib.sha256()
    for id_ in sorted(ids):
        h.update(id_.encode())
        h.update(b"\n")
    return h.hexdigest()


def generation(settings: Settings) -> str:
    """Changes whenever an ingest changed the index; readers reopen the store on a change
    (a Chroma client does not see another process's writes)."""
    try:
        return (settings.index_dir / GENERATION).read_text().strip()
    except OSError:
        return ""


def bump_generation(settings: Settings) -> str:
    value = f"{time.time():.6f} {uuid.uuid4().hex}"
    path = settings.index_dir / GENERATION
    tmp = path.with_name(f"{GENERATION}.{os.getpid()}.tmp")
    tmp.write_text(value + "\n")
    os.replace(tmp, path)
    return value


@contextlib.contextmanager
def write_lock(settings: Settings, wait: Callable[[], None] | None = None) -> Iterator[None]:
    """One writer per index: a second `qa ingest` waits for the first (calling `wait`
    once, to say so). The lock is the kernel's, so a killed writer never leaves it held."""
    settings.index_dir.mkdir(parents=True, exist_ok=True)
    with open(settings.index_dir / WRITE_LOCK, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if wait is not None:
                wait()
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def forget_client(index_dir: Path) -> None:
    """Close this process's Chroma database for a path, so the next client reads it
    afresh from disk. Chroma keeps one open database per path per process and hands it
    to every new client; stop it before deleting its files, or the next client writes to
    the deleted database and nothing reaches disk."""
    try:
        from chromadb.api.shared_system_client import SharedSystemClient

        SharedSystemClient._identifier_to_refcount.pop(str(index_dir), None)
        system = SharedSystemClient._identifier_to_system.pop(str(index_dir), None)
        if system is not None:
            system.stop()
    except Exception:  # a chromadb without this cache: nothing to forget
        pass


def reset(settings: Settings) -> None:
    """Drop every stored paragraph (for `qa ingest --rebuild`)."""
    if settings.chroma_host:
        client = _open_client(settings, create=True)
        with contextlib.suppress(Exception):
            client.delete_collection(COLLECTION)
        shutil.rmtree(settings.index_dir / LEXICAL_DIR, ignore_errors=True)
        return
    index_dir = settings.index_dir
    forget_client(index_dir)
    if index_dir.exists():
        for child in index_dir.iterdir():
            if child.name in ("README.md", WRITE_LOCK):
                continue
            if child.is_dir():
                shutil.rmtree(child)
            else:
                child.unlink()
