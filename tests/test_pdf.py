"""PDFs, generated here with fpdf2: paragraphs from the text layer with their pages, a
running header and page numbers left out, a word hyphenated across a line joined, a
paragraph running on to the next page joined; a PDF with no text at all refused with a
warning that says so (scans are read by OCR: tests/test_ocr.py); citations carry the page."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import make_settings
from fpdf import FPDF

from qa import ask
from qa.reading.articles import TITLE, ArticleError, read_article
from qa.store.ingest import ingest

HEADER = "Kelvik Harbour Gazette - Spring report 2024"


class Gazette(FPDF):
    """Pages with a running header and a page number at the foot."""

    def header(self) -> None:
        self.set_font("Helvetica", size=9)
        self.cell(0, 8, HEADER, align="C")
        self.ln(14)

    def footer(self) -> None:
        self.set_y(-15)
        self.set_font("Helvetica", size=9)
        self.cell(0, 8, f"Page {self.page_no()}", align="C")


def paragraph(pdf: FPDF, lines: list[str]) -> None:
    """Lines set one by one (so a line can end in a hyphen), then a paragraph gap."""
    for line in lines:
        pdf.cell(0, 6, line)
        pdf.ln(6)
    pdf.ln(5)


def two_pages(path: Path) -> Path:
    pdf = Gazette()
    pdf.set_auto_page_break(False)
    pdf.set_author("Ann Lee")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 10, "Harbour reopens after storm repairs")
    pdf.ln(14)
    pdf.set_font("Helvetica", size=11)
    paragraph(pdf, [
        "The port of Kelvik reopened on Friday after three weeks of repairs to its",
        "storm-damaged pier, the harbour master said. The new pier was recon-",
        "structed with steel piles driven twelve metres into the seabed.",
    ])  # fmt: skip
    paragraph(pdf, ["Fishing boats returned the same evening, and the ferry to Ostby"])
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    paragraph(pdf, ["resumes its timetable on Monday, the operator said."])
    paragraph(pdf, [
        "The repairs cost 4.2 million kroner, paid for by the regional govern-",
        "ment, which also promised to deepen the channel next year.",
    ])  # fmt: skip
    pdf.output(str(path))
    return path


def test_two_pages_with_header_hyphenation_and_a_paragraph_across_pages(
    tmp_path: Path,
) -> None:
    article = read_article(two_pages(tmp_path / "gazette.pdf"))
    texts = [p.text for p in article.paragraphs]
    assert texts == [
        "Harbour reopens after storm repairs",
        "The port of Kelvik reopened on Friday after three weeks of repairs to its "
        "storm-damaged pier, the harbour master said. The new pier was reconstructed "
        "with steel piles driven twelve metres into the seabed.",
        "Fishing boats returned the same evening, and the ferry to Ostby resumes its "
        "timetable on Monday, the operator said.",
        "The repairs cost 4.2 million kroner, paid for by the regional government, which "
        "also promised to deepen the channel next year.",
    ]
    assert [p.page for p in article.paragraphs] == [1, 1, 1, 2]
    assert article.paragraphs[0].kind == TITLE
    assert article.title == "Harbour reopens after storm repairs" and article.author == "Ann Lee"
    everything = " ".join(texts)
    assert "Gazette" not in everything and "Page 1" not in everything  # header, footer


def test_pdf_citations_carry_the_page(tmp_path: Path) -> None:
    folder = tmp_path / "articles"
    folder.mkdir()
    two_pages(folder / "gazette.pdf")
    settings = make_settings(tmp_path / "index", folder)
    report = ingest([folder], settings, quiet=True)
    assert (report.files, report.paragraphs) == (1, 3)
    answer = ask("How many kroner did the repairs cost?", settings=settings)
    assert not answer.abstained and "4.2 million kroner" in answer.text
    cited = answer.citations[0]
    assert (cited.source, cited.paragraph, cited.page) == ("gazette.pdf", 4, 2)
    assert cited.author == "Ann Lee"
    assert cited.as_dict()["page"] == 2


def test_a_page_without_any_text_is_skipped_with_a_warning_that_says_so(tmp_path: Path) -> None:
    pdf = FPDF()
    pdf.add_page()
    pdf.rect(20, 20, 150, 200, style="F")  # a drawing: no text layer, and nothing to OCR
    path = tmp_path / "scan.pdf"
    pdf.output(str(path))
    with pytest.raises(ArticleError, match=r"scan.pdf: no text found, on the text layer or by OCR"):
        read_article(path)
    settings = make_settings(tmp_path / "index", tmp_path)
    warnings: list[str] = []
    report = ingest([path], settings, quiet=True, warn=warnings.append)
    assert report.files == 0 and len(warnings) == 1 and "OCR" in warnings[0]


def test_a_damaged_pdf_is_skipped_with_its_name(tmp_path: Path) -> None:
    path = tmp_path / "broken.pdf"
    path.write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog >>\nthis is not a pdf\n")
    with pytest.raises(ArticleError, match="broken.pdf: (not a readable PDF|the PDF has no)"):
        read_article(path)
