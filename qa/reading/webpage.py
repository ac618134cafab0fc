"""Web pages: the charset, then the main text and metadata through trafilatura.

The charset comes from a byte-order mark, the HTTP header (for a fetched page), the
page's own declaration (`<meta charset>` or `http-equiv`), or detection, in that order,
as browsers do: a page is never refused for not being UTF-8. trafilatura keeps the
article's text and reads its title, author, date, site name and canonical address; a
page it finds no article in (a few lines of plain HTML) is read whole by a small
extractor of our own. The extracted text is the title followed by one block per
paragraph, heading, list item or table row: paragraph numbers count those blocks.
"""

from __future__ import annotations

import codecs
import logging
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

# trafilatura and htmldate log every page they find little in; our warnings say enough.
for _name in ("trafilatura", "htmldate", "courlan"):
    logging.getLogger(_name).setLevel(logging.ERROR)

# What a fetched page's saved copy starts with (see qa.reading.fetch): the address it came from.
SOURCE_COMMENT = re.compile(rb"^\s*<!-- qa-source: (\S+) -->")
_META_CHARSET = re.compile(
    rb"""<meta[^>]+?charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.IGNORECASE
)
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# Browsers read these labels as windows-1252 (WHATWG Encoding Standard), and so must we:
# pages labelled ISO-8859-1 routinely hold curly quotes from the 0x80-0x9F range.
_AS_CP1252 = {"iso8859-1", "ascii", "cp1252"}


@dataclass
class Page:
    """A web page's main text as blocks (the title first, when it has one) and metadata."""

    blocks: list[str]
    title: str = ""
    date: str = ""
    author: str = ""
    site: str = ""
    url: str = ""


def _codec(label: str) -> str | None:
    try:
        name = codecs.lookup(label.strip().strip("\"'")).name
    except LookupError:
        return None
    if name in _AS_CP1252:
        return "cp1252"
    if name.startswith("utf-16"):  # a page that can declare it is ASCII-compatible
        return "utf-8"
    return name


def declared_charset(data: bytes) -> str | None:
    """The charset a page declares in its first 4 KB, as a Python codec name."""
    m = _META_CHARSET.search(data[:4096])
    return _codec(m.group(1).decode("ascii", "replace")) if m else None


def decode_html(data: bytes, header_charset: str | None = None) -> str:
    """The page as text: BOM, then the HTTP header's charset, then the page's own
    declaration, then UTF-8, then detection; windows-1252 with replacement characters
    as the last resort (every byte decodes, so nothing is refused)."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return data.decode(codec, errors="replace")
    candidates = [_codec(header_charset) if header_charset else None, declared_charset(data)]
    for codec in [c for c in candidates if c] + ["utf-8"]:
        try:
            return data.decode(codec)
        except (UnicodeDecodeError, LookupError):
            continue
    from charset_normalizer import from_bytes

    best = from_bytes(data[:200_000]).best()
    if best is not None and best.encoding:
        codec = _codec(best.encoding) or "cp1252"
        try:
            return data.decode(codec)
        except (UnicodeDecodeError, LookupError):
            pass
    return data.decode("cp1252", errors="replace")


def _clean(text: str) -> str:
    lines = [re.sub(r"[ \t\r\f\v\u00a0]+", " ", line).strip() for line in text.split("\n")]
    return "\n".join(line for line in lines if line)


def _element_text(element: Any) -> str:
    """An element's text with <lb/> as a line break."""
    parts: list[str] = []
    for node in element.iter():
        if node.tag == "lb":
            parts.append("\n")
        if node is element:
            parts.append(node.text or "")
        else:
            if node.tag != "lb":
                parts.append(node.text or "")
            parts.append(node.tail or "")
    return _clean("".join(parts))


def _body_blocks(body: Any) -> list[str]:
    """One block per paragraph, heading, quote, list item and table row of trafilatura's
    XML body, in order."""
    blocks: list[str] = []

    def walk(element: Any) -> None:
        for child in element:
            tag = child.tag
            if tag == "list":
                walk(child)
            elif tag == "item" and any(c.tag == "list" for c in child):
                head = _clean(child.text or "")
                if head:
                    blocks.append(head)
                walk(child)
            elif tag == "table":
                for row in child.iter("row"):
                    cells = [_element_text(c) for c in row if c.tag == "cell"]
                    text = " | ".join(c for c in cells if c)
                    if text:
                        blocks.append(text)
            elif tag in ("p", "head", "item", "quote", "code"):
                text = _element_text(child)
                if text:
                    blocks.append(text)
            elif len(child):
                walk(child)
            else:
                text = _element_text(child)
                if text:
                    blocks.append(text)

    walk(body)
    return blocks


def _same(a: str, b: str) -> bool:
    def norm(s: str) -> str:
        return re.sub(r"\W+", " ", s).strip().lower()

    return norm(a) == norm(b)


def read_webpage(data: bytes, header_charset: str | None = None, url: str = "") -> Page:
    """Main text and metadata of a saved or fetched page."""
    import trafilatura

    m = SOURCE_COMMENT.match(data)
    if m and not url:
        url = m.group(1).decode("ascii", "replace")
    html = decode_html(data, header_charset)
    doc: Any = None
    if html.strip():
        try:
            doc = trafilatura.bare_extraction(
                html, url=url or None, with_metadata=True, include_comments=False,
                include_tables=True, deduplicate=False,
            )  # fmt: skip
        except Exception:  # a page lxml cannot parse: our own extractor reads it
            doc = None
    blocks = _body_blocks(doc.body) if doc is not None and doc.body is not None else []
    title = _clean(getattr(doc, "title", None) or "") if doc is not None else ""
    if not blocks:
        fallback = plain_text(html)
        blocks = [b for b in (_clean(x) for x in fallback.blocks) if b]
        title = title or fallback.title
    if title and blocks and _same(blocks[0], title):
        blocks = blocks[1:]
    if title:
        blocks = [title.replace("\n", " "), *blocks]
    page = Page(blocks=blocks, title=title, url=url)
    if doc is not None:
        page.date = str(doc.date or "")
        page.author = _clean(str(doc.author or "")).replace("\n", " ")
        page.site = _clean(str(doc.sitename or "")).replace("\n", " ")
        page.url = str(doc.url or url or "")
    return page


# --- our own extractor, for pages trafilatura finds no article in --------------------

_BLOCK_TAGS = {
    "p", "div", "br", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol", "section",
    "article", "blockquote", "pre", "table", "tr", "header", "footer", "main", "figure",
    "figcaption", "hr", "dd", "dt", "title",
}  # fmt: skip
# Not "head": its end tag is optional, and an unclosed <head> would hide the whole body.
_SKIP_TAGS = {"script", "style", "noscript", "template", "svg", "nav", "form", "iframe"}


@dataclass
class PlainText:
    title: str
    blocks: list[str]


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

    def result(self) -> PlainText:
        self._flush()
        return PlainText(re.sub(r"\s+", " ", self.title).strip(), list(self.blocks))


def plain_text(html: str) -> PlainText:
    """Every visible block of a page, and its <title>."""
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    return parser.result()


def html_to_text(html: str) -> str:
    """The page's <title> and visible blocks as text, blocks between blank lines."""
    page = plain_text(html)
    blocks = page.blocks
    if page.title and (not blocks or blocks[0] != page.title):
        blocks = [page.title, *blocks]
    return "\n\n".join(blocks)
