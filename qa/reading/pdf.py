"""PDFs: paragraphs from the text layer, each with the page it starts on.

pypdf (BSD licence) reads the text; PyMuPDF reads more layouts but is AGPL, which would
bind everyone who ships or serves `qa`. pypdf's layout mode keeps the page's vertical
gaps as blank lines and its indents as spaces, so paragraphs are the blocks between
gaps, or lines that start further in than the block's other lines. Running headers
and footers (a top or bottom line that repeats on other pages, digits aside) and bare
page numbers are dropped; a word broken by a hyphen at the end of a line is joined; a
paragraph that runs on to the next page is joined to its start. A page with no text
layer (a scan) is read by OCR (qa.reading.ocr), its paragraphs cited with their page.
"""

from __future__ import annotations

import io
import logging
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from .paragraphs import ArticleError, join_lines

logging.getLogger("pypdf").setLevel(logging.ERROR)

_PAGE_NUMBER = re.compile(
    r"^(page\s*)?[-–—(\[]?\s*\d{1,4}\s*[-–—)\]]?(\s*(of|/)\s*\d{1,4})?$", re.IGNORECASE
)
_SENTENCE_END = re.compile(r"[.!?:\"”’)]$")
INDENT = 2  # characters further in than the block's other lines: a new paragraph


@dataclass
class PdfText:
    blocks: list[str] = field(default_factory=list)
    pages: list[int] = field(default_factory=list)  # the page each block starts on
    title: str = ""
    author: str = ""


def _page_blocks(text: str) -> list[list[str]]:
    """A page's layout text as blocks of lines (leading spaces kept for the indent rule)."""
    blocks: list[list[str]] = []
    current: list[str] = []
    for line in text.split("\n"):
        if line.strip():
            current.append(line.rstrip())
        elif current:
            blocks.append(current)
            current = []
    if current:
        blocks.append(current)
    out: list[list[str]] = []
    for block in blocks:  # split a block where a line is indented beyond the others
        indents = [len(line) - len(line.lstrip()) for line in block]
        base = min(indents)
        start = 0
        for i in range(1, len(block)):
            if indents[i] >= base + INDENT and indents[i - 1] < base + INDENT:
                out.append(block[start:i])
                start = i
        out.append(block[start:])
    return [[" ".join(line.split()) for line in b] for b in out]


def _shape(line: str) -> str:
    return re.sub(r"\d+", "#", line.lower()).strip()


def _running_lines(pages: list[list[list[str]]]) -> set[str]:
    """Shapes of the lines that open or close two or more pages: headers and footers."""
    if len(pages) < 2:
        return set()
    counts: Counter[str] = Counter()
    for blocks in pages:
        edges = set()
        if blocks:
            edges |= {_shape(blocks[0][0]), _shape(blocks[-1][-1])}
        counts.update(edges)
    return {shape for shape, n in counts.items() if n >= 2}


def _strip_edges(blocks: list[list[str]], running: set[str]) -> list[list[str]]:
    """A page's blocks without its running header, footer and page number."""
    blocks = [list(b) for b in blocks]
    for end in (0, -1):
        while blocks:
            block = blocks[end]
            line = block[end]
            if _shape(line) in running or _PAGE_NUMBER.match(line):
                block.pop(end)
                if not block:
                    blocks.pop(end)
                continue
            break
    return blocks


def read_pdf(data: bytes, name: str) -> PdfText:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise ArticleError(f"{name}: the PDF is password-protected, skipped")
        texts = [page.extract_text(extraction_mode="layout") or "" for page in reader.pages]
    except ArticleError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise ArticleError(f"{name}: not a readable PDF ({type(exc).__name__}), skipped") from None
    except Exception as exc:  # pypdf raises many kinds on damaged files
        raise ArticleError(f"{name}: not a readable PDF ({type(exc).__name__}), skipped") from None
    pages = [_page_blocks(t) for t in texts]
    scanned = [i for i, t in enumerate(texts) if not t.strip()]
    if scanned:
        from .ocr import read_pdf_pages

        for index, paragraphs in read_pdf_pages(data, scanned, name).items():
            pages[index] = [[p] for p in paragraphs]
    if not any(pages):
        raise ArticleError(f"{name}: no text found, on the text layer or by OCR, skipped")
    running = _running_lines(pages)
    out = PdfText()
    for number, blocks in enumerate(pages, start=1):
        for i, lines in enumerate(_strip_edges(blocks, running)):
            text = join_lines(lines)
            previous = out.blocks[-1] if out.blocks else ""
            if i == 0 and previous and not _SENTENCE_END.search(previous) and text[:1].islower():
                out.blocks[-1] = join_lines([previous, text])  # runs on from the last page
                continue
            out.blocks.append(text)
            out.pages.append(number)
    meta: Any = reader.metadata or {}
    out.title = " ".join(str(meta.get("/Title") or "").split())
    out.author = " ".join(str(meta.get("/Author") or "").split())
    return out
