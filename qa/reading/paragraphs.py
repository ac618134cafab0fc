"""An article as numbered paragraphs: the types every reader (text, web page, PDF)
produces, and the split of text into blocks between blank lines."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

BODY = "body"
TITLE = "title"
HEADING = "heading"
BOILERPLATE = "boilerplate"
FRONT_MATTER = "front matter"


class ArticleError(ValueError):
    """A file that cannot be read as an article; the message says why."""


@dataclass(frozen=True)
class Paragraph:
    number: int
    text: str
    kind: str = BODY
    heading: str = ""
    why: str = ""
    page: int = 0  # a PDF's page (1-based) where the paragraph starts; 0 elsewhere

    @property
    def content_hash(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


@dataclass
class Article:
    path: Path
    title: str
    paragraphs: list[Paragraph] = field(default_factory=list)
    # Where the article says it comes from: ISO date (YYYY-MM-DD), byline, site name,
    # canonical address; "" when unknown.
    date: str = ""
    author: str = ""
    site: str = ""
    url: str = ""
    # True when `title` is the article's own headline (its first line, front matter or
    # the page's metadata) rather than its file name: only a headline is indexed.
    headline: bool = True
    # Which of several articles in one file this is ("message 3", "attachment
    # report.pdf"); "" for a file that is one article.
    part: str = ""

    @property
    def source(self) -> str:
        return f"{self.path.name} › {self.part}" if self.part else self.path.name

    @property
    def evidence(self) -> list[Paragraph]:
        return [p for p in self.paragraphs if p.kind == BODY]


_HYPHEN_BREAK = re.compile(r"(?<=[^\W\d_])-$")


def join_lines(lines: list[str]) -> str:
    """The lines of one paragraph as one line; a word broken by a hyphen at a line's end
    (followed by a lower-case letter) is made whole again."""
    text = ""
    for line in lines:
        if not text:
            text = line
        elif _HYPHEN_BREAK.search(text) and line[:1].islower():
            text = text[:-1] + line
        else:
            text += " " + line
    return text


_BLANK_LINE = re.compile(r"\n[ \t\f\v\u00a0\u200b]*\n")


def split_blocks(text: str) -> list[str]:
    """Blocks between blank lines, each stripped of surrounding whitespace."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    # A block that is only zero-width spaces is blank too (str.strip keeps them).
    return [b.strip() for b in _BLANK_LINE.split(text) if b.replace("\u200b", "").strip()]
