"""The Timeline tab: a topic (or none, for every article), then the dated events in
order, each with its date, how a relative date was resolved, and the cited paragraph;
articles without a publication date listed as such."""

from __future__ import annotations

import logging

import gradio as gr

from ..desk.timeline import Event, Timeline, timeline
from ..errors import QAError
from ..reading.sources import position
from ..settings import Settings
from .render import details, esc, render_error

log = logging.getLogger("qa.app")


def _event_html(e: Event) -> str:
    what = (
        f'<span class="qa-published">Published:</span> {esc(e.sentence)}'
        if e.kind == "published"
        else esc(e.sentence)
    )
    resolved = (
        f'<div class="qa-resolved">resolved from publication date: {esc(e.how)}</div>'
        if e.resolved
        else ""
    )
    return (
        f'<li class="qa-event qa-event-{e.kind}">'
        f'<div class="qa-when" title="{esc(e.when.iso)}">{esc(e.when.label)}</div>'
        f'<div class="qa-event-text">{what}</div>{resolved}'
        f"{details(e.citation, numbered=True)}</li>"
    )


def timeline_html(result: Timeline) -> str:
    """The timeline as HTML: events in order, then the undated articles, then notes."""
    blocks: list[str] = []
    if result.events:
        items = "".join(_event_html(e) for e in result.events)
        blocks.append(f'<ol class="qa-events">{items}</ol>')
    elif not result.undated:
        blocks.append('<div class="qa-abstain">No dated events in the articles.</div>')
    if result.undated:
        rows: list[str] = []
        for a in result.undated:
            found = "".join(
                f'<li class="qa-unresolved">“{esc(u.expression)}” ({position(u.citation)}): '
                f"{details(u.citation, numbered=True)}</li>"
                for u in a.unresolved
            )
            rows.append(
                f'<li class="qa-undated-article"><span class="qa-title">{esc(a.title)}</span> '
                f'<span class="qa-where">— {esc(a.source)}</span>: no publication date'
                + (f"; relative dates not resolved:<ul>{found}</ul>" if found else "")
                + "</li>"
            )
        blocks.append(
            '<div class="qa-undated"><div class="qa-list-title">Undated articles</div>'
            f"<ul>{''.join(rows)}</ul></div>"
        )
    blocks.extend(f'<div class="qa-note">{esc(n)}</div>' for n in result.notes)
    return "\n".join(blocks)


def show_timeline(topic: str | None, settings: Settings) -> str:
    try:
        return timeline_html(timeline(topic or None, settings))
    except QAError as exc:
        return render_error(str(exc))
    except Exception:
        log.exception("timeline for %r failed", (topic or "")[:200])
        return render_error("Building the timeline failed. The server log has the details.")


def timeline_tab(settings: Settings) -> None:
    with gr.Tab("Timeline", elem_id="qa-timeline-tab"):
        with gr.Row():
            topic = gr.Textbox(
                label="Topic (leave empty for every article)",
                placeholder="e.g. deportation flights",
                scale=4,
                elem_id="qa-timeline-topic",
            )
            button = gr.Button("Show timeline", variant="primary", scale=1,
                               elem_id="qa-timeline-show")  # fmt: skip
        out = gr.HTML(elem_id="qa-timeline")

    def show(text: str | None) -> str:
        return show_timeline(text, settings)

    ui: dict[str, object] = {"api_visibility": "undocumented"}
    topic.submit(show, topic, out, **ui)  # type: ignore[arg-type]
    button.click(show, topic, out, **ui)  # type: ignore[arg-type]
