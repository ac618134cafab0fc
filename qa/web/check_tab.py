"""The "Check a claim" tab: a claim box, the articles and dates to check it against (the
chat's scope selector), and its verdict (supported, contradicted, or not in the
articles) with the explanation and the sentences against and for it, each cited to its
paragraph (expandable, the sentence highlighted)."""

from __future__ import annotations

import logging
import time
from typing import Any

import gradio as gr

from ..desk.claims import check
from ..desk.verdict import CONTRADICTED, SUPPORTED, Verdict
from ..errors import QAError
from ..settings import Settings
from .chat_tab import refreshed_scope, scope_selector
from .render import answer_html, details, esc, render_error

log = logging.getLogger("qa.app")

EXAMPLES = [
    "The US gave Panama $8 million for deportation flights.",
    "30,000 people have benefited from Safe Mobility.",
    "Panama's president resigned in 2022.",
]
_LABELS = {SUPPORTED: "Supported", CONTRADICTED: "Contradicted"}


def render_verdict(v: Verdict, seconds: float | None = None) -> str:
    """The verdict as HTML: badge, explanation with markers, notes, then Against / For
    (or the related paragraphs when the articles do not address it)."""
    label = _LABELS.get(v.verdict, "Not in the articles")
    kind = v.verdict.replace(" ", "-")
    badge = f'<div class="qa-verdict-label qa-verdict-{kind}">{label}</div>'
    if v.confidence > 0 and not v.fallback and v.checker == "extractive":
        # The checker's probability of the verdict shown (qa.desk.claim_gate), "not in the
        # articles" included.
        badge += f' <span class="qa-confidence">confidence {v.confidence:.2f}</span>'
    blocks = [
        badge,
        f"<div>{answer_html(v.explanation)}</div>",
    ]
    if v.fallback:
        blocks.append(
            '<div class="qa-note qa-fallback">⚠️ The model\'s verdict could not be used: '
            "this is the offline verdict, from the articles' sentences.</div>"
        )
    blocks.extend(f'<div class="qa-note">{esc(note)}</div>' for note in v.notes)
    lists = (("Against the claim", v.contradicting), ("For the claim", v.supporting))
    for title, citations in lists:
        if citations:
            items = "".join(details(c, numbered=True) for c in citations)
            blocks.append(
                f'<div class="qa-sources"><div class="qa-list-title">{title}</div>{items}</div>'
            )
    if v.related and not v.citations:
        items = "".join(details(c, numbered=False) for c in v.related)
        blocks.append(
            '<div class="qa-related"><div class="qa-list-title">Related '
            '<span class="qa-hint">— the closest paragraphs, which neither state nor '
            f"contradict it</span></div>{items}</div>"
        )
    meta = f"checked by {'extractive' if v.fallback else v.checker}"
    if seconds is not None:
        meta += f" in {seconds:.1f} s"
    blocks.append(f'<div class="qa-meta">{esc(meta)}</div>')
    # "message-content": a click on a marker opens the source inside this verdict.
    return f'<div class="message-content qa-checked">{"".join(blocks)}</div>'


def check_html(
    claim: str,
    settings: Settings,
    sources: list[str] | None = None,
    since: str | None = None,
    until: str | None = None,
) -> str:
    """The verdict's HTML, or the error's; sources (article paths), since and until scope
    it (qa.search.scope), and the verdict says so."""
    started = time.perf_counter()
    try:
        verdict = check(claim, settings, sources=sources or None, since=since, until=until)
    except QAError as exc:
        return render_error(str(exc))
    except Exception:
        log.exception("checking %r failed", (claim or "")[:200])
        return render_error("Something went wrong while checking. The server log has the details.")
    return render_verdict(verdict, time.perf_counter() - started)


def check_tab(settings: Settings, demo: gr.Blocks | None = None) -> None:
    """The tab, laid out and wired inside the gr.Blocks being built."""
    with gr.Tab("Check a claim", elem_id="qa-check-tab") as tab:
        gr.Markdown(
            "Type a claim: the articles' sentences for and against it are shown, each "
            "cited, or you are told that the articles do not address it."
        )
        with gr.Row():
            box = gr.Textbox(
                elem_id="qa-claim",
                show_label=False,
                placeholder="A claim to check against the articles, then press Enter",
                scale=8,
                lines=1,
                max_lines=6,
            )
            button = gr.Button("Check", variant="primary", scale=1, min_width=80)
        articles, since, until = scope_selector("qa-check-scope")
        gr.Examples(EXAMPLES, inputs=box, label="Examples")
        out = gr.HTML(elem_id="qa-verdict")

    def run(claim: str, sources: list[str] | None, since: str | None, until: str | None) -> str:
        return check_html(claim, settings, sources, since, until)

    def refresh(chosen: list[str] | None) -> Any:
        return refreshed_scope(settings, chosen)

    inputs = [box, articles, since, until]
    ui: dict[str, Any] = {"api_visibility": "undocumented"}
    box.submit(run, inputs, out, **ui)
    button.click(run, inputs, out, **ui)
    tab.select(refresh, articles, articles, show_progress="hidden", **ui)
    if demo is not None:
        demo.load(refresh, articles, articles, show_progress="hidden", **ui)
