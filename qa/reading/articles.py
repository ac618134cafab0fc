"""Read article files into numbered paragraphs, marking what is not evidence.

A paragraph is a block of lines between blank lines, numbered from 1 over the blocks
of the file as a reader counts them. Numbers never skip a block we drop, so a
citation's paragraph number is the one a person finds in the file. The first block is
the title only when it looks like one; front matter (`title:`, `date:`, `author:`,
`url:`) is read when a text file starts with it. Web pages (qa.reading.webpage), PDFs
(qa.reading.pdf) and Word files (qa.reading.word) are numbered over the blocks of their
extracted text (qa.reading.formats); an e-mail file or mailbox holds one article per
message and per attachment (qa.reading.mail).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from .boilerplate import classify
from .formats import decode, from_blocks, front_matter, iso_date, read_data
from .mail import read_mail
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
from .word import LEGACY, legacy_hint

__all__ = [
    "BODY", "BOILERPLATE", "FRONT_MATTER", "HEADING", "TITLE", "Article", "ArticleError",
    "Paragraph", "classify", "decode", "find_articles", "from_blocks", "front_matter",
    "html_to_text", "iso_date", "read_article", "read_articles", "read_data", "split_blocks",
]  # fmt: skip

SUFFIXES = (".txt", ".md", ".html", ".htm", ".pdf", ".docx", ".eml", ".mbox", ".png", ".jpg",
            ".jpeg")  # fmt: skip
MAIL_SUFFIXES = (".eml", ".mbox")
MAX_FILE_BYTES = 20 * 1024 * 1024
KINDS = "a .txt, .md, .html, .pdf, .docx, .eml, .mbox, .png or .jpg file"


def check_size(path: Path, name: str) -> None:
    """ArticleError if the file at `path` (called `name`) is too large for one article."""
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise ArticleError(
            f"{name}: {size / (1024 * 1024):.1f} MB is over the "
            f"{MAX_FILE_BYTES // (1024 * 1024)} MB limit for one article, skipped"
        )


def read_article(path: Path) -> Article:
    """The one article a file holds (an e-mail or a mailbox holds several: read_articles)."""
    check_size(path, path.name)
    return read_data(path.read_bytes(), path)


def read_articles(
    path: Path, warn: Callable[[str], None] | None = None, progress: bool = False
) -> list[Article]:
    """Every article a file holds: one for most files; each message of an e-mail file or
    mailbox, and each attachment that is an article (qa.reading.mail)."""
    suffix = path.suffix.lower()
    if suffix in MAIL_SUFFIXES:
        return read_mail(path, warn, progress)
    return [read_article(path)]


def _walk(folder: Path, warnings: list[str]) -> list[Path]:
    """Article files in a folder and its subfolders. Symbolic links are not followed:
    one to a file outside the folder would index (and quote) a file the user did not
    put there, one inside it would index the same article twice. Linked folders are
    not entered (no loops)."""
    root = folder.resolve()
    found = []
    for p in sorted(folder.rglob("*")):
        if p.name.startswith("."):
            continue
        if p.suffix.lower() in LEGACY and p.is_file():
            warnings.append(legacy_hint(p.name, p.suffix.lower()))
            continue
        if p.suffix.lower() not in SUFFIXES:
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
            elif path.suffix.lower() in LEGACY:
                warnings.append(legacy_hint(path.name, path.suffix.lower()))
            else:
                warnings.append(f"{path.name}: not {KINDS}, skipped")
        else:
            warnings.append(f"{path}: no such file or folder")
    return found, warnings
