"""Upgrade in place: an index stored the way the version before headlines and metadata
stored it keeps answering, and the next ingest brings it up to date, re-embedding only
the paragraphs whose embedded text changed."""

from __future__ import annotations

import hashlib
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from conftest import SEED_000, SEED_002, SEEDS, make_settings
from llama_index.core.schema import MetadataMode, TextNode
from test_notes import NOTE

from qa import ask
from qa.reading.articles import read_article, split_blocks
from qa.reading.boilerplate import classify
from qa.reading.paragraphs import BODY
from qa.settings import Settings
from qa.store.embedding import get_embedder
from qa.store.index import Store, ids_digest
from qa.store.ingest import ingest, node_id

QUESTION = "How much money did the US give Panama for the deportation pilot?"


def legacy_nodes(path: Path) -> list[TextNode]:
    """A file's paragraphs as the previous version stored them: block 1 always the
    title (not stored), the title stored but not embedded, no date, author or page."""
    paragraphs = classify(split_blocks(path.read_text(encoding="utf-8")), title=True)
    title = paragraphs[0].text.lstrip("# ").strip()
    resolved = str(path.resolve())
    nodes = []
    for p in paragraphs:
        if p.kind != BODY:
            continue
        metadata: dict[str, Any] = {
            "source": path.name, "paragraph": p.number, "title": title, "path": resolved,
            "folder": str(path.parent.resolve()), "content_hash": p.content_hash,
            "added": datetime(2026, 1, 1, tzinfo=UTC).isoformat(timespec="seconds"),
        }  # fmt: skip
        if p.heading:
            metadata["heading"] = p.heading
        hidden = [k for k in metadata if k != "heading"]
        id_hash = hashlib.sha256(f"{title}\n{p.heading}\n{p.content_hash}".encode()).hexdigest()
        nodes.append(TextNode(
            id_=node_id(resolved, p.number, id_hash), text=p.text, metadata=metadata,
            excluded_embed_metadata_keys=hidden, excluded_llm_metadata_keys=hidden,
            metadata_template="{value}",
        ))  # fmt: skip
    return nodes


def build_legacy_index(folder: Path, settings: Settings) -> int:
    nodes = [n for path in sorted(folder.iterdir()) for n in legacy_nodes(path)]
    texts = [n.get_content(MetadataMode.EMBED) for n in nodes]
    for node, vector in zip(nodes, get_embedder(settings.embed_model).embed_passages(texts),
                            strict=True):  # fmt: skip
        node.embedding = vector.tolist()
    store = Store(settings, create=True)
    store.add(nodes)
    store.announce_change(store.rebuild_lexical())
    return len(nodes)


def test_an_old_index_keeps_answering_and_the_next_ingest_updates_it(
    tmp_path: Path, embedded: list[str]
) -> None:
    folder = tmp_path / "articles"
    shutil.copytree(SEEDS, folder)
    (folder / "council-note.txt").write_text(NOTE, encoding="utf-8")
    settings = make_settings(tmp_path / "index", folder)
    stored_before = build_legacy_index(folder, settings)

    # The old index answers with the new code.
    answer = ask(QUESTION, settings=settings)
    assert not answer.abstained and answer.citations[0].source == SEED_000
    assert answer.citations[0].date == "" and answer.citations[0].page == 0

    embedded.clear()
    report = ingest([folder], settings, quiet=True)
    # Seed paragraphs: their stored vectors get their headline's added; each headline is
    # embedded once, no paragraph again. The note has no headline: its old block 1 is
    # now paragraph 1 (new, embedded); its other paragraphs keep their vectors.
    seed_paragraphs = stored_before - 2
    titles = sorted(read_article(SEEDS / name).title for name in (SEED_000, SEED_002))
    assert embedded == [*titles, NOTE.split("\n\n")[0]]
    assert report.embedded == 1
    assert (report.added, report.updated, report.removed) == (1, stored_before, 0)
    assert report.paragraphs == stored_before + 1
    rows = list(Store(settings).records())
    kept = [r["metadata"] for r in rows if r["metadata"]["paragraph"] > 1]
    assert all(m["added"].startswith("2026-01-01") for m in kept)  # first added, kept
    titled = [r for r in rows if r["metadata"].get("title_mix")]
    assert len(titled) == seed_paragraphs
    assert Store(settings).lexical_ids() == ids_digest(r["id"] for r in rows)

    answer = ask("How much did the council approve for bridges?", settings=settings)
    assert (answer.citations[0].source, answer.citations[0].paragraph) == (
        "council-note.txt",
        1,
    )
    again = ingest([folder], settings, quiet=True)
    assert (again.embedded, again.added, again.updated, again.removed) == (0, 0, 0, 0)
