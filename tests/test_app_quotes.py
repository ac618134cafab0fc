"""The Quotes tab and a "What did ... say about ...?" question, on the real app (`python
app.py` on 127.0.0.1 over its own copy of the seeds) in headless Debian Chromium."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest
from browsing import ANSWER_TIMEOUT, chromium, fresh_page, served
from conftest import SEED_000, SEEDS, seed_paragraph
from load import App
from playwright.sync_api import Browser, Page, expect
from test_app import ask, source_of, squash


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    folder = tmp_path_factory.mktemp("app-quotes") / "articles"
    shutil.copytree(SEEDS, folder)
    yield from served(folder, tmp_path_factory)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    yield from chromium()


@pytest.fixture
def page(browser: Browser, app: App) -> Iterator[Page]:
    yield from fresh_page(browser, app)


def test_pick_a_speaker_and_see_their_quotes_with_sources(page: Page) -> None:
    page.get_by_role("tab", name="Quotes").click()
    listing = page.locator("#qa-quotes")
    expect(listing).to_contain_text("25 quotes")  # everyone, at first
    page.locator("#qa-speaker input").click()
    page.get_by_role("option", name="Luis Miranda", exact=True).click()
    expect(listing).to_contain_text("3 quotes")
    quotes = listing.locator(".qa-quote")
    expect(quotes).to_have_count(3)
    last = quotes.nth(2)
    expect(last.locator(".qa-quote-speaker")).to_have_text("Luis Miranda")
    expect(last.locator(".qa-quote-title")).to_contain_text(
        "Principal Deputy Assistant Secretary for Communications"
    )
    expect(last.locator(".qa-quote-text")).to_contain_text("We have collaboration with several")
    source = last.locator("details")
    assert source_of(source) == (SEED_000, 18)
    expect(source.locator("summary")).to_contain_text("US grants Panama $6 million")
    source.locator("summary").click()
    paragraph = source.locator("blockquote")
    expect(paragraph).to_be_visible()
    assert squash(paragraph.inner_text()) == squash(seed_paragraph(SEED_000, 18))
    expect(paragraph.locator("mark")).to_contain_text("more than 20,000 people")

    # A topic narrows the list to what the speaker said about it.
    topic = page.locator("#qa-quote-topic textarea")
    topic.fill("arresting traffickers")
    topic.press("Enter")
    expect(listing).to_contain_text("1 quote", timeout=ANSWER_TIMEOUT)
    expect(quotes).to_have_count(1)
    assert source_of(quotes.first.locator("details")) == (SEED_000, 18)


def test_a_resolved_speaker_says_how(page: Page) -> None:
    page.get_by_role("tab", name="Quotes").click()
    page.locator("#qa-speaker input").click()
    page.get_by_role("option", name="Eric Jacobstein", exact=True).click()
    listing = page.locator("#qa-quotes")
    expect(listing).to_contain_text("7 quotes")
    expect(listing).to_contain_text("The article says “the official”; read as Eric Jacobstein")


def test_what_did_a_speaker_say_is_answered_from_the_quotes(page: Page) -> None:
    answer, _ = ask(page, "What did Miranda say about arrests of traffickers?")
    expect(answer).to_contain_text("Luis Miranda")
    sources = answer.locator(".qa-sources details")
    expect(sources).to_have_count(1)
    assert source_of(sources.first) == (SEED_000, 18)
