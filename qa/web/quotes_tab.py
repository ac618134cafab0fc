"""The Quotes tab: pick a speaker (everyone the articles quote, one name per person) and
optionally a topic; their quotes are listed, each with the speaker's title, the article
and the cited paragraph (expandable, the quoted words marked)."""

from __future__ import annotations

import logging
from typing import Any

import gradio as gr

from ..desk.quotebook import QuoteItem, book
from ..desk.said import quotes
from ..errors import QAError
from ..settings import Settings
from .render import details, esc, render_error

log = logging.getLogger("qa.app")

EVERYONE = "Everyone"


def speaker_choices(settings: Settings) -> list[str]:
    try:
        return [EVERYONE, *book(settings).speakers()]
    except QAError:
        return [EVERYONE]


def quote_html(item: QuoteItem) -> str:
    """One quote: who (and their title), what, and its paragraph(s) to open."""
    said = f"“{esc(item.text)}”" if item.kind == "direct" else esc(item.text)
    kind = "" if item.kind == "direct" else ' <span class="qa-hint">(reported speech)</span>'
    title = f', <span class="qa-quote-title">{esc(item.title)}</span>' if item.title else ""
    resolved = (
        f'<div class="qa-note">The article says “{esc(item.said_as)}”; '
        f"read as {esc(item.speaker)}, whom it was about.</div>"
        if item.resolved
        else ""
    )
    sources = "".join(details(c) for c in item.citations)
    return (
        f'<div class="qa-quote"><div class="qa-quote-who"><strong class="qa-quote-speaker">'
        f"{esc(item.speaker)}</strong>{title}</div>"
        f'<div class="qa-quote-text">{said}{kind}</div>{resolved}'
        f'<div class="qa-sources">{sources}</div></div>'
    )


def quotes_html(speaker: str | None, topic: str | None, settings: Settings) -> str:
    who = None if not speaker or speaker == EVERYONE else speaker
    try:
        items = quotes(who, settings, about=topic or None)
    except QAError as exc:
        return render_error(str(exc))
    except Exception:
        log.exception("listing quotes failed")
        return render_error("Listing the quotes failed. The server log has the details.")
    if not items:
        about = f" about “{esc(topic)}”" if topic else ""
        return f'<div class="qa-abstain">No quotes{about} in the articles.</div>'
    count = f"{len(items)} quote{'s' * (len(items) != 1)}"
    return f'<div class="qa-list-title">{count}</div>' + "\n".join(quote_html(i) for i in items)


def quotes_tab(settings: Settings) -> None:
    with gr.Tab("Quotes", elem_id="qa-quotes-tab") as tab:
        with gr.Row():
            speaker = gr.Dropdown(
                label="Speaker", choices=[EVERYONE], value=EVERYONE, scale=2,
                elem_id="qa-speaker",
            )  # fmt: skip
            topic = gr.Textbox(
                label="About (optional)", placeholder="a topic, e.g. deportation flights",
                scale=3, elem_id="qa-quote-topic",
            )  # fmt: skip
        listing = gr.HTML(elem_id="qa-quotes")

    def show(who: str | None, about: str | None) -> str:
        return quotes_html(who, about, settings)

    def opened(who: str | None, about: str | None) -> tuple[Any, str]:
        choices = speaker_choices(settings)
        value = who if who in choices else EVERYONE
        return gr.Dropdown(choices=choices, value=value), show(value, about)

    ui: dict[str, Any] = {"api_visibility": "undocumented"}
    tab.select(opened, [speaker, topic], [speaker, listing], **ui)
    speaker.input(show, [speaker, topic], listing, **ui)
    topic.submit(show, [speaker, topic], listing, **ui)
