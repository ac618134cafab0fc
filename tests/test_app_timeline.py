"""The Timeline tab, running for real: `python app.py` over seed 000 and a copy of seed
002 dated 2024-07-02, driven by Debian's Chromium through Playwright (the fixtures
pattern of tests/test_app.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from browsing import chromium, fresh_page, served
from conftest import SEED_000, SEED_002, seed_paragraph
from load import App
from playwright.sync_api import Browser, Page, expect
from test_timeline import dated_002

TIMEOUT = 120_000  # ms


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    folder = dated_002(tmp_path_factory.mktemp("timeline-app") / "articles")
    yield from served(folder, tmp_path_factory)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    yield from chromium()


@pytest.fixture
def page(browser: Browser, app: App) -> Iterator[Page]:
    yield from fresh_page(browser, app, tab="Timeline")


def show(page: Page, topic: str) -> None:
    page.locator("#qa-timeline-topic textarea").fill(topic)
    page.get_by_role("button", name="Show timeline").click()


def test_timeline_tab_shows_events_in_order_with_citations(page: Page) -> None:
    show(page, "")
    events = page.locator("#qa-timeline .qa-event")
    expect(events).to_have_count(6, timeout=TIMEOUT)
    assert events.locator(".qa-when").all_inner_texts() == [
        "2023", "November 2023", "June 2024", "1 July 2024", "1 July 2024", "2 July 2024",
    ]  # fmt: skip
    monday = events.nth(3)
    expect(monday.locator(".qa-resolved")).to_contain_text(
        "resolved from publication date: Monday → 2024-07-01 (publication date 2024-07-02)"
    )
    expect(events.nth(0).locator(".qa-resolved")).to_have_count(0)  # "in 2023" is absolute
    expect(events.nth(5)).to_contain_text("Published:")
    # The cited paragraph opens under the event, its sentence marked.
    quote = monday.locator("details blockquote")
    expect(quote).to_be_hidden()
    monday.locator("details summary").click()
    expect(quote).to_be_visible()
    expect(monday.locator("details summary")).to_contain_text(f"{SEED_002}, paragraph 3")
    paragraph = seed_paragraph(SEED_002, 2)
    assert " ".join(quote.inner_text().split()) == " ".join(paragraph.split())
    expect(quote.locator("mark")).to_contain_text("signed an agreement on Monday")
    # Seed 000 has no publication date: listed as such, its "two years ago" not placed.
    undated = page.locator("#qa-timeline .qa-undated")
    expect(undated).to_contain_text(SEED_000)
    expect(undated).to_contain_text("“two years ago”")


def test_timeline_tab_topic_and_bad_input(page: Page) -> None:
    show(page, "football transfer fees")
    expect(page.locator("#qa-timeline")).to_contain_text("No paragraph", timeout=TIMEOUT)
    expect(page.locator("#qa-timeline .qa-event")).to_have_count(0)
    show(page, "Darién Gap crossings")
    events = page.locator("#qa-timeline .qa-event")
    expect(events.first).to_be_visible(timeout=TIMEOUT)
    whens = events.locator(".qa-when").all_inner_texts()
    assert "2023" in whens and "1 July 2024" in whens
    show(page, "x" * 3000)
    expect(page.locator("#qa-timeline .qa-error")).to_contain_text("topic is", timeout=TIMEOUT)
