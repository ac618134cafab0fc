"""Hybrid retrieval: Chroma (dense) and BM25 (words) over the same paragraphs, fused
by reciprocal rank. A llama-index retriever, so it composes with a user's own code."""

from __future__ import annotations

import copy
import logging
import math
import time
from typing import Any

import numpy as np
from llama_index.core import VectorStoreIndex
from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.schema import NodeWithScore, QueryBundle
from llama_index.core.vector_stores import FilterOperator, MetadataFilter, MetadataFilters
from llama_index.core.vector_stores.utils import metadata_dict_to_node
from llama_index.retrievers.bm25 import BM25Retriever

from ..errors import IndexCorruptError, QAError
from ..settings import Settings
from ..store.copies import Copies, copies_for
from ..store.embedding import BundledEmbedding, get_embedder
from ..store.index import REBUILD_HINT, Store
from ..store.opened import open_store, reopen_store

log = logging.getLogger(__name__)
READ_ATTEMPTS = 4

EXACT_DENSE = 5000  # a scope of up to this many paragraphs is searched exactly, not by HNSW
# An embedded index of up to this many paragraphs is searched exactly, its vectors held in
# memory (30 MB at most): HNSW's answers vary from one process to the next, since each
# rebuilds the graph from the vectors Chroma has not yet written to it, in several threads.
EXACT_WHOLE = 20000
RRF_K = 60  # the constant of Cormack et al. (2009); flat enough that one list can't dominate
CANDIDATES = 30  # per retriever, before fusion
_SCORE_KEYS = ("dense_score", "bm25_score", "dense_rank", "bm25_rank", "also_in")


def _rank_map(hits: list[NodeWithScore]) -> dict[str, tuple[int, NodeWithScore]]:
    ranks: dict[str, tuple[int, NodeWithScore]] = {}
    for rank, hit in enumerate(hits, start=1):
        ranks.setdefault(hit.node.node_id, (rank, hit))
    return ranks


class HybridRetriever(BaseRetriever):
    """Fused ranking; every hit carries `dense_score` (cosine to the question) and
    `bm25_score` in its metadata, which the answerer uses as evidence strength.

    mode: "hybrid" (default), "dense" or "bm25", to measure what each part buys.
    paths: when given, only paragraphs of these articles (their stored `path`) are
    retrieved, by both parts, so a small scope in a large index still gets its best
    paragraphs (see qa.search.scope): BM25 scores outside it are masked before the top
    candidates are taken; dense scores are exact over the scope's vectors when it holds
    at most EXACT_DENSE paragraphs (HNSW with a selective filter misses neighbours), and
    a Chroma `path $in` filter on a larger one. Without a scope, an embedded index of at
    most EXACT_WHOLE paragraphs is searched exactly too (the same question gets the same
    paragraphs in every process), a larger one or a Chroma server's by HNSW.
    copies: near-copy groups (qa.store.copies); when given, the copies of a paragraph in
    other articles count once, as the earliest in scope, which lists the others in its
    metadata's `also_in`.
    """

    def __init__(
        self,
        store: Store,
        embedder: BundledEmbedding,
        similarity_top_k: int = 8,
        mode: str = "hybrid",
        candidates: int = CANDIDATES,
        paths: frozenset[str] | None = None,
        copies: Copies | None = None,
    ) -> None:
        super().__init__()
        self.copies = copies
        self.embedder = embedder
        self.similarity_top_k = similarity_top_k
        self.mode = mode
        self.candidates = candidates
        self.paths = paths
        self._open(store)

    def _open(self, store: Store) -> None:
        self.store = store
        self._lexical: tuple[BM25Retriever | None] | None = None
        index = VectorStoreIndex.from_vector_store(store.vector_store, embed_model=self.embedder)
        filters = None
        if self.paths is not None:
            where = MetadataFilter(key="path", operator=FilterOperator.IN, value=sorted(self.paths))
            filters = MetadataFilters(filters=[where])
        self.dense = index.as_retriever(similarity_top_k=self.candidates, filters=filters)

    def _dense(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        q = np.asarray(query_bundle.embedding, dtype=np.float32)
        if self.paths is None:
            whole = self.store.all_vectors(EXACT_WHOLE)
            if whole is None:
                return self.dense.retrieve(query_bundle)
            ids, matrix = whole
            if not ids:
                return []
            cosines = matrix @ q
            k = min(self.candidates, len(ids))
            top = np.argpartition(-cosines, k - 1)[:k] if k < len(ids) else range(len(ids))
            best = sorted(top, key=lambda i: (-cosines[i], i))
            rows = self.store.collection.get(
                ids=[ids[i] for i in best], include=["metadatas", "documents"]
            )
            found = {id_: n for n, id_ in enumerate(rows["ids"])}
            return [
                self._scored(rows["metadatas"][n], rows["documents"][n], float(cosines[i]))
                for i in best if (n := found.get(ids[i])) is not None
            ]  # fmt: skip
        rows = self.store.collection.get(
            where={"path": {"$in": sorted(self.paths)}},
            limit=EXACT_DENSE + 1,
            include=["embeddings", "metadatas", "documents"],
        )
        if len(rows["ids"]) > EXACT_DENSE:
            return self.dense.retrieve(query_bundle)
        if not rows["ids"]:
            return []
        cosines = np.asarray(rows["embeddings"], dtype=np.float32) @ q
        order = np.argsort(-cosines, kind="stable")[: self.candidates]
        return [
            self._scored(rows["metadatas"][i], rows["documents"][i], float(cosines[i]))
            for i in order
        ]

    @staticmethod
    def _scored(metadata: Any, document: Any, cosine: float) -> NodeWithScore:
        """A dense hit scored as Chroma scores one, exp(-(1 - cosine)), so the exact and
        the approximate search agree."""
        node = metadata_dict_to_node(metadata, text=document)
        return NodeWithScore(node=node, score=math.exp(cosine - 1.0))

    def retrieve_vec(self, query: str, vector: np.ndarray) -> list[NodeWithScore]:
        """Retrieve with a question vector already computed (the answerer reuses it)."""
        return self.retrieve(QueryBundle(query_str=query, embedding=vector.tolist()))

    def lexical(self) -> BM25Retriever | None:
        """The word index this retriever reads: the store's, loaded at its first use and
        kept. One question's retrievals and the term weights its answer is scored with
        (qa.answering.answer.idf_for) come from the same index, even while an ingest in
        another process replaces it between them."""
        if self._lexical is None:
            self._lexical = (self.store.lexical(),)
        return self._lexical[0]

    def _bm25(self, query: str) -> list[NodeWithScore]:
        lexical = self.lexical()
        if lexical is None:
            return []
        if self.paths is None:
            lexical.similarity_top_k = min(self.candidates, int(lexical.bm25.scores["num_docs"]))
            return lexical.retrieve(query)
        # Scores of paragraphs outside the scope are zeroed before the top candidates are
        # taken, on a copy: the loaded word index is shared by concurrent questions.
        mask = _path_mask(lexical, self.paths)
        allowed = int(sum(mask))
        if not allowed:
            return []
        scoped = copy.copy(lexical)
        scoped.corpus_weight_mask = mask
        scoped.similarity_top_k = min(self.candidates, allowed)
        return [h for h in scoped.retrieve(query) if h.node.metadata.get("path") in self.paths]

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        """Retried on a fresh store when the read fails: another process may be writing
        (the database is busy, or rows this client knows of were just replaced)."""
        for attempt in range(READ_ATTEMPTS):
            try:
                return self._retrieve_once(query_bundle)
            except QAError:
                raise
            except Exception as exc:
                if attempt == READ_ATTEMPTS - 1:
                    raise IndexCorruptError(
                        f"The index at {self.store.where} could not be read "
                        f"({type(exc).__name__}: {exc}). If an ingest is running, ask "
                        f"again when it ends; otherwise {REBUILD_HINT[0].lower()}"
                        f"{REBUILD_HINT[1:]}."
                    ) from None
                log.info("index read failed (%s); reopening", type(exc).__name__)
                time.sleep(0.2 * (attempt + 1))
                self._open(reopen_store(self.store.settings))
        raise AssertionError("unreachable")

    def _retrieve_once(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        if query_bundle.embedding is None and self.mode != "bm25":
            query_bundle.embedding = self.embedder.get_query_embedding(query_bundle.query_str)
        dense = self._dense(query_bundle) if self.mode != "bm25" else []
        lexical = self._bm25(query_bundle.query_str) if self.mode != "dense" else []
        dense_ranks, lexical_ranks = _rank_map(dense), _rank_map(lexical)

        fused: dict[str, float] = {}
        for ranks in (dense_ranks, lexical_ranks):
            for node_id, (rank, _) in ranks.items():
                fused[node_id] = fused.get(node_id, 0.0) + 1.0 / (RRF_K + rank)
        if self.copies is not None and len(self.copies):
            fused = self.copies.collapse(fused, self.paths)
        order = sorted(fused, key=lambda i: -fused[i])[: self.similarity_top_k]

        # Chroma's similarity for a dense hit is exp(-(1 - cosine)); only the paragraphs
        # found by BM25 alone need their vectors fetched.
        cosines = {i: 1.0 + math.log(max(h.score or 0.0, 1e-12))
                   for i, (_, h) in dense_ranks.items() if i in order}  # fmt: skip
        cosines.update(
            self._cosines([i for i in order if i not in cosines], query_bundle.embedding)
        )
        out: list[NodeWithScore] = []
        for node_id in order:
            hit = self._hit(node_id, dense_ranks, lexical_ranks)
            meta = hit.node.metadata
            meta["dense_score"] = cosines.get(node_id, 0.0)
            meta["bm25_score"] = (
                float(lexical_ranks[node_id][1].score or 0.0) if node_id in lexical_ranks else 0.0
            )
            # Ranks in each list (99: not in it): the answerer weighs agreement between them.
            meta["dense_rank"] = dense_ranks[node_id][0] if node_id in dense_ranks else 99
            meta["bm25_rank"] = lexical_ranks[node_id][0] if node_id in lexical_ranks else 99
            if self.copies is not None and node_id in self.copies.group_of:
                meta["also_in"] = self.copies.also_in(node_id, self.paths)
            for key in _SCORE_KEYS:
                if key not in hit.node.excluded_llm_metadata_keys:
                    hit.node.excluded_llm_metadata_keys.append(key)
                    hit.node.excluded_embed_metadata_keys.append(key)
            out.append(NodeWithScore(node=hit.node, score=fused[node_id]))
        return out

    def _hit(
        self,
        node_id: str,
        dense: dict[str, tuple[int, NodeWithScore]],
        lexical: dict[str, tuple[int, NodeWithScore]],
    ) -> NodeWithScore:
        found = dense.get(node_id) or lexical.get(node_id)
        if found is not None:
            return found[1]
        # The earliest copy of a retrieved paragraph, which retrieval did not rank itself:
        # a copy of the stored node, whose metadata this query may write.
        assert self.copies is not None
        return NodeWithScore(node=copy.deepcopy(self.copies.nodes[node_id]), score=0.0)

    def _cosines(self, ids: list[str], query: list[float] | None) -> dict[str, float]:
        if not ids or query is None:
            return {}
        vectors = self.store.embeddings(ids)
        q = np.asarray(query, dtype=np.float32)
        return {i: float(v @ q) for i, v in vectors.items()}


_PATHS: dict[int, tuple[BM25Retriever, list[str]]] = {}


def _path_mask(lexical: BM25Retriever, paths: frozenset[str]) -> list[int]:
    """1 for each paragraph of the word index whose article is in `paths`, else 0."""
    cached = _PATHS.get(id(lexical))
    if cached is None or cached[0] is not lexical:
        _PATHS.clear()  # one word index per process is current; drop the replaced one
        cached = _PATHS[id(lexical)] = (lexical, [str(e.get("path", "")) for e in lexical.corpus])
    return [int(p in paths) for p in cached[1]]


def hybrid_retriever(
    settings: Settings,
    k: int | None = None,
    mode: str = "hybrid",
    paths: frozenset[str] | None = None,
) -> HybridRetriever:
    """The retriever over the index; `paths` restricts it to those articles (see
    qa.search.scope.scoped_retriever, which resolves a Scope to them)."""
    return HybridRetriever(
        open_store(settings),
        get_embedder(settings.embed_model),
        similarity_top_k=k or settings.top_k,
        mode=mode,
        paths=paths,
        copies=copies_for(settings),
    )
