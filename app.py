"""The chat page: streamed answers with expandable cited paragraphs, and the Articles tab.

`python app.py` or `qa serve` opens it on 127.0.0.1:7860 (QA_HOST, QA_PORT). Nothing on the
page comes from the network: no analytics, no share link, fonts and scripts served by
the app itself. A named endpoint `/ask` answers for `gradio_client` and other programs.
"""

from __future__ import annotations

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import logging  # noqa: E402
import sys  # noqa: E402

from qa import QAError, Settings  # noqa: E402
from qa.reading.articles import MAX_FILE_BYTES  # noqa: E402
from qa.service import warm_up  # noqa: E402
from qa.web.page import CSS, JS, THEME, build  # noqa: E402


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
