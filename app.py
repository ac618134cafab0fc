"""The chat page: streamed answers with expandable cited paragraphs, and the Articles tab.

`python app.py` or `qa serve` opens it on 127.0.0.1:7860 (QA_HOST, QA_PORT). Nothing on the
page comes from the network: no analytics, no share link, fonts and scripts served by
the app itself. A named endpoint `/ask` answers for `gradio_client` and other programs.
"""

from __future__ import annotations

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import html  # noqa: E402
import logging  # noqa: E402
import re  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import gradio as gr  # noqa: E402
from gradio.events import api as gradio_api  # noqa: E402

from qa import QAError, Settings, ask  # noqa: E402
from qa.answer import Answer, Citation  # noqa: E402
from qa.articles import MAX_FILE_BYTES, SUFFIXES  # noqa: E402
from qa.library import add_files, delete_article, index_summary, list_articles  # noqa: E402
from qa.service import ask_stream, warm_up  # noqa: E402

log = logging.getLogger("qa.app")

EXAMPLES = [
    "How much money did the US give Panama for the deportation pilot?",
    "Who attended the inauguration of Panama's president?",
    "How many migrants crossed the Darién jungle in 2023?",
]
SHOWN_QUESTION_CHARS = 400  # a pasted wall of text is cut in the chat bubble, not in the query
ARTICLE_COLUMNS = ["Title", "File", "Paragraphs", "Added"]

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
.qa-where { color: var(--body-text-color-subdued); font-size: 0.9em; }
.qa-sources blockquote, .qa-related blockquote { margin: 0.3em 0 0.6em 0.2em;
  padding-left: 0.8em; border-left: 3px solid var(--border-color-primary); }
.qa-sources mark { background: #fde68a; color: #1f2937; padding: 0 0.1em; }
.qa-heading { font-style: italic; color: var(--body-text-color-subdued); }
.qa-abstain { font-style: italic; }
.qa-note { font-size: 0.9em; color: var(--body-text-color-subdued); }
.qa-fallback { color: var(--color-accent); }
.qa-error { color: var(--error-text-color, #b91c1c); }
.qa-meta { font-size: 0.8em; color: var(--body-text-color-subdued); margin-top: 0.4em; }
.qa-streaming::after { content: "▍"; animation: qa-blink 1s steps(1) infinite; }
@keyframes qa-blink { 50% { opacity: 0; } }
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

# --- how an answer looks -------------------------------------------------------------

_MARKER = re.compile(r"\[(\d+)\]")


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def answer_html(text: str) -> str:
    """The answer text (Markdown still applies) with each [n] as a footnote marker."""
    return _MARKER.sub(
        r'<sup class="qa-cite qa-cite-\1" title="Source \1">[\1]</sup>',
        html.escape(text, quote=False),
    )


def _paragraph(c: Citation, highlight: bool) -> str:
    text = _esc(c.text)
    if highlight and c.sentence:
        sentence = _esc(c.sentence)
        if sentence in text:
            text = text.replace(sentence, f"<mark>{sentence}</mark>", 1)
    heading = f'<div class="qa-heading">{_esc(c.heading)}</div>' if c.heading else ""
    return heading + text.replace("\n", "<br>")


def _details(c: Citation, numbered: bool) -> str:
    """One paragraph, collapsed to its title, file and number; no blank line inside,
    which would end the HTML block in Markdown."""
    label = f"[{c.n}] " if numbered else ""
    summary = (
        f'{label}<span class="qa-title">{_esc(c.title or c.source)}</span> '
        f'<span class="qa-where">— {_esc(c.source)}, paragraph {c.paragraph}</span>'
    )
    body = _paragraph(c, highlight=numbered)
    return (
        f'<details class="qa-source-{c.n}"><summary>{summary}</summary>'
        f"<blockquote>{body}</blockquote></details>"
    )


def render(answer: Answer, seconds: float | None = None) -> str:
    """The finished answer: text with markers, notes, then Sources (or Related)."""
    blocks: list[str] = []
    if answer.abstained:
        blocks.append(f'<div class="qa-abstain">{_esc(answer.text)}</div>')
    else:
        blocks.append(answer_html(answer.text))
    standalone = " ".join(answer.standalone_question.split())
    if standalone and standalone.lower() != " ".join(answer.question.split()).lower():
        # A follow-up, rewritten with what it refers to: the user sees what was searched.
        blocks.append(
            f'<div class="qa-note qa-understood">Understood as: “{_esc(standalone)}”</div>'
        )
    if answer.fallback:
        blocks.append(
            '<div class="qa-note qa-fallback">⚠️ The model could not be used: '
            "this is the offline answer, quoted from the articles.</div>"
        )
    blocks.extend(f'<div class="qa-note">{_esc(note)}</div>' for note in answer.notes)
    if answer.abstained:
        if answer.related:
            items = "".join(_details(c, numbered=False) for c in answer.related)
            blocks.append(
                '<div class="qa-related"><div class="qa-list-title">Related '
                '<span class="qa-hint">— the closest paragraphs, which do not answer it</span>'
                f"</div>{items}</div>"
            )
    elif answer.citations:
        items = "".join(_details(c, numbered=True) for c in answer.citations)
        blocks.append(
            f'<div class="qa-sources"><div class="qa-list-title">Sources</div>{items}</div>'
        )
    # A fallback is the offline answerer's work, whichever model was configured.
    meta = "answered by extractive" if answer.fallback else f"answered by {answer.answerer}"
    if seconds is not None:
        meta += f" in {seconds:.1f} s"
    blocks.append(f'<div class="qa-meta">{_esc(meta)}</div>')
    return "\n\n".join(blocks)


def render_partial(text: str) -> str:
    return answer_html(text) + ' <span class="qa-streaming"></span>'


def render_error(message: str) -> str:
    return f'<div class="qa-error">⚠️ {_esc(message)}</div>'


def shown_question(question: str) -> str:
    question = question.strip()
    if len(question) > SHOWN_QUESTION_CHARS:
        question = question[:SHOWN_QUESTION_CHARS] + f"… ({len(question):,} characters)"
    return _esc(question)


# --- the page ----------------------------------------------------------------------


def answerer_name(settings: Settings) -> str:
    return "extractive" if settings.llm == "extractive" else settings.llm_model


def status_text(settings: Settings) -> str:
    try:
        articles, paragraphs = index_summary(settings)
        where = f"{articles:,} article{'s' * (articles != 1)}, {paragraphs:,} paragraphs"
    except QAError as exc:
        where = f"unavailable ({exc})"
    return (
        f"**Index:** {where} · **Embeddings:** {settings.embed_model} · "
        f"**Answers:** {answerer_name(settings)}"
    )


def article_rows(settings: Settings) -> list[list[Any]]:
    return [
        [a.title, a.source, a.paragraphs, a.added[:16].replace("T", " ") + (" UTC" * bool(a.added))]
        for a in list_articles(settings)
    ]


def article_choices(settings: Settings) -> list[tuple[str, str]]:
    return [(f"{a.title} — {a.source}", a.path) for a in list_articles(settings)]


def build(settings: Settings) -> gr.Blocks:
    def respond(
        message: str, chat: list[dict[str, str]], turns: list[dict[str, str]]
    ) -> Iterator[tuple[list[dict[str, str]], list[dict[str, str]], list[dict[str, str]], str]]:
        """Stream one answer into the chat; `turns` keeps the plain text for follow-ups."""
        question = message or ""
        chat = list(chat or [])
        if question.strip():
            chat.append({"role": "user", "content": shown_question(question)})
        chat.append({"role": "assistant", "content": render_partial("")})
        yield chat, chat, turns, ""
        started = time.perf_counter()
        streamed = ""
        answer: Answer | None = None
        try:
            for item in ask_stream(question, history=turns or None, settings=settings):
                if isinstance(item, Answer):
                    answer = item
                    break
                streamed += item
                chat[-1] = {"role": "assistant", "content": render_partial(streamed)}
                yield chat, chat, turns, ""
        except QAError as exc:
            chat[-1] = {"role": "assistant", "content": render_error(str(exc))}
            yield chat, chat, turns, question
            return
        except Exception:
            log.exception("answering %r failed", question[:200])
            chat[-1] = {
                "role": "assistant",
                "content": render_error(
                    "Something went wrong while answering. The server log has the details."
                ),
            }
            yield chat, chat, turns, question
            return
        if answer is None:
            chat[-1] = {"role": "assistant", "content": render_error("No answer came back.")}
            yield chat, chat, turns, question
            return
        chat[-1] = {"role": "assistant", "content": render(answer, time.perf_counter() - started)}
        turns = [
            *turns,
            {"role": "user", "content": question},
            {"role": "assistant", "content": answer.text},
        ]
        yield chat, chat, turns, ""

    def clear() -> tuple[list[Any], list[Any], list[Any], str]:
        return [], [], [], ""

    def pick_example(example: gr.SelectData) -> str:
        value = example.value
        return str(value.get("text", "")) if isinstance(value, dict) else str(value)

    def refresh() -> tuple[str, list[list[Any]], Any]:
        return (
            status_text(settings),
            article_rows(settings),
            gr.Dropdown(choices=article_choices(settings), value=None),
        )

    def upload(
        files: list[str] | None,
        progress: gr.Progress = gr.Progress(),  # noqa: B008
    ) -> tuple[str, None, str, list[list[Any]], Any]:
        paths = [Path(f) for f in files or []]
        if not paths:
            return ("", None, *refresh())
        try:
            result = add_files(paths, settings, progress=lambda f, d: progress(f, desc=d))
        except QAError as exc:
            return (render_error(str(exc)), None, *refresh())
        except Exception:
            log.exception("adding %s failed", [p.name for p in paths])
            message = render_error("Adding the files failed. The server log has the details.")
            return (message, None, *refresh())
        lines: list[str] = []
        if result.added:
            names = ", ".join(result.added)
            lines.append(
                f"<p>Added {_esc(names)}: ask about {'it' if len(result.added) == 1 else 'them'} "
                "in the Chat tab.</p>"
            )
        lines.extend(render_error(msg) for msg in result.rejected)
        return ("\n".join(lines), None, *refresh())

    def delete(path: str | None) -> tuple[str, str, list[list[Any]], Any]:
        if not path:
            return (render_error("Choose an article to delete."), *refresh())
        try:
            result = delete_article(path, settings)
        except QAError as exc:
            return (render_error(str(exc)), *refresh())
        where = (
            "its file was removed from the articles folder"
            if result.file_removed
            else f"its file stays at {result.path}, outside the articles folder"
        )
        message = (
            f"<p>Deleted {_esc(result.source)}: {result.paragraphs} "
            f"paragraph{'s' * (result.paragraphs != 1)} left the "
            f"index and {_esc(where)}.</p>"
        )
        return (message, *refresh())

    def ask_api(question: str, history: list[dict[str, str]] | None = None) -> dict[str, Any]:
        """Answer a question about the articles.

        Returns {"answer", "abstained", "citations", "related"}; each citation has n,
        source, paragraph, text, score, title and sentence."""
        try:
            answer = ask(question, history=history or None, settings=settings)
        except QAError as exc:
            raise gr.Error(str(exc)) from None
        out = answer.as_dict()
        return {key: out[key] for key in ("answer", "abstained", "citations", "related")}

    demo = gr.Blocks(title="Ask the articles", fill_height=True)
    with demo:
        gr.Markdown("# Ask the articles")
        status = gr.Markdown(elem_id="qa-status")
        with gr.Tab("Chat", elem_id="qa-chat-tab"):
            chatbot = gr.Chatbot(
                elem_id="qa-chat",
                show_label=False,
                height="62vh",
                examples=[{"text": q} for q in EXAMPLES],
                placeholder=(
                    "Answers quote the articles and cite the paragraph; "
                    "if the articles don't say, the answer says so."
                ),
                latex_delimiters=[],
                feedback_options=None,
                buttons=["copy", "copy_all"],
                layout="panel",
            )
            chat_state = gr.State([])
            turns = gr.State([])
            with gr.Row():
                box = gr.Textbox(
                    elem_id="qa-question",
                    show_label=False,
                    placeholder="Ask a question about the articles, then press Enter",
                    scale=8,
                    autofocus=True,
                    lines=1,
                    max_lines=6,
                )
                ask_btn = gr.Button("Ask", variant="primary", scale=1, min_width=80)
                clear_btn = gr.Button("Clear chat", scale=1, min_width=130)
        with gr.Tab("Articles", elem_id="qa-articles-tab"):
            articles = gr.Dataframe(
                headers=ARTICLE_COLUMNS,
                datatype=["str", "str", "number", "str"],
                interactive=False,
                wrap=True,
                column_widths=["46%", "24%", "12%", "18%"],
                elem_id="qa-articles",
            )
            files = gr.File(
                label=(
                    f"Add articles: .txt, .md or .html, UTF-8, up to "
                    f"{MAX_FILE_BYTES // (1024 * 1024)} MB each"
                ),
                file_count="multiple",
                file_types=list(SUFFIXES),
                height=150,
                elem_id="qa-upload",
            )
            upload_msg = gr.HTML(elem_id="qa-upload-msg")
            with gr.Row():
                choice = gr.Dropdown(label="Article", choices=[], scale=4, elem_id="qa-choice")
                delete_btn = gr.Button("Delete article", variant="stop", scale=1)
            delete_msg = gr.HTML(elem_id="qa-delete-msg")

        chat_outputs = [chatbot, chat_state, turns, box]
        ui: dict[str, Any] = {"api_visibility": "undocumented"}
        box.submit(respond, [box, chat_state, turns], chat_outputs, **ui)
        ask_btn.click(respond, [box, chat_state, turns], chat_outputs, **ui)
        chatbot.example_select(pick_example, None, box, **ui).then(
            respond, [box, chat_state, turns], chat_outputs, **ui
        )
        clear_btn.click(clear, None, chat_outputs, queue=False, **ui)
        chatbot.clear(clear, None, chat_outputs, queue=False, **ui)
        files.upload(
            upload,
            files,
            [upload_msg, files, status, articles, choice],
            show_progress="full",
            **ui,
        )
        delete_btn.click(delete, choice, [delete_msg, status, articles, choice], **ui)
        demo.load(refresh, None, [status, articles, choice], show_progress="hidden", **ui)
        gradio_api(ask_api, api_name="ask")
    return demo


def parse_auth(value: str | None) -> tuple[str, str] | None:
    if not value:
        return None
    user, sep, password = value.partition(":")
    if not sep or not user or not password:
        raise QAError("QA_AUTH must be user:password (both non-empty).")
    return user, password


def main(settings: Settings | None = None) -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    settings = settings or Settings.from_env()
    auth = parse_auth(settings.auth)
    try:
        warm_up(settings)
    except QAError as exc:
        print(f"warning: {exc}", file=sys.stderr)
    demo = build(settings)
    demo.queue(default_concurrency_limit=4)
    demo.launch(
        server_name=settings.host,
        server_port=settings.port,
        share=False,
        auth=auth,
        auth_message="Sign in to ask the articles." if auth else None,
        max_file_size=MAX_FILE_BYTES,
        ssr_mode=False,
        theme=THEME,
        css=CSS,
        js=JS,
    )


if __name__ == "__main__":
    try:
        main()
    except QAError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
