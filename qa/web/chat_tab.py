"""The Chat tab: a question box and the chat, each answer streamed in and then rendered
with its sources; the plain turns kept for follow-ups; and the scope selector (which
articles, which publication dates) the questions are asked of."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

import gradio as gr

from ..answering.answer import Answer
from ..errors import QAError
from ..service import ask_stream
from ..settings import Settings
from ..store.library import list_articles
from .render import render, render_error, render_partial, shown_question

log = logging.getLogger("qa.app")

EXAMPLES = [
    "How much money did the US give Panama for the deportation pilot?",
    "Who attended the inauguration of Panama's president?",
    "How many migrants crossed the Darién jungle in 2023?",
]

Messages = list[dict[str, str]]
# What every chat event updates: the chat shown, its state, the plain turns, the box.
ChatUpdate = tuple[Messages, Messages, Messages, str]


def scope_choices(settings: Settings) -> list[tuple[str, str]]:
    """The selector's articles: shown by title, date and file name; chosen by path.
    (The list kept until the index changes: reading it afresh takes seconds at 10k
    paragraphs, and it is read each time the tab is shown.)"""
    return [
        (" — ".join(x for x in (a.title, a.date, a.source) if x), a.path)
        for a in sorted(list_articles(settings), key=lambda a: (a.title.lower(), a.source))
    ]


def refreshed_scope(settings: Settings, chosen: list[str] | None) -> Any:
    """The selector as the index now is, keeping the chosen articles that are still in it."""
    choices = scope_choices(settings)
    paths = {path for _, path in choices}
    return gr.Dropdown(choices=choices, value=[p for p in chosen or [] if p in paths])


def scope_selector(prefix: str) -> tuple[gr.Dropdown, gr.Textbox, gr.Textbox]:
    """The scope row (articles, published since, until), laid out where it is called;
    its parts' ids start with `prefix`. Fill the articles with `refreshed_scope`."""
    with gr.Row(elem_id=prefix):
        articles = gr.Dropdown(
            label="Articles (none chosen: all)",
            choices=[],
            value=[],
            multiselect=True,
            scale=6,
            elem_id=f"{prefix}-articles",
        )
        since = gr.Textbox(
            label="Published since", placeholder="YYYY-MM-DD", scale=2,
            elem_id=f"{prefix}-since",
        )  # fmt: skip
        until = gr.Textbox(
            label="Published until", placeholder="YYYY-MM-DD", scale=2,
            elem_id=f"{prefix}-until",
        )  # fmt: skip
    return articles, since, until


def stream_answer(
    message: str,
    chat: Messages,
    turns: Messages,
    settings: Settings,
    sources: list[str] | None = None,
    since: str | None = None,
    until: str | None = None,
) -> Iterator[ChatUpdate]:
    """Stream one answer into the chat; `turns` keeps the plain text for follow-ups.
    sources (article paths), since and until scope it (qa.search.scope); the answer says so."""
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
        for item in ask_stream(
            question, history=turns or None, settings=settings,
            sources=sources or None, since=since, until=until,
        ):  # fmt: skip
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


def chat_tab(settings: Settings, demo: gr.Blocks | None = None) -> None:
    """The tab, laid out and wired inside the gr.Blocks being built; with `demo`, the
    article selector is filled when the page loads (and always when the tab is shown)."""
    with gr.Tab("Chat", elem_id="qa-chat-tab") as tab:
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
        articles, since, until = scope_selector("qa-scope")

    def respond(
        message: str,
        chat: Messages,
        turns: Messages,
        sources: list[str] | None,
        since: str | None,
        until: str | None,
    ) -> Iterator[ChatUpdate]:
        yield from stream_answer(message, chat, turns, settings, sources, since, until)

    def refresh(chosen: list[str] | None) -> Any:
        return refreshed_scope(settings, chosen)

    chat_outputs = [chatbot, chat_state, turns, box]
    inputs = [box, chat_state, turns, articles, since, until]
    ui: dict[str, Any] = {"api_visibility": "undocumented"}
    box.submit(respond, inputs, chat_outputs, **ui)
    ask_btn.click(respond, inputs, chat_outputs, **ui)
    chatbot.example_select(pick_example, None, box, **ui).then(respond, inputs, chat_outputs, **ui)
    tab.select(refresh, articles, articles, show_progress="hidden", **ui)
    if demo is not None:
        demo.load(refresh, articles, articles, show_progress="hidden", **ui)
    clear_btn.click(clear, None, chat_outputs, queue=False, **ui)
    chatbot.clear(clear, None, chat_outputs, queue=False, **ui)
