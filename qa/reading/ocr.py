"""Scanned pages read by OCR: images (.png, .jpg) and the pages of a PDF that have no
text layer, rasterised with pypdfium2, read by Debian's tesseract-ocr.

tesseract was chosen by measuring (bench/ocr_engines.md): on pages made from news text
it kept 93-100% of the words against 2-60% for rapidocr-onnxruntime, whose bundled
models are trained for Chinese and run English words together, at about the same time
per page. It is a program, not a wheel: `make install`'s step installs it where it can,
and a scan met without it is refused with a message saying how to install it.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from typing import Any

from .paragraphs import ArticleError, join_lines, split_blocks

DPI = 300  # what tesseract reads best; a scan's own pixels are used for images
TIMEOUT = 120  # seconds for one page
MAX_PIXELS = 60_000_000  # an image larger than this is not a page (decompression bomb)
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


def available() -> bool:
    return shutil.which("tesseract") is not None


def _missing(name: str) -> ArticleError:
    return ArticleError(
        f"{name}: a scanned page needs OCR and tesseract is not installed, skipped; "
        "install it (`apt-get install tesseract-ocr`, which `make install` does as root)"
    )


def read_text(image: Any, name: str) -> str:
    """The text tesseract reads on one page image."""
    if not available():
        raise _missing(name)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    try:
        done = subprocess.run(
            ["tesseract", "stdin", "stdout", "-l", "eng", "--psm", "3"],
            input=buffer.getvalue(), capture_output=True, timeout=TIMEOUT, check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        raise ArticleError(f"{name}: OCR took over {TIMEOUT} s for one page, skipped") from None
    if done.returncode != 0:
        why = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["failed"]
        raise ArticleError(f"{name}: OCR failed ({why[0][:120]}), skipped")
    return done.stdout.decode("utf-8", "replace")


def paragraphs_of(text: str) -> list[str]:
    """OCR text as paragraphs: tesseract leaves a blank line between them; the lines of
    one are joined, a word broken by a hyphen at a line's end made whole again."""
    out: list[str] = []
    for block in split_blocks(text.replace("\x0c", "\n")):
        joined = join_lines([ln.strip() for ln in block.split("\n") if ln.strip()])
        if re.search(r"\w{2,}", joined):  # speckle read as a stray mark is no paragraph
            out.append(joined)
    return out


def read_image(data: bytes, name: str) -> list[str]:
    """The paragraphs of a scanned page or photo of text."""
    from PIL import Image, UnidentifiedImageError

    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        with Image.open(io.BytesIO(data)) as opened:
            opened.load()
            image = opened.convert("L")
    except Image.DecompressionBombError:
        raise ArticleError(f"{name}: the image is too large to be a page, skipped") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise ArticleError(f"{name}: not a readable image, skipped") from None
    blocks = paragraphs_of(read_text(image, name))
    if not blocks:
        raise ArticleError(f"{name}: no text found in the image, skipped")
    return blocks


def read_pdf_pages(data: bytes, pages: list[int], name: str) -> dict[int, list[str]]:
    """The paragraphs OCR reads on the given pages (0-based) of a PDF."""
    if not available():
        raise _missing(name)
    import pypdfium2

    try:
        document = pypdfium2.PdfDocument(data)
    except Exception as exc:  # pdfium refuses what pypdf read: say so, keep nothing
        raise ArticleError(f"{name}: the scan could not be rasterised ({exc}), skipped") from None
    try:
        out: dict[int, list[str]] = {}
        for index in pages:
            page = document[index]
            image = page.render(scale=DPI / 72, grayscale=True).to_pil()
            out[index] = paragraphs_of(read_text(image, f"{name}, page {index + 1}"))
            page.close()
        return out
    finally:
        document.close()
