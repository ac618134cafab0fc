"""The "Check a claim" tab, running for real: `python app.py` on a free port of 127.0.0.1
over its own copy of the seed articles and index, driven by Debian's Chromium through
Playwright (the pattern of tests/test_app.py)."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator

import pytest
from browsing import ANSWER_TIMEOUT, chromium, fresh_page, served
from conftest import SEED_000, SEED_002, SEEDS, seed_paragraph
from load import App
from playwright.sync_api import Browser, Page, expect

MISREAD = "The US gave Panama $8 million for deportation flights."


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    folder = tmp_path_factory.mktemp("app-check") / "articles"
    shutil.copytree(SEEDS, folder)
    yield from served(folder, tmp_path_factory)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    yield from chromium()


@pytest.fixture
def page(browser: Browser, app: App) -> Iterator[Page]:
    """The page on its Check a claim tab."""
    yield from fresh_page(browser, app, tab="Check a claim")


def test_the_misread_reward_claim_is_contradicted_with_its_paragraph(page: Page) -> None:
    box = page.locator("#qa-claim textarea")
    box.fill(MISREAD)
    box.press("Enter")

    verdict = page.locator("#qa-verdict")
    expect(verdict.locator(".qa-verdict-label")).to_have_text(
        "Contradicted", timeout=ANSWER_TIMEOUT
    )
    expect(verdict).to_contain_text("The articles state $6,000,000, not $8 million")
    # The checker's confidence in its verdict, beside the badge.
    expect(verdict.locator(".qa-confidence")).to_have_text(re.compile(r"^confidence [01]\.\d\d$"))
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
