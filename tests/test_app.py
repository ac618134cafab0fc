"""The chat page, running for real: `python app.py` on a free port of 127.0.0.1 over its
own copy of the seed articles and index, driven by Debian's Chromium through Playwright,
and by `gradio_client` for the `/ask` endpoint.

Never `playwright install` (it downloads a browser): `make test` installs Debian's
`chromium` with apt when it is missing and it runs as root.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from browsing import ANSWER_TIMEOUT, chromium, fresh_page
from chat_server import ChatServer, Reply, Request, error
from conftest import ROOT, SEED_000, SEEDS, make_settings, seed_paragraph
from page_server import PageServer, Route
from playwright.sync_api import Browser, Locator, Page, expect
from test_links import FERRY_PAGE
from test_links import QUESTION as LINK_QUESTION

from qa.reading.fetch import saved_name
from qa.settings import MAX_QUESTION_CHARS
from qa.store.ingest import ingest
from qa.store.opened import forget_stores

sys.path.insert(0, str(ROOT / "bench"))  # bench/ holds scripts, not a package
from load import App, start_app, stop_app  # noqa: E402

SEED_QUESTION = "How much money did the US give Panama for the deportation pilot?"

# A made-up article that shares no facts with the seeds.
NEW_ARTICLE = """Solar ferry enters service on Lake Varnen

The town of Ostby launched its first solar-powered ferry on Tuesday, replacing a diesel boat \
that had crossed Lake Varnen since 1987.

The ferry, named Solveig, carries up to 240 passengers and 18 bicycles, and makes the \
crossing in 25 minutes, the harbour office said.

Its batteries are charged from panels on the roof of the ferry terminal.
"""
NEW_QUESTION = "How many passengers can the solar ferry Solveig carry?"


@pytest.fixture(scope="module")
def app_data(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A private copy of seeds/ and an index of it (the app changes both)."""
    base = tmp_path_factory.mktemp("app")
    seeds_dir = base / "articles"
    shutil.copytree(SEEDS, seeds_dir)
    report = ingest([seeds_dir], make_settings(base / "index", seeds_dir), quiet=True)
    assert report.files == 2
    forget_stores()
    # The login app gets its own copy, so the main app's uploads never reach it.
    shutil.copytree(base / "index", base / "index-auth")
    return base / "index", seeds_dir


@pytest.fixture(scope="module")
def app(app_data: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    index_dir, seeds_dir = app_data
    # Its link field may fetch from 127.0.0.1, where the tests serve pages.
    running = start_app(
        index_dir, seeds_dir, tmp_path_factory.mktemp("app-run"), {"QA_ALLOW_PRIVATE_URLS": "1"}
    )
    yield running
    stop_app(running)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    yield from chromium()


@pytest.fixture
def page(browser: Browser, app: App) -> Iterator[Page]:
    """A fresh session on the chat page; afterwards, checks that it never left 127.0.0.1."""
    yield from fresh_page(browser, app)


# --- helpers -----------------------------------------------------------------------

# Runs in the page: note when Enter goes down in the question box, when the new answer
# first shows text (the first token) and when it is complete (its footer or an error).
WATCH = """
(index) => {
  const t = { enter: null, first: null, done: null, states: [] };
  window.__qa = t;
  const box = document.querySelector("#qa-question textarea");
  box.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && t.enter === null) t.enter = performance.now();
  }, { capture: true });
  const chat = document.querySelector("#qa-chat");
  const look = () => {
    const bot = chat.querySelectorAll("[data-testid=bot]")[index];
    if (!bot) return;
    const text = bot.innerText.trim();
    if (t.first === null && text) t.first = performance.now();
    if (text && t.states[t.states.length - 1] !== text) t.states.push(text);
    if (t.done === null && bot.querySelector(".qa-meta, .qa-error")) {
      t.done = performance.now();
      observer.disconnect();
    }
  };
  const observer = new MutationObserver(look);
  observer.observe(chat, { childList: true, subtree: true, characterData: true });
}
"""


def bots(page: Page) -> Locator:
    return page.locator("#qa-chat [data-testid=bot]")


def ask(page: Page, question: str) -> tuple[Locator, dict[str, Any]]:
    """Type a question, press Enter, wait for the whole answer; returns the answer's
    message and what the page saw on the way."""
    index = bots(page).count()
    page.evaluate(WATCH, index)
    box = page.locator("#qa-question textarea")
    box.fill(question)
    box.press("Enter")
    page.wait_for_function("() => window.__qa.done !== null", timeout=ANSWER_TIMEOUT)
    seen: dict[str, Any] = page.evaluate("() => window.__qa")
    return bots(page).nth(index), seen


def squash(text: str) -> str:
    return " ".join(text.split())


def source_of(details: Locator) -> tuple[str, int]:
    """(file, paragraph) from a source's summary line."""
    summary = details.locator("summary").inner_text()
    match = re.search(r"— (\S+), paragraph (\d+)", summary)
    assert match, summary
    return match.group(1), int(match.group(2))


# --- the chat ----------------------------------------------------------------------


def test_seed_question_streams_answer_and_source_expands(page: Page, app: App) -> None:
    # An empty chat offers example questions.
    expect(page.locator("#qa-chat")).to_contain_text(SEED_QUESTION)

    answer, seen = ask(page, SEED_QUESTION)
    first_ms = seen["first"] - seen["enter"]
    full_ms = seen["done"] - seen["enter"]
    print(f"\nEnter to first token: {first_ms:.0f} ms; to full answer: {full_ms:.0f} ms")
    timings = {"first_token_ms": round(first_ms), "full_answer_ms": round(full_ms)}
    (app.log.parent / "timings.json").write_text(json.dumps(timings))

    # The answer streamed in: text showed before it was complete, then grew into it.
    assert seen["first"] <= seen["done"]
    assert len(seen["states"]) >= 2, seen["states"]
    assert seen["states"][-1].startswith(seen["states"][0].rstrip("▍ ").split()[0])
    text = answer.inner_text()
    assert "6,000,000" in text

    marker = answer.locator(".qa-cite-1").first
    expect(marker).to_be_visible()
    expect(marker).to_have_text("[1]")

    source = answer.locator(".qa-sources details").first
    expect(source.locator("summary")).to_contain_text("[1]")
    quote = source.locator("blockquote")
    expect(quote).to_be_hidden()  # collapsed until asked
    source.locator("summary").click()
    expect(quote).to_be_visible()
    name, number = source_of(source)
    assert (name, number) == (SEED_000, 2)
    expect(source.locator("summary")).to_contain_text("US grants Panama $6 million")
    assert squash(quote.inner_text()) == squash(seed_paragraph(name, number))
    highlighted = squash(quote.locator("mark").inner_text())
    assert "6,000,000" in highlighted and highlighted in squash(seed_paragraph(name, number))

    shots = os.environ.get("QA_SCREENSHOTS")  # e.g. QA_SCREENSHOTS=docs to refresh the README's
    target = Path(shots) if shots else app.log.parent
    target.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(target / "chat.png"))


def test_marker_opens_its_source(page: Page) -> None:
    answer, _ = ask(page, SEED_QUESTION)
    source = answer.locator(".qa-sources details").first
    expect(source.locator("blockquote")).to_be_hidden()
    answer.locator(".qa-cite-1").first.click()
    expect(source.locator("blockquote")).to_be_visible()


def test_follow_up_uses_the_conversation_and_clear_forgets_it(page: Page) -> None:
    first, _ = ask(page, "Who is Luis Miranda?")
    assert "Miranda" in first.inner_text()
    follow, _ = ask(page, "How many people did he say had been arrested?")
    text = follow.inner_text()
    assert "20,000" in text
    expect(follow.locator(".qa-understood")).to_contain_text("Luis Miranda")
    expect(page.locator("#qa-chat [data-testid=user]")).to_have_count(2)

    page.get_by_role("button", name="Clear chat").click()
    expect(bots(page)).to_have_count(0)
    expect(page.locator("#qa-chat")).to_contain_text(SEED_QUESTION)  # examples are back
    again, _ = ask(page, "How many people did he say had been arrested?")
    expect(again.locator(".qa-meta")).to_be_visible()
    expect(again.locator(".qa-understood")).to_have_count(0)  # nothing to refer back to


def test_example_question_is_answered(page: Page) -> None:
    page.locator("#qa-chat").get_by_text(SEED_QUESTION).click()
    answer = bots(page).first
    expect(answer.locator(".qa-meta")).to_be_visible(timeout=ANSWER_TIMEOUT)
    assert "6,000,000" in answer.inner_text()


def test_unanswerable_question_shows_related_not_sources(page: Page) -> None:
    answer, _ = ask(page, "What is the population of Panama?")
    expect(answer.locator(".qa-abstain")).to_contain_text("don't answer")
    expect(answer.locator(".qa-sources")).to_have_count(0)
    expect(answer.locator(".qa-cite")).to_have_count(0)
    related = answer.locator(".qa-related details")
    expect(answer.locator(".qa-related")).to_contain_text("Related")
    assert related.count() >= 1
    related.first.locator("summary").click()
    name, number = source_of(related.first)
    quote = related.first.locator("blockquote")
    assert squash(quote.inner_text()) == squash(seed_paragraph(name, number))


@pytest.mark.parametrize(
    ("question", "message"),
    [("   ", "The question is empty"), ("x" * (MAX_QUESTION_CHARS + 1), "the limit is 2,000")],
)
def test_bad_question_is_a_message_not_a_traceback(page: Page, question: str, message: str) -> None:
    answer, _ = ask(page, question)
    error = answer.locator(".qa-error")
    expect(error).to_contain_text(message)
    text = answer.inner_text()
    assert "Traceback" not in text and "Error:" not in text
    # The question stays in the box, to be fixed and sent again.
    assert page.locator("#qa-question textarea").input_value() == question


# --- the API (before the Articles tests change the index) ----------------------------


def test_ask_endpoint_returns_json(app: App) -> None:
    from gradio_client import Client

    client = Client(app.url, verbose=False)
    result = client.predict(SEED_QUESTION, api_name="/ask")
    assert set(result) == {"answer", "abstained", "citations", "related"}
    assert result["abstained"] is False and "6,000,000" in result["answer"]
    first = result["citations"][0]
    assert (first["n"], first["source"], first["paragraph"]) == (1, SEED_000, 2)
    assert first["text"] == seed_paragraph(SEED_000, 2)

    unanswerable = client.predict("What is the population of Panama?", api_name="/ask")
    assert unanswerable["abstained"] is True and unanswerable["citations"] == []
    assert unanswerable["related"]

    with pytest.raises(Exception, match="The question is empty"):
        client.predict("  ", api_name="/ask")


# Ten single-fact questions of eval/questions.jsonl, each with a word its answer holds.
FACTS = [
    ("How much money did the US give Panama for the deportation pilot?", "6,000,000"),
    ("Who is the US Homeland Security Secretary mentioned in the article about the Darién Gap "
     "agreement?", "Mayorkas"),
    ("How much has the United States provided to address the humanitarian crisis in the "
     "region?", "50 million"),
    ("How much reward has the US offered for information leading to the capture of Clan del "
     "Golfo members?", "8,000,000"),
    ("How many people have benefited from Safe Mobility?", "30,000"),
    ("How many people have been arrested in the campaign against trafficking networks that "
     "Luis Miranda described?", "20,000"),
    ("What position does Marcela Escobari hold?", "Special Assistant to the President"),
    ("How many migrants crossed the Darién jungle in 2023, according to Panama?", "half a million"),
    ("Which news organization first reported the Biden administration's plans to send US "
     "immigration officials to Panama?", "CBS News"),
    ("Which country recently imposed visa requirements for Chinese migrants?", "Ecuador"),
]  # fmt: skip


def test_ten_concurrent_sessions_each_get_their_own_answer(app: App) -> None:
    from gradio_client import Client

    def session(question: str) -> dict[str, Any]:
        client = Client(app.url, verbose=False)  # its own session
        result: dict[str, Any] = client.predict(question, api_name="/ask")
        return result

    questions = [q for q, _ in FACTS]
    one_client = Client(app.url, verbose=False)
    alone = {q: one_client.predict(q, api_name="/ask") for q in questions}
    with ThreadPoolExecutor(max_workers=len(questions)) as pool:
        together = dict(zip(questions, pool.map(session, questions), strict=True))
    for question, expected in FACTS:
        got = together[question]
        assert got == alone[question], question  # its own answer, not a neighbour's
        assert not got["abstained"] and expected in got["answer"], (question, got["answer"])
    assert len({r["answer"] for r in together.values()}) == len(FACTS)


# --- the Articles tab (changes the index: last) --------------------------------------


def articles_tab(page: Page) -> None:
    page.get_by_role("tab", name="Articles").click()
    expect(page.locator("#qa-articles")).to_contain_text(SEED_000)


def test_articles_tab_lists_the_index(page: Page) -> None:
    articles_tab(page)
    table = page.locator("#qa-articles")
    expect(table).to_contain_text("002_a1171a754c888c85.txt")
    expect(table).to_contain_text("US grants Panama $6 million")
    expect(page.locator("#qa-status")).to_contain_text("2 articles")


def test_upload_is_answerable_at_once_then_delete(page: Page, app: App, tmp_path: Path) -> None:
    new = tmp_path / "ferry.txt"
    new.write_text(NEW_ARTICLE, encoding="utf-8")
    bad = tmp_path / "latin1.txt"
    bad.write_bytes("Caf\xe9 news\n\nA paragraph in Latin-1 \xe9\n".encode("latin-1"))

    articles_tab(page)
    page.locator("#qa-upload input[type=file]").set_input_files([str(new), str(bad)])
    message = page.locator("#qa-upload-msg")
    expect(message).to_contain_text("Added ferry.txt", timeout=ANSWER_TIMEOUT)
    expect(message).to_contain_text("latin1.txt: not valid UTF-8")
    expect(page.locator("#qa-articles")).to_contain_text("Solar ferry enters service")
    expect(page.locator("#qa-status")).to_contain_text("3 articles")
    assert (app.seeds_dir / "ferry.txt").read_text(encoding="utf-8") == NEW_ARTICLE
    assert not (app.seeds_dir / "latin1.txt").exists()

    page.get_by_role("tab", name="Chat").click()
    answer, _ = ask(page, NEW_QUESTION)
    assert "240" in answer.inner_text()
    source = answer.locator(".qa-sources details").first
    assert source_of(source) == ("ferry.txt", 3)

    articles_tab(page)
    page.locator("#qa-choice input").click()
    page.get_by_role("option", name=re.compile("ferry.txt")).click()
    page.get_by_role("button", name="Delete article").click()
    expect(page.locator("#qa-delete-msg")).to_contain_text("Deleted ferry.txt")
    expect(page.locator("#qa-status")).to_contain_text("2 articles")
    expect(page.locator("#qa-articles")).not_to_contain_text("Solar ferry")
    assert not (app.seeds_dir / "ferry.txt").exists()

    page.get_by_role("tab", name="Chat").click()
    gone, _ = ask(page, NEW_QUESTION)
    assert "240" not in gone.inner_text()


def test_a_link_added_in_the_articles_tab_shows_its_date_and_site(page: Page, app: App) -> None:
    with PageServer() as server:
        server.routes["/news/solar-ferry.html"] = Route(FERRY_PAGE.encode())
        url = server.url("/news/solar-ferry.html")
        articles_tab(page)
        box = page.locator("#qa-link input, #qa-link textarea").first
        box.fill(server.url("/news/missing.html"))
        page.get_by_role("button", name="Add link").click()
        expect(page.locator("#qa-link-msg")).to_contain_text("the server answered 404")
        assert box.input_value() == server.url("/news/missing.html")  # kept, to correct

        box.fill(url)
        page.get_by_role("button", name="Add link").click()
        name = saved_name(url, ".html")
        expect(page.locator("#qa-link-msg")).to_contain_text(
            f"Added {name}", timeout=ANSWER_TIMEOUT
        )
        table = page.locator("#qa-articles")
        expect(table).to_contain_text("Solar ferry enters service on Lake Varnen")
        expect(table).to_contain_text("14 May 2024")
        expect(table).to_contain_text("Varnen Post")
        assert (app.seeds_dir / name).is_file()

    page.get_by_role("tab", name="Chat").click()
    answer, _ = ask(page, LINK_QUESTION)
    assert "240" in answer.inner_text()
    source = answer.locator(".qa-sources details").first
    assert source_of(source) == (name, 3)
    summary = squash(source.locator("summary").inner_text())
    assert "Varnen Post · 14 May 2024 · by Ingrid Holm" in summary
    source.locator("summary").click()
    expect(source.locator(".qa-url a")).to_have_attribute(
        "href", "https://varnenpost.example/news/solar-ferry"
    )

    articles_tab(page)  # leave the index as the next tests expect it
    page.locator("#qa-choice input").click()
    page.get_by_role("option", name=re.compile(re.escape(name))).click()
    page.get_by_role("button", name="Delete article").click()
    expect(page.locator("#qa-delete-msg")).to_contain_text(f"Deleted {name}")


# --- login, and answers from a model ------------------------------------------------

KEY = "sk-test-PAGE0123456789SECRET"
USER, PASSWORD = "ann", "s3cret"
PASSAGE = re.compile(r"^\[(\d+)\] (.*?)\n<passage>\n(.*?)\n</passage>", re.S | re.M)


def citing(template: str, needle: str) -> Any:
    """A model reply that cites, as {n}, the prompt's passage holding `needle`."""

    def reply(request: Request) -> Reply:
        numbers = {text: int(n) for n, _, text in PASSAGE.findall(request.user_text)}
        n = next(n for text, n in numbers.items() if needle in text)
        return Reply(template.format(n=n), chunk=3)

    return reply


@pytest.fixture(scope="module")
def model_server() -> Iterator[ChatServer]:
    server = ChatServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def locked_app(
    app_data: tuple[Path, Path],
    model_server: ChatServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[App]:
    """The page behind a login, answered by a (scripted) model on 127.0.0.1."""
    index_dir, seeds_dir = app_data
    running = start_app(
        index_dir.with_name("index-auth"),
        seeds_dir,
        tmp_path_factory.mktemp("locked-run"),
        {
            "QA_AUTH": f"{USER}:{PASSWORD}",
            "QA_LLM": "openai",
            "QA_LLM_MODEL": "local-model",
            "OPENAI_API_KEY": KEY,
            "OPENAI_BASE_URL": model_server.base_url,
            "QA_LLM_TIMEOUT": "10",
            "QA_LLM_RETRIES": "0",
        },
    )
    yield running
    stop_app(running)


def log_in(browser: Browser, app: App, password: str = PASSWORD) -> Page:
    page = browser.new_context(viewport={"width": 1200, "height": 1000}).new_page()
    page.set_default_timeout(60_000)
    page.goto(app.url)
    page.get_by_label("username").fill(USER)
    page.get_by_label("password").fill(password)
    page.get_by_role("button", name="Login").click()
    return page


def test_login_when_auth_is_set(locked_app: App, browser: Browser) -> None:
    with urllib.request.urlopen(locked_app.url, timeout=10) as response:
        assert "#qa-question" not in response.read().decode()
    page = log_in(browser, locked_app, password="wrong")
    expect(page.get_by_text("Incorrect", exact=False)).to_be_visible()
    expect(page.locator("#qa-question")).to_have_count(0)
    page.context.close()

    page = log_in(browser, locked_app)
    expect(page.locator("#qa-status")).to_contain_text("paragraphs", timeout=60_000)
    expect(page.locator("#qa-status")).to_contain_text("Answers: local-model")
    page.context.close()


def test_model_answer_streams_and_a_fallback_says_so(
    locked_app: App, browser: Browser, model_server: ChatServer
) -> None:
    model_server.script = [
        citing(
            "The United States gave Panama's Ministry of Security $6 million [{n}].", "6,000,000"
        ),
        error(500, "the model server is down"),
    ]
    page = log_in(browser, locked_app)
    expect(page.locator("#qa-status")).to_contain_text("paragraphs", timeout=60_000)

    answer, seen = ask(page, SEED_QUESTION)
    first_ms, full_ms = seen["first"] - seen["enter"], seen["done"] - seen["enter"]
    print(f"\nmodel (scripted, 127.0.0.1): Enter to first token {first_ms:.0f} ms, "
          f"to full answer {full_ms:.0f} ms")  # fmt: skip
    assert len(seen["states"]) >= 3, seen["states"]  # it grew in pieces
    expect(answer).to_contain_text("gave Panama's Ministry of Security $6 million [1].")
    expect(answer.locator(".qa-meta")).to_contain_text("answered by local-model")
    expect(answer.locator(".qa-fallback")).to_have_count(0)
    source = answer.locator(".qa-sources details").first
    source.locator("summary").click()
    assert source_of(source) == (SEED_000, 2)
    assert model_server.requests[-1].body.get("stream") is True

    fallback, _ = ask(page, SEED_QUESTION)
    expect(fallback.locator(".qa-fallback")).to_contain_text("The model could not be used")
    expect(fallback.locator(".qa-meta")).to_contain_text("answered by extractive")
    assert "6,000,000" in fallback.inner_text()
    page_text = page.locator("body").inner_text()
    assert KEY not in page_text and "Traceback" not in page_text
    page.context.close()


def test_api_needs_the_login_too(locked_app: App, model_server: ChatServer) -> None:
    from gradio_client import Client

    model_server.script = [citing("Panama got $6 million [{n}].", "6,000,000")]

    with pytest.raises(Exception):  # noqa: B017 - refused before any endpoint is known
        Client(locked_app.url, verbose=False).predict(SEED_QUESTION, api_name="/ask")
    client = Client(locked_app.url, auth=(USER, PASSWORD), verbose=False)
    result = client.predict(SEED_QUESTION, api_name="/ask")
    assert result["answer"] == "Panama got $6 million [1]."
    assert (result["citations"][0]["source"], result["citations"][0]["paragraph"]) == (SEED_000, 2)
