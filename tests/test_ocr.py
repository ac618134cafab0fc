"""Scans read by OCR (tesseract): a two-page PDF with no text layer, its pages drawn here
with Pillow, whose figure on page 2 is answered and cited with its page; a photo of a
page (.png); an image with no text, an unreadable image, and a scan met where
tesseract is not installed, each refused with one line that says what to do."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from conftest import make_settings
from PIL import Image, ImageDraw, ImageFont

from qa import ask
from qa.reading import ocr
from qa.reading.articles import ArticleError, read_article
from qa.store.ingest import ingest

PAGE_1 = [
    "Harbour council minutes",
    "The council met on Thursday to discuss the repairs to the old pier and the "
    "timetable for the summer ferry service.",
]
PAGE_2 = [
    "The council approved a budget of 2.7 million euros for the pier repairs, to be "
    "spent over two years.",
    "Work on the pier begins in September.",
]


def draw_page(paragraphs: list[str]) -> Image.Image:
    """A page of text as a scanner sees it: an image, nothing else."""
    font = ImageFont.load_default(size=34)
    image = Image.new("L", (1400, 1000), 255)
    draw = ImageDraw.Draw(image)
    y = 80
    for paragraph in paragraphs:
        for line in textwrap.wrap(paragraph, 60):
            draw.text((80, y), line, fill=0, font=font)
            y += 46
        y += 40
    return image


def scanned_pdf(path: Path) -> Path:
    first, second = draw_page(PAGE_1), draw_page(PAGE_2)
    first.save(path, "PDF", resolution=150, save_all=True, append_images=[second])
    return path


def test_a_scanned_pdf_is_read_and_cited_with_its_page(tmp_path: Path) -> None:
    folder = tmp_path / "scans"
    folder.mkdir()
    path = scanned_pdf(folder / "minutes.pdf")
    article = read_article(path)
    assert article.title == "Harbour council minutes"
    body = [(p.page, p.text) for p in article.evidence]
    assert body[0][0] == 1 and "timetable for the summer ferry service" in body[0][1]
    assert [page for page, _ in body[1:]] == [2, 2]
    assert "2.7 million euros" in body[1][1]

    settings = make_settings(tmp_path / "index", folder)
    assert ingest([folder], settings, quiet=True).files == 1
    answer = ask("How much did the council approve for the pier repairs?", settings=settings)
    assert not answer.abstained and "2.7 million euros" in answer.text
    cited = answer.citations[0]
    assert (cited.source, cited.page) == ("minutes.pdf", 2)


def test_a_photo_of_a_page_is_an_article(tmp_path: Path) -> None:
    path = tmp_path / "notice.png"
    draw_page(PAGE_2).save(path)
    article = read_article(path)
    assert [p.text for p in article.evidence][-1] == "Work on the pier begins in September."


def test_bad_images_are_refused_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blank = tmp_path / "blank.png"
    Image.new("L", (800, 600), 255).save(blank)
    with pytest.raises(ArticleError, match="blank.png: no text found in the image"):
        read_article(blank)
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg" * 10)
    with pytest.raises(ArticleError, match="broken.jpg: not a readable image"):
        read_article(broken)
    monkeypatch.setattr(ocr.shutil, "which", lambda name: None)  # no tesseract here
    scan = scanned_pdf(tmp_path / "minutes.pdf")
    with pytest.raises(ArticleError, match=r"tesseract is not installed.*apt-get install"):
        read_article(scan)
