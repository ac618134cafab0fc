"""Read an article file into numbered paragraphs, marking what is not evidence.

A paragraph is a block of lines between blank lines, numbered from 1 over the blocks
of the file as a reader counts them; block 1 is the title. Numbers never skip a block
we drop, so a citation's paragraph number is the one a person finds in the file.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

SUFFIXES = (".txt", ".md", ".html", ".htm")
MAX_FILE_BYTES = 20 * 1024 * 1024

BODY = "body"
TITLE = "title"
HEADING = "heading"
BOILERPLATE = "boilerplate"


class ArticleError(ValueError):
    """A file that cannot be read as an article; the message says why."""


@dataclass(frozen=True)
class Paragraph:
    number: int
    text: str
    kind: str = BODY
    heading: str = ""
    why: str = ""

    @property
    def content_hash(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


@dataclass
class Article:
    path: Path
    title: str
    paragraphs: list[Paragraph] = field(default_factory=list)

    @property
    def source(self) -> str:
        return self.path.name

    @property
    def evidence(self) -> list[Paragraph]:
        return [p for p in self.paragraphs if p.kind == BODY]


_BLANK_LINE = re.compile(r"\n[ \t\f\v\u00a0\u200b]*\n")


def split_blocks(text: str) -> list[str]:
    """Blocks between blank lines, each stripped of surrounding whitespace."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    # A block that is only zero-width spaces is blank too (str.strip keeps them).
    return [b.strip() for b in _BLANK_LINE.split(text) if b.replace("\u200b", "").strip()]


# --- boilerplate -------------------------------------------------------------------

_TEASER_HEADER = re.compile(
    r"^(also read|read more|read also|related( articles| stories| news)?|"
    r"more from [\w ]+|recommended( for you)?|you may also like|trending( now)?|"
    r"latest news|more stories|most read|popular( stories)?)\s*:?$",
    re.IGNORECASE,
)
_TIMESTAMP = re.compile(
    r"^[\w&' -]{1,40}\|\s*(\d+\s+(second|minute|hour|day|week|month|year)s?\s+ago|"
    r"just now|yesterday)$",
    re.IGNORECASE,
)
_SINGLE_LINE_JUNK = re.compile(
    r"^(leave a (reply|comment)|post a comment|comments?|share( this( article| story)?)?|"
    r"share on \w+|follow us( on \w+)?|subscribe( now| to our newsletter)?|sign up.*newsletter.*|"
    r"click here.*|advertisement|sponsored|print|email|tags?:.*|"
    r"\(?\[?email\s*(&#160;)?protected\]?\)?|"
    r"all rights reserved\.?|©.*|copyright ©?.*\d{4}.*)$",
    re.IGNORECASE,
)
_DISCLAIMER = re.compile(
    r"^(disclaimer\b|the copyright of this article|this article (is|was) (re)?published|"
    r"reposting this article)",
    re.IGNORECASE,
)
# The name must be capitalised: "I am told the writing..." in a quote is not a bio.
_BIO = re.compile(
    r"^(?i:i'm|i am|i’m)\s+[A-Z][\w.'’-]+(\s+[A-Z][\w.'’-]+)*\b.*\b(?i:writ\w*|journalis\w*|"
    r"content|blog\w*|editor|reporter|author|specialize|passionate)\b",
    re.DOTALL,
)
_THIRD_PERSON_BIO = re.compile(
    r"^[A-Z][\w'’-]+(\s+[A-Z][\w'’-]+){1,3}\s+is\s+an?\s+([\w-]+\s+){0,4}"
    r"(writer|journalist|reporter|editor|correspondent|contributor|columnist)\b",
)
_SENTENCE_END = re.compile(r"[.!?:;,…\"”'’)]$")


def _looks_like_heading(block: str) -> bool:
    words = block.split()
    return (
        "\n" not in block
        and 0 < len(words) <= 10
        and len(block) <= 80
        and not _SENTENCE_END.search(block)
        and block[:1].isupper()
    )


def _looks_like_name(block: str) -> bool:
    words = block.split()
    return 1 < len(words) <= 4 and all(w[:1].isupper() for w in words) and "\n" not in block


def _is_teaser(block: str) -> bool:
    return bool(
        _TIMESTAMP.match(block)
        or block.endswith(("...", "…"))
        or (_looks_like_heading(block) or len(block) <= 160)
    )


def classify(blocks: list[str]) -> list[Paragraph]:
    """Number the blocks and mark title, headings and boilerplate (with the reason)."""
    kinds: list[tuple[str, str]] = [(BODY, "")] * len(blocks)
    if blocks:
        kinds[0] = (TITLE, "")
    in_teasers = False
    for i, block in enumerate(blocks[1:], start=1):
        if in_teasers and _is_teaser(block):
            kinds[i] = (BOILERPLATE, "teaser list")
            continue
        in_teasers = False
        if _TEASER_HEADER.match(block):
            kinds[i] = (BOILERPLATE, "teaser list")
            in_teasers = True
        elif _TIMESTAMP.match(block):
            kinds[i] = (BOILERPLATE, "teaser list")
        elif _SINGLE_LINE_JUNK.match(block):
            kinds[i] = (BOILERPLATE, "page furniture")
        elif _DISCLAIMER.match(block):
            kinds[i] = (BOILERPLATE, "copyright disclaimer")
        elif _BIO.match(block) or _THIRD_PERSON_BIO.match(block):
            kinds[i] = (BOILERPLATE, "author bio")
            if i > 1 and _looks_like_name(blocks[i - 1]):
                kinds[i - 1] = (BOILERPLATE, "author bio")

    paragraphs: list[Paragraph] = []
    for i, block in enumerate(blocks):
        kind, why = kinds[i]
        nxt = kinds[i + 1][0] if i + 1 < len(blocks) else None
        if kind == BODY and nxt == BODY and _looks_like_heading(block):
            kind = HEADING
        paragraphs.append(Paragraph(number=i + 1, text=block, kind=kind, why=why))

    # A heading belongs to the paragraph it heads: carry its words there for retrieval.
    for i, p in enumerate(paragraphs[:-1]):
        if p.kind == HEADING:
            nxt_p = paragraphs[i + 1]
            paragraphs[i + 1] = Paragraph(nxt_p.number, nxt_p.text, nxt_p.kind, heading=p.text)
    return paragraphs


# --- reading files -----------------------------------------------------------------

_BLOCK_TAGS = {
    "p", "div", "br", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol", "section",
    "article", "blockquote", "pre", "table", "tr", "header", "footer", "main", "figure",
    "figcaption", "hr", "dd", "dt", "title",
}  # fmt: skip
# Not "head": its end tag is optional, and an unclosed <head> would hide the whole body.
_SKIP_TAGS = {"script", "style", "noscript", "template", "svg", "nav", "form", "iframe"}


class _TextExtractor(HTMLParser):
    """Visible text with a blank line at every block boundary; no recursion, so deep
    nesting costs nothing."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[str] = []
        self.current: list[str] = []
        self.skip_depth = 0
        self.title = ""
        self.in_title = False

    def _flush(self) -> None:
        text = re.sub(r"\s+", " ", "".join(self.current)).strip()
        if text:
            self.blocks.append(text)
        self.current = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self.in_title = not self.skip_depth  # an <svg><title> is an icon's label
        elif tag in _SKIP_TAGS:
            self.skip_depth += 1
        elif tag in _BLOCK_TAGS:
            self._flush()

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self.in_title = False
        elif tag in _SKIP_TAGS:
            self.skip_depth = max(0, self.skip_depth - 1)
        elif tag in _BLOCK_TAGS:
            self._flush()

    def handle_data(self, data: str) -> None:
        if self.in_title:
            self.title += data
        elif not self.skip_depth:
            self.current.append(data)

    def text(self) -> str:
        self._flush()
        blocks = list(self.blocks)
        title = re.sub(r"\s+", " ", self.title).strip()
        if title and (not blocks or blocks[0] != title):
            blocks.insert(0, title)
        return "\n\n".join(blocks)


def html_to_text(html: str) -> str:
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    return parser.text()


def decode(data: bytes, name: str) -> str:
    """UTF-8 or a clear refusal: guessing a legacy encoding could put wrong characters
    into quoted evidence, so a non-UTF-8 file is skipped and the user told to convert it."""
    if not data.strip():
        raise ArticleError(f"{name}: empty file, skipped")
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


def check_size(path: Path, name: str) -> None:
    """ArticleError if the file at `path` (called `name`) is too large for one article."""
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise ArticleError(
            f"{name}: {size / (1024 * 1024):.1f} MB is over the "
            f"{MAX_FILE_BYTES // (1024 * 1024)} MB limit for one article, skipped"
        )


def read_article(path: Path) -> Article:
    check_size(path, path.name)
    text = decode(path.read_bytes(), path.name)
    if path.suffix.lower() in (".html", ".htm"):
        text = html_to_text(text)
    blocks = split_blocks(text)
    if not blocks:
        raise ArticleError(f"{path.name}: no text found, skipped")
    paragraphs = classify(blocks)
    title = paragraphs[0].text.lstrip("# ").strip()
    return Article(path=path, title=title, paragraphs=paragraphs)


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
                warnings.append(f"{path.name}: not a .txt, .md or .html file, skipped")
        else:
            warnings.append(f"{path}: no such file or folder")
    return found, warnings
