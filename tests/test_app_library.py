"""The Articles tab's library (qa.store.library) on a real index: uploads are checked, copied into
the articles folder and answerable at once; a refused file changes nothing; deleting
removes an article's paragraphs and its file from the articles folder."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import make_settings

import qa.reading.articles
import qa.store.library
from qa import ask
from qa.errors import QAError
from qa.settings import Settings
from qa.store.index import Store
from qa.store.ingest import ingest
from qa.store.library import add_files, check_upload, delete_article, index_summary, list_articles

HARBOUR = """Harbour reopens after storm repairs

The port of Kelvik reopened on Friday after three weeks of repairs to its storm-damaged pier.

Fishing boats returned the same evening, the harbour master said.
"""

FERRY_MD = """# Solar ferry enters service on Lake Varnen

The town of Ostby launched its first solar-powered ferry on Tuesday.

The ferry, named Solveig, carries up to 240 passengers and 18 bicycles.
"""

BRIDGE_HTML = """<html><head><title>New bridge links Ostby and Marnes</title>
<script>var x = 1;</script></head><body>
<nav>Home | News</nav>
<h1>Ostby and Marnes joined</h1>
<p>A 640-metre cable-stayed bridge between Ostby and Marnes opened to traffic on Sunday.</p>
<p>It cost 90 million euros and took four years to build.</p>
</body></html>"""


@pytest.fixture
def library(tmp_path: Path) -> Settings:
    """An articles folder holding one article, and an index of it."""
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "harbour.txt").write_text(HARBOUR, encoding="utf-8")
    settings = make_settings(tmp_path / "index", folder)
    ingest([folder], settings, quiet=True)
    return settings


def upload(tmp_path: Path, name: str, data: bytes | str) -> Path:
    """A file as an upload arrives: somewhere else, under its own name."""
    folder = tmp_path / "uploads"
    folder.mkdir(exist_ok=True)
    path = folder / name
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8")
    else:
        path.write_bytes(data)
    return path


def stored_ids(settings: Settings) -> set[str]:
    return {row["id"] for row in Store(settings).records()}


def test_uploads_are_copied_indexed_and_answerable_at_once(
    library: Settings, tmp_path: Path
) -> None:
    assert ask("How many passengers does the Solveig carry?", settings=library).abstained
    files = [upload(tmp_path, "ferry.md", FERRY_MD), upload(tmp_path, "bridge.html", BRIDGE_HTML)]
    steps: list[tuple[float, str]] = []
    result = add_files(files, library, progress=lambda f, d: steps.append((f, d)))

    assert result.added == ["bridge.html", "ferry.md"] and result.rejected == []
    assert result.report is not None and result.report.files == 2
    assert (library.seeds_dir / "ferry.md").read_text(encoding="utf-8") == FERRY_MD
    assert (library.seeds_dir / "bridge.html").read_text(encoding="utf-8") == BRIDGE_HTML
    fractions = [f for f, _ in steps]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert any("Checking ferry.md" in d for _, d in steps)

    answer = ask("How many passengers does the Solveig carry?", settings=library)
    assert not answer.abstained and "240" in answer.text
    assert (answer.citations[0].source, answer.citations[0].paragraph) == ("ferry.md", 3)
    bridge = ask("How long is the bridge between Ostby and Marnes?", settings=library)
    assert "640" in bridge.text and bridge.citations[0].source == "bridge.html"

    listed = {a.source: a for a in list_articles(library)}
    assert set(listed) == {"harbour.txt", "ferry.md", "bridge.html"}
    assert listed["ferry.md"].title == "Solar ferry enters service on Lake Varnen"
    assert listed["ferry.md"].paragraphs == 2
    # trafilatura takes the page's headline (its one <h1>) over its <title>.
    assert listed["bridge.html"].title == "Ostby and Marnes joined"
    assert listed["ferry.md"].added >= listed["harbour.txt"].added > "2000"
    assert index_summary(library) == (3, sum(a.paragraphs for a in listed.values()))

    # `qa ingest` of the articles folder finds nothing new: the copies are the indexed files.
    again = ingest([library.seeds_dir], library, quiet=True)
    assert (again.added, again.updated, again.removed) == (0, 0, 0)


@pytest.mark.parametrize(
    ("name", "data", "why"),
    [
        ("notes.xlsx", b"PK\x03\x04 ...", "not a .txt, .md, .html, .pdf, .docx"),
        ("notes.docx", b"PK\x03\x04 ...", "not a readable .docx"),
        ("memo.doc", b"\xd0\xcf\x11\xe0 ...", "save it as .docx"),
        ("broken.pdf", b"%PDF-1.4 ...", "PDF"),
        ("empty.txt", b"  \n\n ", "empty file"),
        ("image.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00", "binary file"),
        ("latin1.txt", "Café\n\nUn paragraphe en Latin-1.\n".encode("latin-1"), "not valid UTF-8"),
        ("title-only.txt", b"Just a title\n", "no paragraph of article text"),
        (".hidden.txt", b"Title\n\nText of a paragraph.\n", "not a usable file name"),
    ],
)
def test_bad_uploads_are_refused_and_change_nothing(
    library: Settings, tmp_path: Path, name: str, data: bytes, why: str
) -> None:
    before_ids, before_files = stored_ids(library), sorted(library.seeds_dir.iterdir())
    result = add_files([upload(tmp_path, name, data)], library)
    assert result.added == [] and len(result.rejected) == 1
    assert why in result.rejected[0] and name in result.rejected[0]
    assert stored_ids(library) == before_ids
    assert sorted(library.seeds_dir.iterdir()) == before_files


def test_size_limit(library: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(qa.reading.articles, "MAX_FILE_BYTES", 100)  # the one limit, for both paths
    big = upload(tmp_path, "big.txt", "Big\n\n" + "word " * 100)
    with pytest.raises(ValueError, match="over the 0 MB limit|MB limit"):
        check_upload(big, "big.txt")
    result = add_files([big, upload(tmp_path, "ok.md", "Ok\n\nShort text here.\n")], library)
    assert result.added == ["ok.md"] and "big.txt" in result.rejected[0]


def test_upload_with_an_existing_name_replaces_that_article(
    library: Settings, tmp_path: Path
) -> None:
    changed = HARBOUR.replace("three weeks", "five weeks")
    add_files([upload(tmp_path, "harbour.txt", changed)], library)
    assert (library.seeds_dir / "harbour.txt").read_text(encoding="utf-8") == changed
    [article] = list_articles(library)
    assert article.paragraphs == 2
    answer = ask("How long did the repairs to the Kelvik pier take?", settings=library)
    assert "five weeks" in answer.text and "three weeks" not in answer.text


def test_failed_ingest_puts_the_folder_back(
    library: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise QAError("the index is broken")

    monkeypatch.setattr(qa.store.library, "ingest", broken)
    before = {p.name: p.read_bytes() for p in library.seeds_dir.iterdir()}
    files = [
        upload(tmp_path, "ferry.md", FERRY_MD),
        upload(tmp_path, "harbour.txt", "New\n\nX y.\n"),
    ]
    with pytest.raises(QAError, match="broken"):
        add_files(files, library)
    assert {p.name: p.read_bytes() for p in library.seeds_dir.iterdir()} == before


def test_delete_removes_paragraphs_and_the_file_in_the_articles_folder(
    library: Settings, tmp_path: Path
) -> None:
    add_files([upload(tmp_path, "ferry.md", FERRY_MD)], library)
    ferry = next(a for a in list_articles(library) if a.source == "ferry.md")
    assert "240" in ask("How many passengers does the Solveig carry?", settings=library).text

    result = delete_article(ferry.path, library)
    assert (result.source, result.paragraphs, result.file_removed) == ("ferry.md", 2, True)
    assert not (library.seeds_dir / "ferry.md").exists()
    assert [a.source for a in list_articles(library)] == ["harbour.txt"]
    answer = ask("How many passengers does the Solveig carry?", settings=library)
    assert "240" not in answer.text
    assert all(c.source == "harbour.txt" for c in answer.citations + answer.related)
    # and `qa ingest` does not bring it back
    ingest([library.seeds_dir], library, quiet=True)
    assert [a.source for a in list_articles(library)] == ["harbour.txt"]

    with pytest.raises(QAError, match="not in the index"):
        delete_article(ferry.path, library)


def test_delete_leaves_a_file_outside_the_articles_folder(
    library: Settings, tmp_path: Path
) -> None:
    elsewhere = upload(tmp_path, "ferry.md", FERRY_MD)
    ingest([elsewhere], library, quiet=True)
    ferry = next(a for a in list_articles(library) if a.source == "ferry.md")
    result = delete_article(ferry.path, library)
    assert result.paragraphs == 2 and not result.file_removed
    assert elsewhere.read_text(encoding="utf-8") == FERRY_MD
    assert [a.source for a in list_articles(library)] == ["harbour.txt"]


def test_empty_library(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "no-index", tmp_path / "articles")
    assert list_articles(settings) == [] and index_summary(settings) == (0, 0)
