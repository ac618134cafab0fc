"""The chat page: a Gradio chat over `qa.ask`, on 127.0.0.1:7860 by default."""

from __future__ import annotations

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from typing import Any  # noqa: E402

import gradio as gr  # noqa: E402

from qa import QAError, Settings, ask  # noqa: E402
from qa.answer import Answer  # noqa: E402
from qa.service import warm_up  # noqa: E402

EXAMPLES = [
    "How much money did the US give Panama for the deportation pilot?",
    "Who attended the inauguration of Panama's president?",
    "How many migrants crossed the Darién jungle in 2023?",
]


def render(answer: Answer) -> str:
    """Markdown: the answer, then its sources (or related paragraphs) with the verbatim text."""
    lines = [answer.text, ""]
    if answer.abstained:
        if answer.related:
            lines.append("**Related** (closest paragraphs, not evidence):")
            for c in answer.related:
                lines.append(f"- {c.title} — `{c.source}` ¶{c.paragraph}")
        return "\n".join(lines)
    lines.append("**Sources**")
    for c in answer.citations:
        quote = c.text.replace(c.sentence, f"**{c.sentence}**") if c.sentence else c.text
        lines.append(f"\n[{c.n}] {c.title} — `{c.source}` ¶{c.paragraph}\n> {quote}")
    for note in answer.notes:
        lines.append(f"\n_{note}_")
    return "\n".join(lines)


def build(settings: Settings) -> gr.Blocks:
    def respond(message: str, history: list[dict[str, Any]]) -> str:
        turns = [
            {
                "role": str(m["role"]),
                "content": m["content"] if isinstance(m["content"], str) else "",
            }
            for m in history
        ]
        try:
            return render(ask(message, history=turns, settings=settings))
        except QAError as exc:
            return f"⚠️ {exc}"

    return gr.ChatInterface(
        respond,
        title="Ask the articles",
        description=(
            "Answers quote the articles and cite the paragraph; if they don't say, it says so."
        ),
        examples=EXAMPLES,
    )


def main(settings: Settings | None = None) -> None:
    settings = settings or Settings.from_env()
    try:
        warm_up(settings)
    except QAError as exc:
        print(f"warning: {exc}")
    auth = None
    if settings.auth and ":" in settings.auth:
        user, password = settings.auth.split(":", 1)
        auth = (user, password)
    build(settings).launch(
        server_name=settings.host, server_port=settings.port, share=False, auth=auth
    )


if __name__ == "__main__":
    main()
