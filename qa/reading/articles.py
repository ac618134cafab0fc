"""Read an article file into numbered paragraphs, marking what is not evidence.

A paragraph is a block of lines between blank lines, numbered from 1 over the blocks
of the file as a reader counts them. Numbers never skip a block we drop, so a
citation's paragraph number is the one a person finds in the file. The first block is
the title only when it looks like one; front matter (`title:`, `date:`, `author:`,
`url:`) is read when a text file starts with it. Web pages (qa.reading.webpage) and PDFs
(qa.reading.pdf) are numbered over the blocks of their extracted text.
"""

from __future__ import annotations

import re
from datetime import date as Date
from pathlib import Path

from .boilerplate import byline_name, classify, looks_like_title
from .paragraphs import (
    BODY,
    BOILERPLATE,
    FRONT_MATTER,
    HEADING,
    TITLE,
    Article,
    ArticleError,
    Paragraph,
    split_blocks,
)
from .webpage import html_to_text

__all__ = [
    "BODY", "BOILERPLATE", "FRONT_MATTER", "HEADING", "TITLE", "Article", "ArticleError",
    "Paragraph", "classify", "decode", "find_articles", "html_to_text", "read_article",
    "split_blocks",
]  # fmt: skip

SUFFIXES = (".txt", ".md", ".html", ".htm", ".pdf")
WEB_SUFFIXES = (".html", ".htm")
MAX_FILE_BYTES = 20 * 1024 * 1024
KINDS = "a .txt, .md, .html or .pdf file"


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


def check_size(path: Path, name: str) -> None:
    """ArticleError if the file at `path` (called `name`) is too large for one article."""
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise ArticleError(
            f"{name}: {size / (1024 * 1024):.1f} MB is over the "
            f"{MAX_FILE_BYTES // (1024 * 1024)} MB limit for one article, skipped"
        )


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


def _from_blocks(
    path: Path,
    blocks: list[str],
    fields: dict[str, str],
    skip: int = 0,
    title_first: bool | None = None,
    pages: list[int] | None = None,
) -> Article:
    if len(blocks) <= skip:
        raise ArticleError(f"{path.name}: no text found, skipped")
    paragraphs = classify(blocks, title=title_first, skip=skip)
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


def read_article(path: Path) -> Article:
    check_size(path, path.name)
    data = path.read_bytes()
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        from .pdf import read_pdf

        _check_not_empty(data, path.name)
        pdf = read_pdf(data, path.name)
        # A first line that looks like a title beats the metadata's (often a file name).
        first_is_title = bool(pdf.blocks) and looks_like_title(pdf.blocks[0])
        fields = {"title": "" if first_is_title else pdf.title, "author": pdf.author}
        return _from_blocks(path, pdf.blocks, fields, title_first=first_is_title,
                            pages=pdf.pages)  # fmt: skip
    if suffix in WEB_SUFFIXES:
        from .webpage import read_webpage

        _check_not_empty(data, path.name)
        page = read_webpage(data)
        fields = {"title": page.title, "date": page.date, "author": page.author,
                  "site": page.site, "url": page.url}  # fmt: skip
        return _from_blocks(path, page.blocks, fields, title_first=bool(page.title))
    text = decode(data, path.name)
    fields, skip = front_matter(text)
    blocks = split_blocks(text)
    title_first = None  # the first block is the title if it looks like one ...
    if fields.get("title") and len(blocks) > skip:  # ... or, with front matter, repeats it
        title_first = _same_words(blocks[skip].lstrip("#"), fields["title"])
    return _from_blocks(path, blocks, fields, skip=skip, title_first=title_first)


def _walk(folder: Path, warnings: list[str]) -> list[Path]:
    """Article files in a folder and its subfolders. Symbolic links are not followed:
    one to a file outside the folder would index (and quote) a file the user did not
    put there, one inside it would index the same article twice. Linked folders are
    not entered (no loops)."""
    root = folder.resolve()
    found = []
    for p in sorted(folder.rglob("*")):
        if p.suffix.lower() not in SUFFIXES or p.name.startswith("."):
            continue
        if p.is_symlink():
            target = p.resolve()
            if not target.exists():
                warnings.append(f"{p.name}: a link to a file that does not exist, skipped")
            elif not target.is_relative_to(root):
                warnings.append(f"{p.name}: a link to a file outside {folder}, skipped")
            else:
                warnings.append(
                    f"{p.name}: a link to {target.relative_to(root)}, which is read "
                    "under its own name; skipped"
                )
            continue
        if p.is_file():
            found.append(p)
    return found


def find_articles(paths: list[Path]) -> tuple[list[Path], list[str]]:
    """Article files under the given files and folders, and a warning for each path
    that is not one."""
    found: list[Path] = []
    warnings: list[str] = []
    for path in paths:
        if path.is_dir():
            found.extend(_walk(path, warnings))
        elif path.is_file():
            if path.suffix.lower() in SUFFIXES:
                found.append(path)
            else:
                warnings.append(f"{path.name}: not {KINDS}, skipped")
        else:
            warnings.append(f"{path}: no such file or folder")
    return found, warnings
