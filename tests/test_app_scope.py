"""The chat page's scope selector, running for real (`python app.py` over dated copies
of the seeds, driven by Debian's Chromium): choosing an article or a date range
restricts the answer, which says what it was asked of; the `/ask` endpoint takes the
same scope."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import test_app
from conftest import SEED_000, SEED_002, SEEDS, make_settings
from load import App, start_app, stop_app  # bench/, on sys.path once test_app is imported
from playwright.sync_api import Page, expect
from test_app import SEED_QUESTION, ask

from qa.store.ingest import ingest
from qa.store.opened import forget_stores

# test_app's browser and page, over this module's app.
browser = test_app.browser
page = test_app.page
DATES = {SEED_000: "2024-06-28", SEED_002: "2024-07-02"}


@pytest.fixture(scope="module")
def app_data(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Copies of the seeds with publication dates, and an index of them."""
    base = tmp_path_factory.mktemp("app-scope")
    folder = base / "articles"
    folder.mkdir()
    for name, day in DATES.items():
        text = (SEEDS / name).read_text(encoding="utf-8")
        (folder / name).write_text(f"date: {day}\n\n{text}", encoding="utf-8")
    assert ingest([folder], make_settings(base / "index", folder), quiet=True).files == 2
    forget_stores()
    return base / "index", folder


@pytest.fixture(scope="module")
def app(app_data: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    index_dir, folder = app_data
    running = start_app(index_dir, folder, tmp_path_factory.mktemp("app-scope-run"))
    yield running
    stop_app(running)


def choose(page: Page, name: str) -> None:
    """Pick the article whose label holds `name` in the Articles dropdown."""
    box = page.locator("#qa-scope-articles input")
    box.blur()  # the list opens when the box gets the focus
    box.click()
    box.fill(name)  # the one option left, chosen with Enter
    expect(page.get_by_role("option")).to_have_count(1)
    box.press("Enter")
    page.keyboard.press("Escape")
    expect(page.locator("#qa-scope-articles")).to_contain_text(name)


def clear_choice(page: Page) -> None:
    page.locator("#qa-scope-articles").get_by_role("button", name="Clear").first.click()


def test_one_article_chosen_answers_from_it_or_abstains(page: Page) -> None:
    choose(page, SEED_002)
    answer, _ = ask(page, SEED_QUESTION)
    expect(answer.locator(".qa-abstain")).to_contain_text("don't answer")
    expect(answer).to_contain_text(f"Scope: 1 article ({SEED_002}).")
    assert "6,000,000" not in answer.inner_text()

    clear_choice(page)
    choose(page, SEED_000)
    answer, _ = ask(page, SEED_QUESTION)
    assert "6,000,000" in answer.inner_text()
    expect(answer).to_contain_text(f"Scope: 1 article ({SEED_000}).")
    expect(answer.locator(".qa-sources details").first.locator("summary")).to_contain_text(SEED_000)


def test_no_article_chosen_asks_them_all(page: Page) -> None:
    answer, _ = ask(page, SEED_QUESTION)
    assert "6,000,000" in answer.inner_text()
    assert "Scope:" not in answer.inner_text()


def test_dates_restrict_the_articles_and_a_bad_date_is_explained(page: Page) -> None:
    page.locator("#qa-scope-since textarea, #qa-scope-since input").first.fill("2024-07-01")
    answer, _ = ask(page, SEED_QUESTION)
    expect(answer.locator(".qa-abstain")).to_contain_text("don't answer")
    expect(answer).to_contain_text(f"Scope: 1 article ({SEED_002}); published 2024-07-01 or later.")

    page.locator("#qa-scope-since textarea, #qa-scope-since input").first.fill("")
    page.locator("#qa-scope-until textarea, #qa-scope-until input").first.fill("2024-06-30")
    answer, _ = ask(page, SEED_QUESTION)
    assert "6,000,000" in answer.inner_text()
    expect(answer).to_contain_text("published 2024-06-30 or earlier")

    page.locator("#qa-scope-until textarea, #qa-scope-until input").first.fill("2024-13-01")
    answer, _ = ask(page, SEED_QUESTION)
    expect(answer.locator(".qa-error")).to_contain_text(
        "until='2024-13-01' is not a date (use YYYY-MM-DD)."
    )


def test_the_selector_lists_the_index_and_follows_it(page: Page, app: App) -> None:
    box = page.locator("#qa-scope-articles input")
    box.click()
    options = page.get_by_role("option")
    expect(options).to_have_count(2)
    for name, day in DATES.items():  # each shown with its publication date
        expect(page.get_by_role("option", name=re.compile(re.escape(name)))).to_contain_text(day)
    page.keyboard.press("Escape")

    # An article added behind the page's back shows once the Chat tab is shown again.
    added = app.seeds_dir / "ferry.txt"
    added.write_text(
        "date: 2024-08-01\n\nSolar ferry enters service\n\nThe ferry Solveig carries up to "
        "240 passengers, the harbour office said.\n",
        encoding="utf-8",
    )
    ingest([added], make_settings(app.index_dir, app.seeds_dir), quiet=True)
    forget_stores()
    page.get_by_role("tab", name="Articles").click()
    page.get_by_role("tab", name="Chat").click()
    box.click()
    expect(options).to_have_count(3)
    expect(page.get_by_role("option", name=re.compile("ferry.txt"))).to_be_visible()
    page.keyboard.press("Escape")
    choose(page, "ferry.txt")
    answer, _ = ask(page, "How many passengers can the ferry Solveig carry?")
    assert "240" in answer.inner_text()
    expect(answer).to_contain_text("Scope: 1 article (ferry.txt).")


def test_ask_endpoint_takes_a_scope(app: App) -> None:
    from gradio_client import Client

    client = Client(app.url, verbose=False)
    plain = client.predict(SEED_QUESTION, api_name="/ask")
    assert set(plain) == {"answer", "abstained", "citations", "related"}
    scoped = client.predict(SEED_QUESTION, None, [SEED_002], api_name="/ask")
    assert scoped["abstained"] is True
    assert scoped["scope"]["articles"] == [SEED_002]
    dated = client.predict(SEED_QUESTION, None, None, None, "2024-06-30", api_name="/ask")
    assert dated["abstained"] is False and "6,000,000" in dated["answer"]
    assert dated["scope"]["until"] == "2024-06-30"
    with pytest.raises(Exception, match="is not a date"):
        client.predict(SEED_QUESTION, None, None, "July", api_name="/ask")
