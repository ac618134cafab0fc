"""Questions about publication time (qa.search.recency): "the latest ..." quotes the most
recently published article that answers; "after 2023" narrows the articles asked."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import SEED_000, SEED_002, make_settings

from qa import Answer, ask
from qa.search.recency import asks_latest, implied_range, plain
from qa.settings import Settings
from qa.store.ingest import ingest
from qa.store.opened import forget_stores

RECORD = (
    "Darién crossings hit a record\n\n"
    "Panama's migration service said 520,000 migrants crossed the Darién Gap into Panama "
    "this year, a record number.\n"
)
FEWER = (
    "Fewer migrants cross the Darién\n\n"
    "The number of migrants who crossed the Darién Gap this year stands at 212,000, "
    "according to Panama's migration service.\n"
)
PLAIN_Q = "How many migrants crossed the Darién Gap this year?"
LATEST_Q = "What is the latest number of migrants who crossed the Darién Gap this year?"
EARLY, LATE = "2023-12-28", "2024-07-05"


@pytest.mark.parametrize(
    ("question", "since", "until", "phrase"),
    [
        ("What happened after 2023?", "2024-01-01", None, "after 2023"),
        ("How many crossed since July 2024?", "2024-07-01", None, "since July 2024"),
        ("Deportations after Sept 2023", "2023-10-01", None, "after Sept 2023"),
        ("What was said before 1 March 2024?", None, "2024-02-29", "before 1 March 2024"),
        ("What was agreed until 2024-02-29?", None, "2024-02-29", "until 2024-02-29"),
        ("Flights until Feb 2024", None, "2024-02-29", "until Feb 2024"),
        (
            "What changed after Jan. 5, 2024 and before March 2024?",
            "2024-01-06", "2024-02-29", "after Jan. 5, 2024, before March 2024",
        ),
    ],
)  # fmt: skip
def test_dates_in_a_question_set_a_range(
    question: str, since: str | None, until: str | None, phrase: str
) -> None:
    implied = implied_range(question)
    assert implied is not None
    assert (implied.since, implied.until, implied.phrase) == (since, until, phrase)


@pytest.mark.parametrize(
    "question",
    [
        "What happened after the election?",
        "How many migrants crossed the Darién in 2023?",
        "How much was paid after $6,000,000 was granted?",
        "What happened after February 30, 2024?",
    ],
)
def test_questions_without_a_date_range(question: str) -> None:
    assert implied_range(question) is None


def test_latest_words_and_the_question_as_searched() -> None:
    assert asks_latest(LATEST_Q) and asks_latest("the most recent count")
    assert not asks_latest(PLAIN_Q) and not asks_latest("a late payment")
    assert plain(LATEST_Q, dates=False) == (
        "What is the number of migrants who crossed the Darién Gap this year?"
    )
    assert plain("How many crossed after 2023?", dates=True) == "How many crossed?"
    assert plain("How many crossed after 2023?", dates=False) == "How many crossed after 2023?"
    assert plain(PLAIN_Q, dates=False) is PLAIN_Q


def figure(answer: Answer) -> str:
    """The short answer's figure."""
    return answer.short


def two_articles(base: Path, record_date: str, fewer_date: str) -> Settings:
    folder = base / "articles"
    folder.mkdir(parents=True)
    (folder / "record.txt").write_text(f"date: {record_date}\n\n{RECORD}", encoding="utf-8")
    (folder / "fewer.txt").write_text(f"date: {fewer_date}\n\n{FEWER}", encoding="utf-8")
    settings = make_settings(base / "index", folder)
    ingest([folder], settings, quiet=True)
    forget_stores()
    return settings


@pytest.fixture(scope="module")
def record_later(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return two_articles(tmp_path_factory.mktemp("record-later"), LATE, EARLY)


@pytest.fixture(scope="module")
def fewer_later(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return two_articles(tmp_path_factory.mktemp("fewer-later"), EARLY, LATE)


def test_the_latest_figure_comes_from_the_later_article(
    record_later: Settings, fewer_later: Settings
) -> None:
    """The same two texts with their dates swapped: the plain question's answer stays,
    the "latest" question's answer follows the dates."""
    for settings in (record_later, fewer_later):
        assert figure(ask(PLAIN_Q, settings=settings)) == "212,000"  # the scorer's own pick

    later = ask(LATEST_Q, settings=record_later)
    assert figure(later) == "520,000"
    assert [c.source for c in later.citations] == ["record.txt"]
    assert later.citations[0].date == LATE
    assert later.notes[-1] == (
        "The question asks for the latest: quoted from the most recently published "
        f"article that answers it (record.txt, {LATE})."
    )
    assert figure(ask(LATEST_Q, settings=fewer_later)) == "212,000"


def test_after_a_year_narrows_to_the_articles_published_after_it(
    record_later: Settings, fewer_later: Settings
) -> None:
    question = "How many migrants crossed the Darién Gap after 2023?"
    for settings, source, number in ((record_later, "record.txt", "520,000"),
                                     (fewer_later, "fewer.txt", "212,000")):  # fmt: skip
        answer = ask(question, settings=settings)
        assert figure(answer) == number
        assert [c.source for c in answer.citations] == [source]
        assert answer.scope is not None
        assert answer.scope["since"] == "2024-01-01"
        assert answer.scope["from_question"] == "after 2023"
        assert answer.scope["text"] == (
            f"Scope: 1 article ({source}); published 2024-01-01 or later "
            "(after 2023, from the question)."
        )
    # an explicit range and the question's narrow together
    both = ask(question, settings=record_later, until="2024-12-31")
    assert both.scope is not None
    assert (both.scope["since"], both.scope["until"]) == ("2024-01-01", "2024-12-31")


def test_a_date_no_article_has_narrows_nothing_and_says_so(seeded: Settings) -> None:
    """The seeds have no publication dates: the question's date leaves them all in (and
    stays in the question the answerer reads)."""
    answer = ask(
        "How much money did the US give Panama for the deportation pilot after 2023?",
        settings=seeded,
    )
    assert answer.scope is None
    assert {source for source, _ in answer.retrieved} == {SEED_000, SEED_002}
    assert (
        "The question's “after 2023” did not narrow the articles: no article in scope has "
        "a publication date in that range."
    ) in answer.notes


def test_latest_over_undated_articles_says_the_date_is_unknown(seeded: Settings) -> None:
    answer = ask(
        "What is the latest amount the US gave Panama for the deportation pilot?",
        settings=seeded,
    )
    assert not answer.abstained and "6,000,000" in answer.text
    assert "the article quoted has no publication date" in answer.notes[-1]
