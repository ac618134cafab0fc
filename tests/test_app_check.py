"""The "Check a claim" tab, running for real: `python app.py` on a free port of 127.0.0.1
over its own copy of the seed articles and index, driven by Debian's Chromium through
Playwright (the pattern of tests/test_app.py)."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import ROOT, SEED_000, SEED_002, SEEDS, make_settings, seed_paragraph
from playwright.sync_api import Browser, Page, expect, sync_playwright
from test_app import ANSWER_TIMEOUT, NO_BROWSER, launch

from qa.ingest import ingest
from qa.retrieve import forget_stores

sys.path.insert(0, str(ROOT / "bench"))  # bench/ holds scripts, not a package
from load import App, start_app, stop_app  # noqa: E402

MISREAD = "The US gave Panama $8 million for deportation flights."


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    base = tmp_path_factory.mktemp("app-check")
    seeds_dir = base / "articles"
    shutil.copytree(SEEDS, seeds_dir)
    report = ingest([seeds_dir], make_settings(base / "index", seeds_dir), quiet=True)
    assert report.files == 2
    forget_stores()
    running = start_app(base / "index", seeds_dir, Path(tmp_path_factory.mktemp("run")))
    yield running
    stop_app(running)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if not executable:
        pytest.fail(NO_BROWSER, pytrace=False)
    with sync_playwright() as playwright:
        yield launch(playwright, executable)


@pytest.fixture
def page(browser: Browser, app: App) -> Iterator[Page]:
    """The page on its Check a claim tab; afterwards, checks that it never left 127.0.0.1."""
    context = browser.new_context(viewport={"width": 1200, "height": 1000})
    requests: list[str] = []
    context.on("request", lambda request: requests.append(request.url))
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(app.url)
    expect(page.locator("#qa-status")).to_contain_text("paragraphs", timeout=60_000)
    page.get_by_role("tab", name="Check a claim").click()
    yield page
    context.close()
    foreign = [u for u in requests if not u.startswith(("http://127.0.0.1:", "data:", "blob:"))]
    assert requests and not foreign, f"the page made requests off this machine: {foreign}"


def test_the_misread_reward_claim_is_contradicted_with_its_paragraph(page: Page) -> None:
    box = page.locator("#qa-claim textarea")
    box.fill(MISREAD)
    box.press("Enter")

    verdict = page.locator("#qa-verdict")
    expect(verdict.locator(".qa-verdict-label")).to_have_text(
        "Contradicted", timeout=ANSWER_TIMEOUT
    )
    expect(verdict).to_contain_text("The articles state $6,000,000, not $8 million")
    source = verdict.locator(".qa-sources details").first
    expect(source.locator("summary")).to_contain_text(f"{SEED_000}, paragraph 2")
    expect(verdict.locator(".qa-list-title").first).to_have_text("Against the claim")

    # A click on the marker opens the cited paragraph, with the sentence highlighted.
    verdict.locator(".qa-cite").first.click()
    expect(source).to_have_attribute("open", "")
    paragraph = " ".join(seed_paragraph(SEED_000, 2).split())
    quoted = source.locator("blockquote")
    expect(quoted).to_contain_text(paragraph[:120])
    expect(quoted.locator("mark")).to_contain_text("is $6,000,000")


def test_an_empty_claim_gets_a_clear_message_and_the_tab_keeps_working(page: Page) -> None:
    page.get_by_role("button", name="Check", exact=True).click()
    expect(page.locator("#qa-verdict .qa-error")).to_contain_text(
        "The claim is empty", timeout=ANSWER_TIMEOUT
    )
    box = page.locator("#qa-claim textarea")
    box.fill("Panama's president resigned in 2022.")
    page.get_by_role("button", name="Check", exact=True).click()
    expect(page.locator("#qa-verdict .qa-verdict-label")).to_have_text(
        "Not in the articles", timeout=ANSWER_TIMEOUT
    )
    expect(page.locator("#qa-verdict .qa-related")).to_contain_text("neither state nor")


def test_checked_against_one_article_the_claim_is_not_in_the_articles(page: Page) -> None:
    """The scope selector of the tab: the grant is in the other article."""
    box = page.locator("#qa-check-scope-articles input")
    box.click()
    box.fill(SEED_002)
    expect(page.get_by_role("option")).to_have_count(1)
    box.press("Enter")
    page.keyboard.press("Escape")
    expect(page.locator("#qa-check-scope-articles")).to_contain_text(SEED_002)

    claim = page.locator("#qa-claim textarea")
    claim.fill(MISREAD)
    claim.press("Enter")
    verdict = page.locator("#qa-verdict")
    expect(verdict.locator(".qa-verdict-label")).to_have_text(
        "Not in the articles", timeout=ANSWER_TIMEOUT
    )
    expect(verdict).to_contain_text(f"Scope: 1 article ({SEED_002}).")
    assert "6,000,000" not in verdict.inner_text()
