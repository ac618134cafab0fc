"""Word files, written here with python-docx: paragraphs in order, a heading that is not
evidence but heads the paragraph after it, a table read row by row, title, author and
date from the document's properties, answers cited to the paragraph; a corrupt, an
encrypted and a zip-bomb .docx, and legacy .doc/.odt files, each refused with one line
that says what to do."""

from __future__ import annotations

import zipfile
from datetime import datetime
from pathlib import Path

import docx
import pytest
from conftest import index_of

from qa import ask
from qa.reading.articles import BODY, HEADING, TITLE, ArticleError, find_articles, read_article
from qa.reading.word import MAX_RATIO
from qa.store.library import check_upload

HEADLINE = "Ferry line to Ostby reopens"
FIRST = (
    "The ferry line between Kelvik and Ostby reopened on Monday after the winter storms, "
    "the operator said."
)
SECOND = "Tickets cost 14 euros for adults, and the crossing takes forty minutes."


def write_report(path: Path, *, styled_title: bool = True) -> Path:
    document = docx.Document()
    if styled_title:
        document.add_paragraph(HEADLINE, style="Title")
    document.add_paragraph(FIRST)
    document.add_heading("Passengers by month", level=1)
    document.add_paragraph(SECOND)
    table = document.add_table(rows=3, cols=2)
    for row, (month, count) in zip(
        table.rows,
        [("Month", "Passengers"), ("March", "5,210"), ("April", "7,940")],
        strict=True,
    ):
        row.cells[0].text, row.cells[1].text = month, count
    document.add_paragraph("")  # an empty paragraph is no block
    props = document.core_properties
    props.title = HEADLINE
    props.author = "Ann Lee"
    props.created = datetime(2024, 4, 30, 9, 0)
    document.save(str(path))
    return path


def test_paragraphs_headings_table_and_properties(tmp_path: Path) -> None:
    article = read_article(write_report(tmp_path / "ferry.docx"))
    assert (article.title, article.author, article.date) == (HEADLINE, "Ann Lee", "2024-04-30")
    kinds = [(p.number, p.kind) for p in article.paragraphs]
    assert kinds == [(1, TITLE), (2, BODY), (3, HEADING), (4, BODY), (5, HEADING), (6, BODY),
                     (7, BODY)]  # fmt: skip
    texts = [p.text for p in article.paragraphs]
    assert texts[:4] == [HEADLINE, FIRST, "Passengers by month", SECOND]
    # The header row names the columns (a heading); each row says what its figures are.
    assert texts[4:] == ["Month | Passengers", "Month: March | Passengers: 5,210",
                         "Month: April | Passengers: 7,940"]  # fmt: skip
    assert article.paragraphs[4].kind == HEADING
    assert article.paragraphs[3].heading == "Passengers by month"  # heads the next paragraph
    assert "Passengers by month" not in [p.text for p in article.evidence]


def test_without_a_title_style_the_properties_title_is_the_title(tmp_path: Path) -> None:
    article = read_article(write_report(tmp_path / "plain.docx", styled_title=False))
    assert article.title == HEADLINE
    assert article.paragraphs[0].text == FIRST and article.paragraphs[0].kind == BODY


def test_a_word_file_is_ingested_answered_and_cited(tmp_path: Path) -> None:
    settings, report = index_of(tmp_path, "articles", lambda f: write_report(f / "ferry.docx"))
    assert report.files == 1 and report.skipped == []
    answer = ask("How much does a ferry ticket to Ostby cost for adults?", settings=settings)
    assert not answer.abstained
    assert "14 euros" in answer.text
    cited = answer.citations[0]
    assert (cited.source, cited.paragraph, cited.text) == ("ferry.docx", 4, SECOND)
    assert (cited.title, cited.author, cited.date) == (HEADLINE, "Ann Lee", "2024-04-30")
    april = ask("How many passengers took the ferry in April?", settings=settings)
    assert not april.abstained and "7,940" in april.text
    assert april.citations[0].paragraph == 7


def test_bad_word_files_are_refused_with_one_line(tmp_path: Path) -> None:
    corrupt = tmp_path / "corrupt.docx"
    corrupt.write_bytes(b"PK\x03\x04 this is not really a zip archive" * 20)
    with pytest.raises(ArticleError, match=r"corrupt\.docx: not a readable \.docx"):
        read_article(corrupt)

    encrypted = tmp_path / "locked.docx"  # Word writes a password-protected file as OLE
    encrypted.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 4000)
    with pytest.raises(ArticleError, match="password-protected"):
        read_article(encrypted)

    bomb = tmp_path / "bomb.docx"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", b"\x00" * (MAX_RATIO * 2 * 1024 * 1024 // 100))
    assert bomb.stat().st_size < 200_000
    with pytest.raises(ArticleError, match="zip bomb"):
        read_article(bomb)

    other_zip = tmp_path / "photos.docx"
    with zipfile.ZipFile(other_zip, "w") as archive:
        archive.writestr("photo.txt", "not a document")
    with pytest.raises(ArticleError, match="not a Word document"):
        read_article(other_zip)


def test_legacy_formats_say_how_to_convert(tmp_path: Path) -> None:
    folder = tmp_path / "inbox"
    folder.mkdir()
    (folder / "memo.doc").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100)
    (folder / "notes.odt").write_bytes(b"PK\x03\x04")
    write_report(folder / "ferry.docx")
    found, warnings = find_articles([folder])
    assert [p.name for p in found] == ["ferry.docx"]
    assert len(warnings) == 2
    assert any("memo.doc: a legacy Word file (.doc)" in w and "--convert-to docx" in w
               for w in warnings)  # fmt: skip
    assert any("notes.odt: an OpenDocument text file" in w for w in warnings)
    with pytest.raises(ArticleError, match="save it as .docx"):
        check_upload(folder / "memo.doc", "memo.doc")
    assert check_upload(folder / "ferry.docx", "ferry.docx")
