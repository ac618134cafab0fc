"""How an answer looks in the chat: the text with footnote markers, notes, and the cited
(or related) paragraphs, expandable; HTML only, no Gradio."""

from __future__ import annotations

import html
import re

from ..answering.answer import Answer, Citation
from ..reading.sources import origin, position

SHOWN_QUESTION_CHARS = 400  # a pasted wall of text is cut in the chat bubble, not in the query

_MARKER = re.compile(r"\[(\d+)\]")


def esc(text: str) -> str:
    return html.escape(text, quote=True)


_FLAG = re.compile(r"⚠️ \((not found in (?:\[\d+\](?:, )?)+|no citation)\)")


def answer_html(text: str, short: str = "") -> str:
    """The answer text (Markdown still applies) with each [n] as a footnote marker, the
    short answer it starts with in bold, and a sentence its sources do not support
    marked as such."""
    body = html.escape(text, quote=False)
    lead = html.escape(short, quote=False)
    if lead and body.startswith(lead):
        body = f'<strong class="qa-short">{lead}</strong>{body[len(lead) :]}'
    body = _FLAG.sub(lambda m: f'<span class="qa-flag">⚠️ ({m.group(1)})</span>', body)
    return _MARKER.sub(r'<sup class="qa-cite qa-cite-\1" title="Source \1">[\1]</sup>', body)


def _paragraph(c: Citation, highlight: bool) -> str:
    text = esc(c.text)
    if highlight and c.sentence:
        sentence = esc(c.sentence)
        if sentence in text:
            text = text.replace(sentence, f"<mark>{sentence}</mark>", 1)
    heading = f'<div class="qa-heading">{esc(c.heading)}</div>' if c.heading else ""
    link = ""
    if c.url.startswith(("http://", "https://")):
        link = (
            f'<div class="qa-url"><a href="{esc(c.url)}" target="_blank" '
            f'rel="noopener noreferrer">{esc(c.url)}</a></div>'
        )
    return heading + text.replace("\n", "<br>") + link


def details(c: Citation, numbered: bool = True) -> str:
    """One paragraph, collapsed to its title, file and number; no blank line inside,
    which would end the HTML block in Markdown."""
    label = f"[{c.n}] " if numbered else ""
    about = origin(c)
    summary = (
        f'{label}<span class="qa-title">{esc(c.title or c.source)}</span> '
        f'<span class="qa-where">— {esc(c.source)}, {position(c)}</span>'
        + (f' <span class="qa-origin">· {esc(about)}</span>' if about else "")
    )
    body = _paragraph(c, highlight=numbered)
    if c.also_in:
        others = len({str(o.get("source", "")) for o in c.also_in})
        where = "; ".join(f"{o.get('source', '')}, paragraph {o.get('paragraph', '')}"
                          for o in c.also_in)  # fmt: skip
        summary += (
            f' <span class="qa-also-in" title="{esc(where)}">· also in {others} '
            f"article{'s' * (others != 1)}</span>"
        )
    return (
        f'<details class="qa-source-{c.n}"><summary>{summary}</summary>'
        f"<blockquote>{body}</blockquote></details>"
    )


def render(answer: Answer, seconds: float | None = None) -> str:
    """The finished answer: text with markers, notes, then Sources (or Related)."""
    blocks: list[str] = []
    if answer.abstained:
        blocks.append(f'<div class="qa-abstain">{esc(answer.text)}</div>')
    else:
        blocks.append(answer_html(answer.text, answer.short))
    standalone = " ".join(answer.standalone_question.split())
    if standalone and standalone.lower() != " ".join(answer.question.split()).lower():
        # A follow-up, rewritten with what it refers to: the user sees what was searched.
        blocks.append(
            f'<div class="qa-note qa-understood">Understood as: “{esc(standalone)}”</div>'
        )
    if answer.fallback:
        blocks.append(
            '<div class="qa-note qa-fallback">⚠️ The model could not be used: '
            "this is the offline answer, quoted from the articles.</div>"
        )
    blocks.extend(f'<div class="qa-note">{esc(note)}</div>' for note in answer.notes)
    if answer.abstained:
        if answer.related:
            items = "".join(details(c, numbered=False) for c in answer.related)
            blocks.append(
                '<div class="qa-related"><div class="qa-list-title">Related '
                '<span class="qa-hint">— the closest paragraphs, which do not answer it</span>'
                f"</div>{items}</div>"
            )
    elif answer.citations:
        items = "".join(details(c, numbered=True) for c in answer.citations)
        blocks.append(
            f'<div class="qa-sources"><div class="qa-list-title">Sources</div>{items}</div>'
        )
    # A fallback is the offline answerer's work, whichever model was configured.
    meta = "answered by extractive" if answer.fallback else f"answered by {answer.answerer}"
    if seconds is not None:
        meta += f" in {seconds:.1f} s"
    blocks.append(f'<div class="qa-meta">{esc(meta)}</div>')
    return "\n\n".join(blocks)


def render_partial(text: str) -> str:
    return answer_html(text) + ' <span class="qa-streaming"></span>'


def render_error(message: str) -> str:
    return f'<div class="qa-error">⚠️ {esc(message)}</div>'


def shown_question(question: str) -> str:
    question = question.strip()
    if len(question) > SHOWN_QUESTION_CHARS:
        question = question[:SHOWN_QUESTION_CHARS] + f"… ({len(question):,} characters)"
    return esc(question)
