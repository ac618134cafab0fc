"""What the browser tests share: the real app (`python app.py` on a free port of
127.0.0.1) over its own index of some articles, Debian's Chromium driven by Playwright,
and a fresh page that must never make a request off this machine.

Never `playwright install` (it downloads a browser): `make test` installs Debian's
`chromium` with apt when it is missing and it runs as root.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
from conftest import ROOT, make_settings
from playwright.sync_api import Browser, Page, expect, sync_playwright

from qa.store.ingest import ingest
from qa.store.opened import forget_stores

sys.path.insert(0, str(ROOT / "bench"))  # bench/ holds scripts, not a package
from load import App, start_app, stop_app  # noqa: E402

NO_BROWSER = (
    "No Chromium found for the browser tests. Install Debian's package: "
    "`sudo apt-get install chromium` (`make test` does this itself when run as root). "
    "Do not use `playwright install`, which downloads a browser."
)
BROWSER_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ANSWER_TIMEOUT = 120_000  # ms


def indexed(folder: Path, index_dir: Path) -> None:
    """Ingest the articles in `folder` into a new index at `index_dir`."""
    assert ingest([folder], make_settings(index_dir, folder), quiet=True).files > 0
    forget_stores()


def served(
    folder: Path, tmp_path_factory: pytest.TempPathFactory, env: Mapping[str, str] | None = None
) -> Iterator[App]:
    """The app over `folder` and an index of it next to it (built here unless it is
    there already), running until the generator is closed."""
    index_dir = folder.parent / "index"
    if not index_dir.exists():
        indexed(folder, index_dir)
    running = start_app(index_dir, folder, tmp_path_factory.mktemp("app-run"), dict(env or {}))
    try:
        yield running
    finally:
        stop_app(running)


def chromium() -> Iterator[Browser]:
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if not executable:
        pytest.fail(NO_BROWSER, pytrace=False)
    with sync_playwright() as playwright:
        yield playwright.chromium.launch(executable_path=executable, args=BROWSER_ARGS)


def fresh_page(browser: Browser, app: App, tab: str | None = None) -> Iterator[Page]:
    """A new session on the page (on `tab` when given); afterwards, checks that it never
    left 127.0.0.1."""
    context = browser.new_context(viewport={"width": 1200, "height": 1000})
    requests: list[str] = []
    context.on("request", lambda request: requests.append(request.url))
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(app.url)
    expect(page.locator("#qa-status")).to_contain_text("paragraphs", timeout=60_000)
    if tab:
        page.get_by_role("tab", name=tab).click()
    yield page
    context.close()
    foreign = [u for u in requests if not u.startswith(("http://127.0.0.1:", "data:", "blob:"))]
    assert requests and not foreign, f"the page made requests off this machine: {foreign}"
