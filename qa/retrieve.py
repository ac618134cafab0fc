"""Hybrid retrieval: Chroma (dense) and BM25 (words) over the same paragraphs, fused
by reciprocal rank. A llama-index retriever, so it composes with a user's own code."""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
from llama_index.core import VectorStoreIndex
from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.schema import NodeWithScore, QueryBundle

from .embedding import BundledEmbedding, get_embedder
from .settings import Settings
from .store import Store

RRF_K = 60  # the constant of Cormack et al. (2009); flat enough that one list can't dominate
CANDIDATES = 30  # per retriever, before fusion


def _rank_map(hits: list[NodeWithScore]) -> dict[str, tuple[int, NodeWithScore]]:
    ranks: dict[str, tuple[int, NodeWithScore]] = {}
    for rank, hit in enumerate(hits, start=1):
        ranks.setdefault(hit.node.node_id, (rank, hit))
    return ranks


class HybridRetriever(BaseRetriever):
    """Fused ranking; every hit carries `dense_score` (cosine to the question) and
    `bm25_score` in its metadata, which the answerer uses as evidence strength.

    mode: "hybrid" (default), "dense" or "bm25", to measure what each part buys.
    """

    def __init__(
        self,
        store: Store,
        embedder: BundledEmbedding,
        similarity_top_k: int = 8,
        mode: str = "hybrid",
        candidates: int = CANDIDATES,
    ) -> None:
        super().__init__()
        self.store = store
        self.embedder = embedder
        self.similarity_top_k = similarity_top_k
        self.mode = mode
        self.candidates = candidates
        index = VectorStoreIndex.from_vector_store(store.vector_store, embed_model=embedder)
        self.dense = index.as_retriever(similarity_top_k=candidates)

    def _bm25(self, query: str) -> list[NodeWithScore]:
        lexical = self.store.lexical()
        if lexical is None:
            return []
        lexical.similarity_top_k = min(self.candidates, int(lexical.bm25.scores["num_docs"]))
        return lexical.retrieve(query)

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        if query_bundle.embedding is None and self.mode != "bm25":
            query_bundle.embedding = self.embedder.get_query_embedding(query_bundle.query_str)
        dense = self.dense.retrieve(query_bundle) if self.mode != "bm25" else []
        lexical = self._bm25(query_bundle.query_str) if self.mode != "dense" else []
        dense_ranks, lexical_ranks = _rank_map(dense), _rank_map(lexical)

        fused: dict[str, float] = {}
        for ranks in (dense_ranks, lexical_ranks):
            for node_id, (rank, _) in ranks.items():
                fused[node_id] = fused.get(node_id, 0.0) + 1.0 / (RRF_K + rank)
        order = sorted(fused, key=lambda i: -fused[i])[: self.similarity_top_k]

        cosines = self._cosines(order, query_bundle.embedding)
        out: list[NodeWithScore] = []
        for node_id in order:
            hit = (dense_ranks.get(node_id) or lexical_ranks[node_id])[1]
            meta = hit.node.metadata
            meta["dense_score"] = cosines.get(node_id, 0.0)
            meta["bm25_score"] = (
                float(lexical_ranks[node_id][1].score or 0.0) if node_id in lexical_ranks else 0.0
            )
            for key in ("dense_score", "bm25_score"):
                if key not in hit.node.excluded_llm_metadata_keys:
                    hit.node.excluded_llm_metadata_keys.append(key)
                    hit.node.excluded_embed_metadata_keys.append(key)
            out.append(NodeWithScore(node=hit.node, score=fused[node_id]))
        return out

    def _cosines(self, ids: list[str], query: list[float] | None) -> dict[str, float]:
        if not ids or query is None:
            return {}
        vectors = self.store.embeddings(ids)
        q = np.asarray(query, dtype=np.float32)
        return {i: float(v @ q) for i, v in vectors.items()}


_CACHE: dict[tuple[Any, ...], Store] = {}
_CACHE_LOCK = threading.Lock()


def open_store(settings: Settings) -> Store:
    """One open store per index per process; reopened if the index was rebuilt."""
    key = (str(settings.index_dir.resolve()), settings.chroma_host, settings.chroma_port,
           settings.embed_model)  # fmt: skip
    with _CACHE_LOCK:
        store = _CACHE.get(key)
        if store is not None:
            try:
                store.collection.count()
                return store
            except Exception:
                _CACHE.pop(key, None)
        store = Store(settings)
        _CACHE[key] = store
        return store


def forget_stores() -> None:
    with _CACHE_LOCK:
        _CACHE.clear()


def hybrid_retriever(
    settings: Settings, k: int | None = None, mode: str = "hybrid"
) -> HybridRetriever:
    return HybridRetriever(
        open_store(settings),
        get_embedder(settings.embed_model),
        similarity_top_k=k or settings.top_k,
        mode=mode,
    )
