"""The chat page put together: theme, styles and script, the title and status line, the
Chat, Check a claim, Quotes, Timeline and Articles tabs, and the `/ask` endpoint for
programs."""

from __future__ import annotations

from typing import Any

import gradio as gr
from gradio.events import api as gradio_api

from ..errors import QAError
from ..service import ask
from ..settings import Settings
from .articles_tab import articles_tab
from .chat_tab import chat_tab
from .check_tab import check_tab
from .quotes_tab import quotes_tab
from .timeline_tab import timeline_tab

# The system's own fonts: nothing to download, and every glyph in every weight.
THEME = gr.themes.Default(
    font=["ui-sans-serif", "system-ui", "Segoe UI", "Roboto", "sans-serif"],
    font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace"],
)

CSS = """
#qa-status { font-size: 0.9em; color: var(--body-text-color-subdued); }
#qa-status p { margin: 0; }
.qa-cite { color: var(--color-accent); font-weight: 600; cursor: pointer; }
.qa-sources, .qa-related { margin-top: 0.6em; padding-top: 0.4em;
  border-top: 1px solid var(--border-color-primary); }
.qa-list-title { font-weight: 600; font-size: 0.85em; letter-spacing: 0.04em;
  text-transform: uppercase; color: var(--body-text-color-subdued); }
.qa-hint { font-weight: 400; text-transform: none; letter-spacing: 0; }
.qa-sources details, .qa-related details { margin: 0.25em 0; }
.qa-sources summary, .qa-related summary { cursor: pointer; }
.qa-where, .qa-origin { color: var(--body-text-color-subdued); font-size: 0.9em; }
.qa-url { font-size: 0.85em; margin-top: 0.3em; word-break: break-all; }
.qa-sources blockquote, .qa-related blockquote { margin: 0.3em 0 0.6em 0.2em;
  padding-left: 0.8em; border-left: 3px solid var(--border-color-primary); }
.qa-sources mark { background: #fde68a; color: #1f2937; padding: 0 0.1em; }
.qa-heading { font-style: italic; color: var(--body-text-color-subdued); }
.qa-abstain { font-style: italic; }
.qa-note { font-size: 0.9em; color: var(--body-text-color-subdued); }
.qa-fallback { color: var(--color-accent); }
.qa-flag { color: var(--color-accent); font-weight: 600; }
.qa-error { color: var(--error-text-color, #b91c1c); }
.qa-verdict-label { display: inline-block; font-weight: 700; padding: 0.15em 0.6em;
  border-radius: 0.4em; margin-bottom: 0.5em; border: 1px solid currentColor; }
.qa-confidence { margin-left: 0.5em; font-size: 0.9em; opacity: 0.75; }
.qa-verdict-supported { color: #15803d; }
.qa-verdict-contradicted { color: #b91c1c; }
.qa-verdict-not-in-the-articles { color: var(--body-text-color-subdued); }
.qa-meta { font-size: 0.8em; color: var(--body-text-color-subdued); margin-top: 0.4em; }
.qa-quote { margin: 0.8em 0; padding-bottom: 0.4em;
  border-bottom: 1px solid var(--border-color-primary); }
.qa-quote-title { color: var(--body-text-color-subdued); }
.qa-quote-text { margin: 0.3em 0 0.2em 0.2em; }
.qa-streaming::after { content: "▍"; animation: qa-blink 1s steps(1) infinite; }
@keyframes qa-blink { 50% { opacity: 0; } }
.qa-events { padding-left: 1.4em; }
.qa-event { margin: 0.5em 0 0.9em; }
.qa-when { font-weight: 600; }
.qa-published { font-style: italic; }
.qa-resolved { font-size: 0.85em; color: var(--color-accent); }
.qa-undated { margin-top: 0.8em; padding-top: 0.4em;
  border-top: 1px solid var(--border-color-primary); }
"""

# A click on a footnote marker opens that source in the same message. (The chat's HTML
# sanitizer drops data- attributes, so the number travels in a class name.)
JS = """
() => {
  document.addEventListener("click", (event) => {
    const mark = event.target.closest && event.target.closest(".qa-cite");
    if (!mark) return;
    const n = [...mark.classList].find((c) => c.startsWith("qa-cite-"));
    const message = mark.closest(".message-content") || document;
    const source = n && message.querySelector(`.qa-sources .qa-source-${n.slice(8)}`);
    if (source) {
      source.open = true;
      source.scrollIntoView({ block: "nearest", behavior: "smooth" });
    }
  });
}
"""


def ask_endpoint(settings: Settings) -> Any:
    """The `/ask` API endpoint's function (named ask_api, as Gradio lists it)."""

    def ask_api(
        question: str,
        history: list[dict[str, str]] | None = None,
        sources: list[str] | None = None,
        since: str | None = None,
        until: str | None = None,
        site: str | None = None,
    ) -> dict[str, Any]:
        """Answer a question about the articles; sources (file names, paths or titles),
        since/until (YYYY-MM-DD) and site optionally restrict the articles asked.

        Returns {"answer", "abstained", "citations", "related"}; each citation has n,
        source, paragraph, text, score, title and sentence; with a scope, also "scope"
        (the articles asked and the scope in words)."""
        try:
            answer = ask(
                question, history=history or None, settings=settings,
                sources=sources or None, since=since, until=until, site=site,
            )  # fmt: skip
        except QAError as exc:
            raise gr.Error(str(exc)) from None
        out = answer.as_dict()
        keys = ("answer", "abstained", "citations", "related") + ("scope",) * bool(answer.scope)
        return {key: out[key] for key in keys}

    return ask_api


def build(settings: Settings) -> gr.Blocks:
    demo = gr.Blocks(title="Ask the articles", fill_height=True)
    with demo:
        gr.Markdown("# Ask the articles")
        status = gr.Markdown(elem_id="qa-status")
        chat_tab(settings, demo)
        check_tab(settings, demo)
        quotes_tab(settings)
        timeline_tab(settings)
        articles_tab(demo, settings, status)
        gradio_api(ask_endpoint(settings), api_name="ask")
    return demo
