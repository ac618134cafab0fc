"""E-mail: an .eml file (one message) or an .mbox mailbox (many), read with the standard
library's `email` and `mailbox` (policy.default). Each message is an article: its
subject the title, its sender the author, its Date header the date, its text the plain
part (or the HTML part, read as a page is). Each attachment that is an article (a PDF,
a Word file, a web page, text) is an article of its own whose name says which message
it came from.

What is quoted from earlier mail is not evidence twice: lines quoted with ">", the
"On ... wrote:" line before them, a forwarded or replied-to message under "-----Original
Message-----", and a signature after "-- " are kept as numbered paragraphs (a reader
counts them) but marked, like page furniture, as not the message's own words.

A message's text is decoded by the charset it declares, as mail clients do.
"""

from __future__ import annotations

import mailbox
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import replace
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

from .formats import from_blocks, read_data
from .paragraphs import BOILERPLATE, Article, ArticleError, split_blocks

MAX_MAILBOX_BYTES = 1024 * 1024 * 1024  # an .mbox; each message still counts as one article
MAX_MESSAGE_BYTES = 20 * 1024 * 1024
PROGRESS_FROM = 2000
ATTACHMENT_SUFFIXES = (".pdf", ".docx", ".html", ".htm", ".txt", ".md")

_QUOTED = re.compile(r"^\s*>")
_WROTE = re.compile(r"^(On\b.{4,300}\bwrote|Am\b.{4,300}\bschrieb|Le\b.{4,300}\ba écrit)\s*:\s*$",
                    re.S | re.I)  # fmt: skip
_ORIGINAL = re.compile(r"^-{2,}\s*(Original Message|Forwarded message)\s*-{2,}", re.I)
_SIGNATURE = re.compile(r"^--[ \t]*(\n|$)")  # "-- " alone on a line; often "--"

Warn = Callable[[str], None]


def _parser() -> BytesParser:
    return BytesParser(policy=policy.default)


def read_mail(path: Path, warn: Warn | None = None, progress: bool = False) -> list[Article]:
    """The articles of an .eml or .mbox file; a message that cannot be read is skipped
    with a warning, the others are kept. `progress`: a bar on stderr for a mailbox of
    more than PROGRESS_FROM messages (about a millisecond each)."""
    warn = warn or (lambda msg: None)
    size = path.stat().st_size
    if not size:
        raise ArticleError(f"{path.name}: empty file, skipped")
    if path.suffix.lower() == ".eml":
        if size > MAX_MESSAGE_BYTES:
            raise ArticleError(
                f"{path.name}: {size / 2**20:.1f} MB is over the "
                f"{MAX_MESSAGE_BYTES // 2**20} MB limit for a message, skipped"
            )
        message: EmailMessage = _parser().parsebytes(path.read_bytes())  # type: ignore[assignment]
        if not message.keys():
            raise ArticleError(f"{path.name}: not an e-mail (no headers), skipped")
        articles = _message(message, path, "", warn)
    else:
        if size > MAX_MAILBOX_BYTES:
            raise ArticleError(
                f"{path.name}: {size / 2**30:.1f} GB is over the "
                f"{MAX_MAILBOX_BYTES // 2**30} GB limit for a mailbox, skipped"
            )
        articles = []
        for n, message in _mailbox(path, warn, progress):
            articles.extend(_message(message, path, f"message {n}", warn))
    if not articles:
        raise ArticleError(f"{path.name}: no message with text found, skipped")
    return articles


def _mailbox(path: Path, warn: Warn, progress: bool) -> Iterator[tuple[int, EmailMessage]]:
    """Each message of a mailbox, read one at a time (the mailbox keeps only where each
    starts), numbered from 1 in file order."""
    box = mailbox.mbox(path, factory=None, create=False)
    keys = list(box.iterkeys())
    bar = None
    if progress and len(keys) > PROGRESS_FROM:
        from tqdm import tqdm

        bar = tqdm(total=len(keys), desc=f"reading {path.name}", unit="msg", file=sys.stderr)
    try:
        for n, key in enumerate(keys, start=1):
            if bar is not None:
                bar.update(1)
            try:
                data = box.get_bytes(key)
                if len(data) > MAX_MESSAGE_BYTES:
                    warn(
                        f"{path.name}: message {n} is over {MAX_MESSAGE_BYTES // 2**20} MB, skipped"
                    )
                    continue
                yield n, _parser().parsebytes(data)  # type: ignore[misc]
            except Exception as exc:  # one damaged message must not lose the mailbox
                warn(f"{path.name}: message {n} could not be read ({type(exc).__name__}), skipped")
    finally:
        if bar is not None:
            bar.close()
        box.close()


def _header(message: EmailMessage, name: str) -> str:
    try:
        return " ".join(str(message.get(name, "") or "").split())
    except Exception:  # a malformed header: unknown, not fatal
        return ""


def _sender(message: EmailMessage) -> str:
    try:
        addresses = message["from"].addresses if message["from"] else ()
    except Exception:
        return _header(message, "from")
    if not addresses:
        return _header(message, "from")
    first = addresses[0]
    return str(first.display_name or first.addr_spec)


def _date(message: EmailMessage) -> str:
    value = _header(message, "date")
    try:
        return parsedate_to_datetime(value).date().isoformat() if value else ""
    except (TypeError, ValueError, IndexError):
        return ""


def _text(part: Any) -> str:
    try:
        content = part.get_content()
    except (LookupError, UnicodeError, AssertionError, KeyError):
        payload = part.get_payload(decode=True) or b""
        content = payload.decode("utf-8", "replace")
    return content if isinstance(content, str) else content.decode("utf-8", "replace")


def _quoted_apart(text: str) -> str:
    """Quoted lines as blocks of their own, so a reply's own words and what it quotes
    are never one paragraph."""
    out: list[str] = []
    previous = None
    for line in text.replace("\r\n", "\n").split("\n"):
        quoted = bool(_QUOTED.match(line))
        if previous is not None and quoted != previous and line.strip():
            out.append("")
        out.append(line)
        if line.strip():
            previous = quoted
    return "\n".join(out)


def body_blocks(message: EmailMessage) -> tuple[list[str], set[int]]:
    """The message's own text as blocks, and which of them are quoted from earlier mail
    or its signature (not evidence)."""
    body = message.get_body(preferencelist=("plain", "html"))
    if body is None:
        return [], set()
    text = _text(body)
    if body.get_content_subtype() == "html":
        from .webpage import plain_text

        blocks = plain_text(text).blocks
    else:
        blocks = split_blocks(_quoted_apart(text))
    quoted: set[int] = set()
    rest = False  # everything after an "Original Message" line or a signature
    for i, block in enumerate(blocks):
        lines = [ln for ln in block.split("\n") if ln.strip()]
        if rest or all(_QUOTED.match(ln) for ln in lines):
            quoted.add(i)
        elif _WROTE.match(block) or _ORIGINAL.match(block) or _SIGNATURE.match(block):
            quoted.add(i)
            rest = rest or bool(_ORIGINAL.match(block) or _SIGNATURE.match(block))
    return blocks, quoted


def _message(message: EmailMessage, path: Path, part: str, warn: Warn) -> list[Article]:
    where = f"{path.name} › {part}" if part else path.name
    fields = {"title": _header(message, "subject"), "author": _sender(message),
              "date": _date(message)}  # fmt: skip
    out: list[Article] = []
    blocks, quoted = body_blocks(message)
    if blocks and len(quoted) < len(blocks):
        # A message has no headings: a short first line ("Hello all,") is its text.
        article = from_blocks(path, blocks, fields, title_first=False, headings=set())
        paragraphs = [
            replace(p, kind=BOILERPLATE, why="quoted from earlier mail") if i in quoted else p
            for i, p in enumerate(article.paragraphs)
        ]
        if not fields["title"]:
            article.title = f"(no subject) {fields['author']}".strip()
        out.append(
            replace(article, paragraphs=paragraphs, part=part, headline=bool(fields["title"]))
        )
    for attachment in message.iter_attachments():
        out.extend(_attachment(attachment, path, part, where, fields, warn))
    return out


def _attachment(
    attachment: Any, path: Path, part: str, where: str, fields: dict[str, str], warn: Warn
) -> list[Article]:
    name = Path(str(attachment.get_filename() or "")).name
    if not name or Path(name).suffix.lower() not in ATTACHMENT_SUFFIXES:
        return []
    label = f"{part}, attachment {name}" if part else f"attachment {name}"
    try:
        content = attachment.get_content()
        data = content.encode("utf-8") if isinstance(content, str) else bytes(content)
        if len(data) > MAX_MESSAGE_BYTES:
            raise ArticleError(f"{where} › {name}: over {MAX_MESSAGE_BYTES // 2**20} MB, skipped")
        article = read_data(data, Path(name), name=f"{where} › {name}")
    except ArticleError as exc:
        warn(str(exc))
        return []
    except Exception as exc:
        warn(f"{where} › {name}: could not be read ({type(exc).__name__}), skipped")
        return []
    # Sent with the message: its date and sender stand in for what the file does not say.
    return [replace(article, path=path, part=label, date=article.date or fields["date"],
                    author=article.author or fields["author"])]  # fmt: skip
