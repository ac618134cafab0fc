"""The chat page's parts, each on its own, without a browser: the Chat tab's answer
stream, the Articles tab's messages, and each tab laid out in a bare gr.Blocks."""

from __future__ import annotations

from pathlib import Path

import gradio as gr
from conftest import SEED_000

from qa.settings import Settings
from qa.web.articles_tab import add_uploads, articles_tab, remove_article, status_text
from qa.web.chat_tab import chat_tab, stream_answer
from qa.web.page import build

QUESTION = "How much money did the US give Panama for the deportation pilot?"


def test_chat_stream_ends_with_the_rendered_answer_and_keeps_the_turn(seeded: Settings) -> None:
    updates = stream_answer(QUESTION, [], [], seeded)
    first = next(updates)  # the same chat list is updated in place: look at it now
    assert first[0][-1]["content"].endswith('<span class="qa-streaming"></span>')
    *_, (chat, state, turns, box) = updates
    assert chat is state and box == ""
    assert chat[0] == {"role": "user", "content": QUESTION}
    assert 'class="qa-sources"' in chat[-1]["content"] and SEED_000 in chat[-1]["content"]
    assert [t["role"] for t in turns] == ["user", "assistant"] and turns[0]["content"] == QUESTION


def test_chat_stream_shows_an_error_and_gives_the_question_back(settings: Settings) -> None:
    *_, (chat, _, turns, box) = stream_answer("   ", [], [], settings)
    assert len(chat) == 1 and 'class="qa-error"' in chat[-1]["content"]
    assert "The question is empty" in chat[-1]["content"]
    assert box == "   " and turns == []


def test_articles_messages(seeded: Settings, tmp_path: Path) -> None:
    assert add_uploads([], seeded) == ""
    assert "Choose an article" in remove_article(None, seeded)
    assert "qa-error" in remove_article(str(tmp_path / "nowhere.txt"), seeded)
    assert status_text(seeded).startswith("**Index:** ")


def test_each_tab_builds_alone_and_the_page_holds_both(seeded: Settings) -> None:
    with gr.Blocks() as chat_only:
        chat_tab(seeded)
    with gr.Blocks() as articles_only:
        status = gr.Markdown()
        articles_tab(articles_only, seeded, status)
    ids = {c.elem_id for c in chat_only.blocks.values()}
    assert "qa-chat" in ids and "qa-articles" not in ids
    assert "qa-articles" in {c.elem_id for c in articles_only.blocks.values()}
    page = build(seeded)
    page_ids = {c.elem_id for c in page.blocks.values()}
    assert {"qa-status", "qa-chat", "qa-articles", "qa-upload"} <= page_ids
