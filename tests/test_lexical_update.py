"""An ingest that changes a few paragraphs updates the word index from the one on disk
instead of re-reading every paragraph from Chroma; the result must be the index a full
rebuild from Chroma gives, and anything but an index in step with Chroma is rebuilt."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import SEED_000, SEED_002

from qa.settings import Settings
from qa.store.index import Store, ids_digest
from qa.store.ingest import ingest
from qa.store.opened import forget_stores

QUERIES = ("Mayorkas", "Panama deportation flights", "Ecuador Chinese", "solar ferry Solveig")
NEW_PARAGRAPH = "\n\nThe solar ferry Solveig carries 240 passengers across Lake Varnen.\n"


def hits(store: Store) -> dict[str, list[tuple[str, str, float]]]:
    lexical = store.lexical()
    assert lexical is not None
    return {
        q: [(h.node.node_id, h.node.get_content(), round(float(h.score or 0), 5))
            for h in lexical.retrieve(q)]
        for q in QUERIES
    }  # fmt: skip


def chroma_ids(store: Store) -> set[str]:
    return {row["id"] for row in store.records()}


def test_small_change_updates_the_word_index_without_rereading_chroma(
    settings: Settings, seeds_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ingest([seeds_copy], settings, quiet=True)
    article = seeds_copy / SEED_000
    article.write_text(article.read_text(encoding="utf-8") + NEW_PARAGRAPH, encoding="utf-8")
    (seeds_copy / SEED_002).unlink()

    def no_full_rebuild(self: Store) -> None:
        raise AssertionError("the word index was rebuilt from Chroma")

    with monkeypatch.context() as m:
        m.setattr(Store, "rebuild_lexical", no_full_rebuild)
        report = ingest([seeds_copy], settings, quiet=True)
    assert report.added == 1 and report.removed > 0
    forget_stores()

    store = Store(settings)
    assert store.lexical_ids() == ids_digest(chroma_ids(store))
    updated = hits(store)
    assert updated["solar ferry Solveig"][0][1].startswith("The solar ferry Solveig")
    assert all(SEED_002 not in node_id for q in QUERIES for node_id, *_ in updated[q])

    store.rebuild_lexical()  # the same index, built from what Chroma holds
    assert hits(store) == updated


def test_word_index_out_of_step_with_chroma_is_rebuilt(
    settings: Settings, seeds_copy: Path
) -> None:
    ingest([seeds_copy], settings, quiet=True)
    stale = settings.index_dir.parent / "stale-lexical"
    shutil.copytree(settings.index_dir / "lexical", stale)
    article = seeds_copy / SEED_000
    article.write_text(article.read_text(encoding="utf-8") + NEW_PARAGRAPH, encoding="utf-8")
    ingest([seeds_copy], settings, quiet=True)
    # The word index goes back to before that ingest (as after a crash), then a file
    # leaves: the index on disk no longer matches what Chroma held, so it is rebuilt.
    shutil.rmtree(settings.index_dir / "lexical")
    shutil.copytree(stale, settings.index_dir / "lexical")
    (seeds_copy / SEED_002).unlink()
    forget_stores()
    ingest([seeds_copy], settings, quiet=True)
    forget_stores()

    store = Store(settings)
    assert store.lexical_ids() == ids_digest(chroma_ids(store))
    top = hits(store)["solar ferry Solveig"][0]
    assert top[1].startswith("The solar ferry Solveig")
