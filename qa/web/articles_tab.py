"""The Articles tab: the indexed articles listed, uploads added and answerable at once,
an article deleted; and the status line above the tabs, which these change."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import gradio as gr

from ..errors import QAError
from ..reading.articles import MAX_FILE_BYTES, SUFFIXES
from ..reading.sources import shown_date
from ..settings import Settings
from ..store.library import (
    AddResult,
    Progress,
    add_files,
    add_url,
    delete_article,
    index_summary,
    list_articles,
)
from .render import esc, render_error

log = logging.getLogger("qa.app")

ARTICLE_COLUMNS = ["Title", "Published", "Site", "Author", "File", "Paragraphs", "Added"]


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
        [a.title + (f" (near-copy of {a.copy_of})" if a.copy_of else ""), shown_date(a.date),
         a.site, a.author, a.source, a.paragraphs,
         a.added[:16].replace("T", " ") + (" UTC" * bool(a.added))]
        for a in list_articles(settings)
    ]  # fmt: skip


def article_choices(settings: Settings) -> list[tuple[str, str]]:
    return [(f"{a.title} — {a.source}", a.path) for a in list_articles(settings)]


def refreshed(settings: Settings) -> tuple[str, list[list[Any]], Any]:
    """The status line, the table and the delete choices, as the index now is."""
    return (
        status_text(settings),
        article_rows(settings),
        gr.Dropdown(choices=article_choices(settings), value=None),
    )


def add_uploads(paths: list[Path], settings: Settings, progress: Progress | None = None) -> str:
    """Add the uploaded files to the index; the message to show under the upload box."""
    if not paths:
        return ""
    try:
        result = add_files(paths, settings, progress=progress)
    except QAError as exc:
        return render_error(str(exc))
    except Exception:
        log.exception("adding %s failed", [p.name for p in paths])
        return render_error("Adding the files failed. The server log has the details.")
    return added_message(result)


def add_link(url: str, settings: Settings, progress: Progress | None = None) -> tuple[str, bool]:
    """Fetch a link and add its page or PDF: the message to show under the link field,
    and whether it was added. Loopback and private addresses are refused unless
    QA_ALLOW_PRIVATE_URLS allows them."""
    if not url.strip():
        return render_error("Paste a link (https://...) to a web page or PDF."), False
    try:
        result = add_url(url, settings, progress=progress)
    except QAError as exc:
        return render_error(str(exc)), False
    except Exception:
        log.exception("adding %s failed", url[:200])
        return render_error("Adding the link failed. The server log has the details."), False
    return added_message(result), bool(result.added)


def added_message(result: AddResult) -> str:
    lines: list[str] = []
    if result.added:
        names = ", ".join(result.added)
        lines.append(
            f"<p>Added {esc(names)}: ask about {'it' if len(result.added) == 1 else 'them'} "
            "in the Chat tab.</p>"
        )
    lines.extend(render_error(msg) for msg in result.rejected)
    return "\n".join(lines)


def remove_article(path: str | None, settings: Settings) -> str:
    """Delete the chosen article from the index (and its file, if in the articles
    folder); the message to show under the delete button."""
    if not path:
        return render_error("Choose an article to delete.")
    try:
        result = delete_article(path, settings)
    except QAError as exc:
        return render_error(str(exc))
    where = (
        "its file was removed from the articles folder"
        if result.file_removed
        else f"its file stays at {result.path}, outside the articles folder"
    )
    return (
        f"<p>Deleted {esc(result.source)}: {result.paragraphs} "
        f"paragraph{'s' * (result.paragraphs != 1)} left the "
        f"index and {esc(where)}.</p>"
    )


def articles_tab(demo: gr.Blocks, settings: Settings, status: gr.Markdown) -> None:
    """The tab, laid out and wired inside `demo`; it also fills `status` when the page
    loads and whenever the articles change."""
    with gr.Tab("Articles", elem_id="qa-articles-tab"):
        articles = gr.Dataframe(
            headers=ARTICLE_COLUMNS,
            datatype=["str", "str", "str", "str", "str", "number", "str"],
            interactive=False,
            wrap=True,
            column_widths=["30%", "11%", "11%", "11%", "15%", "8%", "14%"],
            elem_id="qa-articles",
        )
        files = gr.File(
            label=(
                f"Add articles: .txt, .md, .html or .pdf, up to "
                f"{MAX_FILE_BYTES // (1024 * 1024)} MB each"
            ),
            file_count="multiple",
            file_types=list(SUFFIXES),
            height=150,
            elem_id="qa-upload",
        )
        upload_msg = gr.HTML(elem_id="qa-upload-msg")
        with gr.Row():
            link = gr.Textbox(
                label="Add an article from a link (web page or PDF)",
                placeholder="https://...",
                scale=4,
                elem_id="qa-link",
            )
            link_btn = gr.Button("Add link", scale=1, elem_id="qa-link-add")
        link_msg = gr.HTML(elem_id="qa-link-msg")
        with gr.Row():
            choice = gr.Dropdown(label="Article", choices=[], scale=4, elem_id="qa-choice")
            delete_btn = gr.Button("Delete article", variant="stop", scale=1)
        delete_msg = gr.HTML(elem_id="qa-delete-msg")

    def refresh() -> tuple[str, list[list[Any]], Any]:
        return refreshed(settings)

    def upload(
        files: list[str] | None,
        progress: gr.Progress = gr.Progress(),  # noqa: B008
    ) -> tuple[str, None, str, list[list[Any]], Any]:
        paths = [Path(f) for f in files or []]
        message = add_uploads(paths, settings, progress=lambda f, d: progress(f, desc=d))
        return (message, None, *refresh())

    def fetch_link(
        url: str | None,
        progress: gr.Progress = gr.Progress(),  # noqa: B008
    ) -> tuple[str, str, str, list[list[Any]], Any]:
        message, added = add_link(url or "", settings, lambda f, d: progress(f, desc=d))
        return (message, "" if added else (url or ""), *refresh())  # a refused link stays

    def delete(path: str | None) -> tuple[str, str, list[list[Any]], Any]:
        return (remove_article(path, settings), *refresh())

    ui: dict[str, Any] = {"api_visibility": "undocumented"}
    files.upload(
        upload, files, [upload_msg, files, status, articles, choice], show_progress="full", **ui
    )
    link_outputs = [link_msg, link, status, articles, choice]
    link.submit(fetch_link, link, link_outputs, show_progress="full", **ui)
    link_btn.click(fetch_link, link, link_outputs, show_progress="full", **ui)
    delete_btn.click(delete, choice, [delete_msg, status, articles, choice], **ui)
    demo.load(refresh, None, [status, articles, choice], show_progress="hidden", **ui)
