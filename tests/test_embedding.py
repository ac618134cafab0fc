"""The fast (int8) embedder against the fp32 reference, and the variant an index records."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import SEEDS, make_settings, reader_blocks

from qa.errors import IndexModelError
from qa.evaluation.cases import load_cases, retrieval_cases, retrieval_rank
from qa.service import retrieve
from qa.settings import Settings
from qa.store import embedding
from qa.store.embedding import MINILM, get_embedder, resolve_variant, vectors_compatible
from qa.store.index import COLLECTION, Store
from qa.store.ingest import ingest
from qa.store.opened import forget_stores


def seed_blocks() -> list[str]:
    """Every paragraph of every seed file, titles included, as a reader counts them."""
    return [b for f in sorted(SEEDS.glob("*.txt")) for b in reader_blocks(f.read_text("utf-8"))]


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.asarray((a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)))


@pytest.fixture(scope="module")
def seed_cosines() -> np.ndarray:
    texts = seed_blocks()
    assert len(texts) > 40
    fast = get_embedder(MINILM, "int8").embed_passages(texts)
    ref = get_embedder(MINILM, "fp32").embed_passages(texts)
    assert fast.shape == ref.shape == (len(texts), 384)
    return cosines(fast, ref)


def test_default_is_int8_and_fp32_stays_selectable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(embedding.VARIANT_ENV, raising=False)
    assert resolve_variant(MINILM) == "int8"
    assert get_embedder(MINILM).variant == "int8"
    monkeypatch.setenv(embedding.VARIANT_ENV, "fp32")
    assert get_embedder(MINILM).variant == "fp32"
    assert get_embedder(MINILM) is get_embedder(MINILM, "fp32")
    assert get_embedder(MINILM, "int8") is not get_embedder(MINILM, "fp32")
    monkeypatch.setenv(embedding.VARIANT_ENV, "bf16")
    with pytest.raises(embedding.UnknownModelError, match="choose one of int8, fp32"):
        get_embedder(MINILM)


def test_int8_vectors_agree_with_fp32_on_every_seed_paragraph(seed_cosines: np.ndarray) -> None:
    assert seed_cosines.mean() >= 0.99
    assert seed_cosines.min() >= 0.97


def test_recorded_agreement_is_what_is_measured(seed_cosines: np.ndarray) -> None:
    """The table that lets an fp32 index be read with int8 must tell the truth."""
    recorded = embedding.AGREEMENT[(MINILM, frozenset({"fp32", "int8"}))]
    assert recorded["cos_mean"] == pytest.approx(float(seed_cosines.mean()), abs=0.002)
    assert recorded["cos_min"] == pytest.approx(float(seed_cosines.min()), abs=0.005)
    assert vectors_compatible(MINILM, "fp32", "int8")


def test_int8_query_vectors_agree_with_fp32() -> None:
    questions = [c["question"] for c in load_cases()]
    fast = get_embedder(MINILM, "int8").embed_queries(questions)
    ref = get_embedder(MINILM, "fp32").embed_queries(questions)
    c = cosines(fast, ref)
    assert c.mean() >= 0.99 and c.min() >= 0.97
    # A question embedded alone, as ask() does: close to fp32, and the same every time.
    alone = get_embedder(MINILM, "int8").embed_queries([questions[0]])
    assert float(alone[0] @ ref[0]) >= 0.97
    assert np.array_equal(alone, get_embedder(MINILM, "int8").embed_queries([questions[0]]))
    assert get_embedder(MINILM, "int8").embed_queries([]).shape == (0, 384)


def test_a_text_gets_the_same_vector_alone_or_among_others(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Texts are never padded or batched together, so the workers' order and company
    cannot change a vector: one at a time, through two workers or one, all bit-equal."""
    texts = seed_blocks()[:12] + ["", "x" * 5000, "Panama"]
    path = embedding.prepare()
    two = embedding._OnnxEncoder(path, workers=2)
    one = embedding._OnnxEncoder(path, workers=1)
    together = two(texts)
    assert together.shape == (len(texts), 384)
    assert np.array_equal(together, one(texts))
    assert np.array_equal(together[::-1], two(texts[::-1]))
    for i in (0, 5, len(texts) - 1):
        assert np.array_equal(together[i], one([texts[i]])[0])
    assert np.allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-4)


def test_thread_count_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(embedding.THREADS_ENV, "3")
    assert embedding._threads() == 3
    monkeypatch.setenv(embedding.THREADS_ENV, "many")
    assert embedding._threads() >= 1  # a bad value is logged and every core is used
    monkeypatch.delenv(embedding.THREADS_ENV)
    assert embedding._threads() >= 1


def mrr(settings: Settings, mode: str) -> float:
    ranks = [retrieval_rank(case, settings, mode) for case in retrieval_cases()]
    return sum(1 / r for r in ranks if r) / len(ranks)


def build(tmp_path: Path, variant: str, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv(embedding.VARIANT_ENV, variant)
    settings = make_settings(tmp_path / f"index-{variant}")
    ingest([SEEDS], settings, quiet=True)
    forget_stores()
    return settings


def test_retrieval_on_the_question_set_is_unchanged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ref = build(tmp_path, "fp32", monkeypatch)
    ref_mrr = mrr(ref, "hybrid")
    fast = build(tmp_path, "int8", monkeypatch)
    fast_mrr = mrr(fast, "hybrid")
    assert ref_mrr > 0.8
    assert abs(fast_mrr - ref_mrr) <= 0.005
    # An index built by fp32, searched with int8 queries, ranks as well.
    forget_stores()
    assert abs(mrr(ref, "hybrid") - ref_mrr) <= 0.005


def test_index_records_the_variant(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = build(tmp_path, "int8", monkeypatch)
    store = Store(settings)
    assert store.collection.metadata["embed_model"] == MINILM
    assert store.collection.metadata["embed_variant"] == "int8"
    assert store.embed_variant == "int8"


def test_fp32_index_is_read_with_int8_when_compatible(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = build(tmp_path, "fp32", monkeypatch)
    monkeypatch.setenv(embedding.VARIANT_ENV, "int8")
    store = Store(settings)
    assert store.embed_variant == "fp32"  # what built it; not rewritten by a reader
    hits = retrieve("How much did the US give Panama?", k=3, settings=settings, mode="dense")
    assert any("6" in h.text for h in hits)


def test_incompatible_variant_is_refused_with_a_rebuild_hint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = build(tmp_path, "fp32", monkeypatch)
    monkeypatch.setenv(embedding.VARIANT_ENV, "int8")
    worse = {(MINILM, frozenset({"fp32", "int8"})): {"cos_mean": 0.95, "cos_min": 0.80}}
    monkeypatch.setattr(embedding, "AGREEMENT", worse)
    with pytest.raises(IndexModelError) as err:
        Store(settings)
    message = str(err.value)
    assert "'fp32' variant" in message and "'int8'" in message
    assert "qa ingest --rebuild" in message and "QA_EMBED_VARIANT=fp32" in message
    monkeypatch.setenv(embedding.VARIANT_ENV, "fp32")
    assert Store(settings).embed_variant == "fp32"


def test_index_from_before_variants_counts_as_fp32(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import chromadb

    settings = make_settings(tmp_path / "old-index")
    client = chromadb.PersistentClient(path=str(settings.index_dir))
    client.create_collection(
        COLLECTION,
        metadata={"hnsw:space": "cosine", "embed_model": MINILM},
        embedding_function=None,
    )
    monkeypatch.setenv(embedding.VARIANT_ENV, "int8")
    assert Store(settings).embed_variant == "fp32"
    worse = {(MINILM, frozenset({"fp32", "int8"})): {"cos_mean": 0.95, "cos_min": 0.80}}
    monkeypatch.setattr(embedding, "AGREEMENT", worse)
    with pytest.raises(IndexModelError, match="QA_EMBED_VARIANT=fp32"):
        Store(settings)


def test_export_runs_offline_from_the_package_and_is_cached(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(embedding.CACHE_ENV, str(tmp_path / "cache"))
    path = embedding.prepare()
    assert path.is_relative_to(tmp_path / "cache") and path.stat().st_size > 10_000_000
    info = json.loads((path.parent / "export.json").read_text())
    assert (
        info["fusions"]["MultiHeadAttention"] == 6 and info["attention_without_mask_or_bias"] == 6
    )
    assert 1 <= info["outlier_channels_fp32"] <= 24 and info["probe_cosine_min"] >= 0.99
    stamp = path.stat().st_mtime_ns
    assert embedding.prepare() == path and path.stat().st_mtime_ns == stamp  # not redone
    assert {p.name for p in path.parent.iterdir()} == {"export.json", "model.onnx"}
