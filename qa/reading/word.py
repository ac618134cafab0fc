"""Word files (.docx): paragraphs in document order, headings as headings, each table
row as a paragraph of its cells, and the title, author and date the document's
properties give; read with python-docx (MIT) after the package itself is checked.

A .docx is a zip archive. Before python-docx opens one, the archive is checked: a file
that is not a zip is a legacy .doc or an encrypted .docx (both are OLE compound files)
or not a Word file at all, and one whose parts unpack to far more than a document holds
is refused before anything is unpacked (a zip bomb).
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .paragraphs import ArticleError

MAX_UNPACKED_BYTES = 200 * 1024 * 1024  # all parts together, as the archive declares them
MAX_RATIO = 200  # a part that unpacks to more than this many times its packed size
MAX_PARTS = 10_000
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# Paragraph styles that are the document's title or a heading (Word's built-in names;
# a localised Word keeps these style ids).
_TITLE_STYLES = ("title",)
_HEADING_STYLES = ("heading", "subtitle")

_TEMPLATE_AUTHOR = "python-docx"
_TEMPLATE_CREATED = datetime(2013, 12, 23, 23, 15)

LEGACY = {
    ".doc": "a legacy Word file (.doc)",
    ".odt": "an OpenDocument text file (.odt)",
    ".rtf": "a Rich Text file (.rtf)",
}


def legacy_hint(name: str, suffix: str) -> str:
    """The message for a format we do not read, saying how to convert it."""
    return (
        f"{name}: {LEGACY[suffix]} is not read, skipped; save it as .docx (in Word or "
        f"LibreOffice), or convert it: `libreoffice --headless --convert-to docx {name}`"
    )


@dataclass
class WordDocument:
    blocks: list[str] = field(default_factory=list)
    headings: set[int] = field(default_factory=set)  # indexes of blocks that are headings
    title_block: bool = False  # blocks[0] is the document's title
    title: str = ""
    author: str = ""
    date: str = ""  # ISO, from the document's creation date


def _check_archive(data: bytes, name: str) -> None:
    if data[:8] == _OLE_MAGIC:
        raise ArticleError(
            f"{name}: password-protected, or a legacy .doc under a .docx name, skipped; "
            "save it as .docx without a password"
        )
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise ArticleError(
            f"{name}: not a readable .docx (corrupt, or not a Word file), skipped"
        ) from None
    if len(parts) > MAX_PARTS:
        raise ArticleError(f"{name}: {len(parts):,} parts is not a Word document, skipped")
    unpacked = sum(p.file_size for p in parts)
    swollen = [
        p for p in parts if p.file_size > 1024 * 1024 and p.file_size > MAX_RATIO * p.compress_size
    ]
    if unpacked > MAX_UNPACKED_BYTES or swollen:
        raise ArticleError(
            f"{name}: would unpack to {unpacked / (1024 * 1024):,.0f} MB from "
            f"{len(data) / (1024 * 1024):,.1f} MB, far more than a document holds "
            "(a zip bomb?), skipped"
        )
    if "word/document.xml" not in {p.filename for p in parts}:
        raise ArticleError(f"{name}: a zip file but not a Word document, skipped")


def _style(paragraph: Any) -> str:
    try:
        style = paragraph.style
    except (KeyError, ValueError, AttributeError):
        return ""
    return str(getattr(style, "name", "") or getattr(style, "style_id", "") or "").lower()


def _cells(row: Any) -> list[str]:
    """A table row's cells, each once (python-docx returns a merged cell once for each
    column it spans)."""
    seen: list[Any] = []
    texts: list[str] = []
    for cell in row.cells:
        if any(cell._tc is s for s in seen):
            continue
        seen.append(cell._tc)
        texts.append(" ".join(cell.text.split()))
    return texts


def _is_header(cells: list[str]) -> bool:
    """A first row of short labels, none of them a figure: the table's column names."""
    return all(c and len(c) <= 40 and not any(ch.isdigit() for ch in c) for c in cells)


def _table_rows(table: Any) -> list[tuple[str, bool]]:
    """Each row as a paragraph of text, and whether it is the header row. Under a header
    row of column names, a row reads "Month: April | Passengers: 7,940", so that the row
    says what its figures are; otherwise its cells are joined with " | "."""
    rows = [_cells(row) for row in table.rows]
    header = rows[0] if len(rows) > 1 and _is_header(rows[0]) else None
    out: list[tuple[str, bool]] = []
    for i, cells in enumerate(rows):
        if header is not None and i == 0:
            out.append((" | ".join(cells), True))
        elif header is not None and len(cells) == len(header):
            out.append(
                (" | ".join(f"{h}: {c}" for h, c in zip(header, cells, strict=True) if c), False)
            )
        elif any(cells):
            out.append((" | ".join(c for c in cells if c), False))
    return out


def read_word(data: bytes, name: str) -> WordDocument:
    _check_archive(data, name)
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph as DocxParagraph

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # python-docx raises many kinds on a damaged package
        raise ArticleError(
            f"{name}: not a readable .docx ({type(exc).__name__}), skipped"
        ) from None
    out = WordDocument()
    for item in document.iter_inner_content():
        if isinstance(item, DocxParagraph):
            text = item.text.strip()
            if not text:
                continue
            style = _style(item)
            if style.startswith(_TITLE_STYLES) and not out.blocks:
                out.title_block = True
            elif style.startswith(_HEADING_STYLES):
                out.headings.add(len(out.blocks))
            out.blocks.append(text)
        elif isinstance(item, Table):
            for text, is_header in _table_rows(item):
                if is_header:
                    out.headings.add(len(out.blocks))
                out.blocks.append(text)
    props = document.core_properties
    out.title = (props.title or "").strip()
    author = (props.author or "").strip()
    created = props.created
    # A document made from python-docx's own template keeps the template's author and
    # creation date unless its writer set them: those say nothing of the document.
    out.author = "" if author == _TEMPLATE_AUTHOR else author
    if created is not None and created.replace(tzinfo=None) != _TEMPLATE_CREATED:
        out.date = created.date().isoformat()
    return out
