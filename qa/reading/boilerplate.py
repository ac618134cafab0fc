"""What is not evidence: mark the title, headings and page furniture among an article's
blocks, so that only the article's own text can be quoted and cited.

These rules run on every kind of article, after trafilatura has cut a web page down to
its main text: teaser lists, share lines, bylines and author bios survive extraction on
many news sites.
"""

from __future__ import annotations

import re

from .paragraphs import BODY, BOILERPLATE, FRONT_MATTER, HEADING, TITLE, Paragraph

_TEASER_HEADER = re.compile(
    r"^(also read|read more|read also|related( articles| stories| news)?|"
    r"more from [\w ]+|recommended( for you)?|you may also like|trending( now)?|"
    r"latest news|more stories|most read|popular( stories)?|"
    r"more must[- ]reads?( from [\w ]+)?|more to (read|explore)|editors'? picks)\s*:?$",
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
    r"©.*|copyright ©?.*\d{4}.*)$",
    re.IGNORECASE,
)
# Short lines that sign off an article rather than tell it (an "All rights reserved"
# line among them).
_SIGN_OFF = re.compile(
    r"^(write to .{3,80}\bat\s+\S+@\S+|"
    r".{0,80}\bsign up (for|to)\b.{0,100}|.{0,120}\ball rights reserved\b.{0,80})$",
    re.IGNORECASE | re.DOTALL,
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
# A title may end in ? or ! ("Is this the end of cash?") but not in a full stop or comma.
_TITLE_END = re.compile(r"[.:;,…]$")
_BYLINE = re.compile(r"^(?:[-–—]+\s*)?by\s+(.+)$", re.IGNORECASE)
_BYLINE_JOINERS = {"and", "&", "|", "-", "–", "—", "/", ","}


def looks_like_heading(block: str) -> bool:
    words = block.split()
    return (
        "\n" not in block
        and 0 < len(words) <= 10
        and len(block) <= 80
        and not _SENTENCE_END.search(block)
        and block[:1].isupper()
    )


def looks_like_title(block: str) -> bool:
    """A short single line without sentence-final punctuation. Anything else is body
    text: a note that starts with its first sentence has no title line."""
    text = block.lstrip("#").strip()
    words = text.split()
    return (
        "\n" not in text
        and 0 < len(words) <= 20
        and len(text) <= 160
        and not _TITLE_END.search(text)
        # "iTunes now selling ...", "$1m payoff ...": not a lower-case word first
        and not (text[:1].islower() and words[0].islower())
    )


def byline_name(block: str) -> str:
    """ "By Jane Doe and Ann Lee" -> "Jane Doe and Ann Lee"; "" when the block is not a
    byline ("By Tuesday, the council had voted ..." is a sentence)."""
    m = _BYLINE.match(block.strip())
    if not m or "\n" in block:
        return ""
    words = [w for w in m.group(1).replace(",", " , ").split() if not w.startswith("@")]
    while words and words[-1].lower() in ("follow", "on", "twitter", "x"):
        words.pop()
    names = [w for w in words if w.lower() not in _BYLINE_JOINERS]
    if not 1 <= len(names) <= 8 or not all(w[:1].isupper() for w in names):
        return ""
    return " ".join(words).replace(" , ", ", ").strip(" ,|-")


def _looks_like_name(block: str) -> bool:
    words = block.split()
    return 1 < len(words) <= 4 and all(w[:1].isupper() for w in words) and "\n" not in block


def _is_teaser(block: str) -> bool:
    return bool(
        _TIMESTAMP.match(block)
        or block.endswith(("...", "…"))
        or (looks_like_heading(block) or len(block) <= 160)
    )


def _furniture(block: str) -> str:
    """Why a block is page furniture ("" when it is not), judged on the block alone."""
    if _TIMESTAMP.match(block):
        return "teaser list"
    if _SINGLE_LINE_JUNK.match(block):
        return "page furniture"
    if _DISCLAIMER.match(block):
        return "copyright disclaimer"
    if byline_name(block):
        return "byline"
    if _SIGN_OFF.match(block):
        return "page furniture"
    return ""


def classify(
    blocks: list[str],
    title: bool | None = None,
    skip: int = 0,
    headings: set[int] | None = None,
) -> list[Paragraph]:
    """Number the blocks and mark title, headings and boilerplate (with the reason).

    The first `skip` blocks are front matter. The block after them is the title when
    `title` is True, or, when it is None, when it looks like one. `headings`: the
    indexes of the blocks that are headings, where the file says so (a Word document's
    heading styles); otherwise a heading is known by its shape."""
    kinds: list[tuple[str, str]] = [(BODY, "")] * len(blocks)
    for i in range(min(skip, len(blocks))):
        kinds[i] = (FRONT_MATTER, "front matter")
    first = skip
    if first < len(blocks) and (looks_like_title(blocks[first]) if title is None else title):
        kinds[first] = (TITLE, "")
        first += 1
    in_teasers = False
    for i in range(first, len(blocks)):
        block = blocks[i]
        if in_teasers and _is_teaser(block):
            kinds[i] = (BOILERPLATE, "teaser list")
            continue
        in_teasers = False
        if _TEASER_HEADER.match(block):
            kinds[i] = (BOILERPLATE, "teaser list")
            in_teasers = True
        elif why := _furniture(block):
            kinds[i] = (BOILERPLATE, why)
        elif _BIO.match(block) or _THIRD_PERSON_BIO.match(block):
            kinds[i] = (BOILERPLATE, "author bio")
            if i > first and _looks_like_name(blocks[i - 1]):
                kinds[i - 1] = (BOILERPLATE, "author bio")

    paragraphs: list[Paragraph] = []
    for i, block in enumerate(blocks):
        kind, why = kinds[i]
        nxt = kinds[i + 1][0] if i + 1 < len(blocks) else None
        if kind == BODY and (
            i in headings if headings is not None else nxt == BODY and looks_like_heading(block)
        ):
            kind = HEADING
        paragraphs.append(Paragraph(number=i + 1, text=block, kind=kind, why=why))

    # A heading belongs to the paragraph it heads: carry its words there for retrieval.
    for i, p in enumerate(paragraphs[:-1]):
        if p.kind == HEADING:
            nxt_p = paragraphs[i + 1]
            paragraphs[i + 1] = Paragraph(
                nxt_p.number, nxt_p.text, nxt_p.kind, heading=p.text, page=nxt_p.page
            )
    return paragraphs
