"""One article from its bytes, by format: text and Markdown (front matter read), web
pages (qa.reading.webpage), PDFs (qa.reading.pdf) and Word files (qa.reading.word),
each numbered over its blocks, with its title, date and byline found."""

from __future__ import annotations

import re
from datetime import date as Date
from pathlib import Path

from .boilerplate import byline_name, classify, looks_like_title
from .paragraphs import TITLE, Article, ArticleError, Paragraph, split_blocks

WEB_SUFFIXES = (".html", ".htm")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")  # scans and photos of text, read by OCR


def decode(data: bytes, name: str) -> str:
    """UTF-8 or a clear refusal, for text and Markdown files: guessing a legacy encoding
    could put wrong characters into quoted evidence, so a non-UTF-8 text file is skipped
    and the user told to convert it. (A web page declares its charset: qa.reading.webpage.)"""
    _check_not_empty(data, name)
    if b"\x00" in data[:8192]:
        raise ArticleError(f"{name}: binary file, skipped")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ArticleError(
            f"{name}: not valid UTF-8 (byte {exc.start}), skipped; "
            f"convert it, e.g. `iconv -f cp1252 -t utf-8`"
        ) from None
    if not text.strip():
        raise ArticleError(f"{name}: empty file, skipped")
    return text


def _check_not_empty(data: bytes, name: str) -> None:
    if not data.strip():
        raise ArticleError(f"{name}: empty file, skipped")


# --- front matter and dates ----------------------------------------------------------

_FRONT_LINE = re.compile(r"^(title|date|author|url|site|source|published|by)\s*:\s*(.*)$", re.I)
_FENCE = re.compile(r"\A\ufeff?---[ \t]*\n(.*?)\n---[ \t]*(\n|\Z)", re.DOTALL)
_ALIASES = {"published": "date", "by": "author", "source": "site"}


def front_matter(text: str) -> tuple[dict[str, str], int]:
    """Front matter at the top of a text file, and how many blocks it spans: a `---`
    fenced block of `key: value` lines, or a first block made only of such lines
    (title, date, author, url, site)."""
    m = _FENCE.match(text)
    if m:
        body, blocks = m.group(1), len(split_blocks(m.group(0)))
    else:
        first = split_blocks(text)[:1]
        if not first or not all(_FRONT_LINE.match(line) for line in first[0].split("\n")):
            return {}, 0
        body, blocks = first[0], 1
    fields: dict[str, str] = {}
    for line in body.split("\n"):
        fm = _FRONT_LINE.match(line.strip())
        if fm:
            key = _ALIASES.get(fm.group(1).lower(), fm.group(1).lower())
            value = fm.group(2).strip().strip("\"'")
            if value and key not in fields:
                fields[key] = value
    return fields, blocks


def iso_date(value: str) -> str:
    """A date as YYYY-MM-DD ("10 March 2015", "2015-03-10T09:00:00Z"); "" if it is not
    one."""
    value = value.strip()
    if not value:
        return ""
    m = re.match(r"^(\d{4})-(\d{2})-(\d{2})", value)
    if m:
        try:
            return Date(int(m[1]), int(m[2]), int(m[3])).isoformat()
        except ValueError:
            return ""
    try:
        from dateutil import parser

        parsed = parser.parse(value, fuzzy=False, dayfirst=True)
    except (ValueError, OverflowError, TypeError):
        return ""
    return str(parsed.date().isoformat())


# --- reading -------------------------------------------------------------------------


def _same_words(a: str, b: str) -> bool:
    return re.findall(r"\w+", a.lower()) == re.findall(r"\w+", b.lower())


def _title_from_name(path: Path) -> str:
    return re.sub(r"[_-]+", " ", path.stem).strip() or path.name


def from_blocks(
    path: Path,
    blocks: list[str],
    fields: dict[str, str],
    skip: int = 0,
    title_first: bool | None = None,
    pages: list[int] | None = None,
    headings: set[int] | None = None,
) -> Article:
    if len(blocks) <= skip:
        raise ArticleError(f"{path.name}: no text found, skipped")
    paragraphs = classify(blocks, title=title_first, skip=skip, headings=headings)
    if pages is not None:
        paragraphs = [
            Paragraph(p.number, p.text, p.kind, p.heading, p.why, page=pages[i])
            for i, p in enumerate(paragraphs)
        ]
    first = paragraphs[skip]
    title = fields.get("title", "")
    if first.kind == TITLE:
        title = title or first.text.lstrip("#").strip()
    author = fields.get("author", "")
    if not author:  # a byline in the text ("By Jane Doe") names the author
        author = next((byline_name(p.text) for p in paragraphs if p.why == "byline"), "")
    return Article(
        path=path,
        title=title or _title_from_name(path),
        paragraphs=paragraphs,
        date=iso_date(fields.get("date", "")),
        author=author,
        site=fields.get("site", ""),
        url=fields.get("url", ""),
        headline=bool(title),
    )


def read_data(data: bytes, path: Path, name: str = "") -> Article:
    """An article from its bytes; `path` names the file (its suffix says how to read it)
    and `name` how messages call it ("" : the file's name)."""
    name = name or path.name
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        from .pdf import read_pdf

        _check_not_empty(data, name)
        pdf = read_pdf(data, name)
        # A first line that looks like a title beats the metadata's (often a file name).
        first_is_title = bool(pdf.blocks) and looks_like_title(pdf.blocks[0])
        fields = {"title": "" if first_is_title else pdf.title, "author": pdf.author}
        return from_blocks(path, pdf.blocks, fields, title_first=first_is_title,
                            pages=pdf.pages)  # fmt: skip
    if suffix == ".docx":
        from .word import read_word

        _check_not_empty(data, name)
        doc = read_word(data, name)
        fields = {"title": doc.title, "author": doc.author, "date": doc.date}
        # The first paragraph is the title when its style says so, or when it repeats
        # the title the properties give; without either, when it looks like one.
        title_first: bool | None = doc.title_block or None
        if not doc.title_block and doc.title and doc.blocks:
            title_first = _same_words(doc.blocks[0], doc.title)
        return from_blocks(path, doc.blocks, fields, title_first=title_first,
                            headings=doc.headings)  # fmt: skip
    if suffix in IMAGE_SUFFIXES:
        from .ocr import read_image

        _check_not_empty(data, name)
        return from_blocks(path, read_image(data, name), {}, title_first=None)
    if suffix in WEB_SUFFIXES:
        from .webpage import read_webpage

        _check_not_empty(data, name)
        page = read_webpage(data)
        fields = {"title": page.title, "date": page.date, "author": page.author,
                  "site": page.site, "url": page.url}  # fmt: skip
        return from_blocks(path, page.blocks, fields, title_first=bool(page.title))
    text = decode(data, name)
    fields, skip = front_matter(text)
    blocks = split_blocks(text)
    title_first = None  # the first block is the title if it looks like one ...
    if fields.get("title") and len(blocks) > skip:  # ... or, with front matter, repeats it
        title_first = _same_words(blocks[skip].lstrip("#"), fields["title"])
    return from_blocks(path, blocks, fields, skip=skip, title_first=title_first)
