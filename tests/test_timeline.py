"""The timeline (qa.timeline, qa.reading.dates, `qa timeline`) on real indexes: the seeds as they
are (no publication dates: nothing relative is resolved), a copy of seed 002 dated
2024-07-02 (everything relative is), and BBC news articles whose publication dates their
own text gives away (bench/timeline_bbc.py)."""

from __future__ import annotations

import json
import shutil
import sys
from datetime import date as Date
from pathlib import Path

import pytest
from conftest import ROOT, SEED_000, SEED_002, SEEDS, make_settings, seed_paragraph

from qa.cli import main
from qa.desk.timeline import Event, Timeline, timeline
from qa.errors import QuestionError, ScopeError
from qa.reading.dates import find_dates
from qa.settings import Settings
from qa.store.ingest import ingest
from qa.store.opened import forget_stores

sys.path.insert(0, str(ROOT / "bench"))  # bench/ holds scripts, not a package
from timeline_bbc import HELD_OUT, SAMPLE, score, write_sample  # noqa: E402

PUBLISHED = "2024-07-02"


def dated_002(folder: Path) -> Path:
    """Seed 002 with a `date:` front matter (and seed 000 beside it, undated)."""
    folder.mkdir(parents=True, exist_ok=True)
    text = (SEEDS / SEED_002).read_text(encoding="utf-8")
    (folder / SEED_002).write_text(f"---\ndate: {PUBLISHED}\n---\n\n{text}", encoding="utf-8")
    shutil.copy(SEEDS / SEED_000, folder / SEED_000)
    return folder


@pytest.fixture(scope="module")
def dated(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    base = tmp_path_factory.mktemp("dated")
    folder = dated_002(base / "articles")
    settings = make_settings(base / "index", folder)
    ingest([folder], settings, quiet=True)
    forget_stores()
    return settings


def texts(result: Timeline) -> list[tuple[str, str, bool]]:
    return [(e.when.iso, e.expression, e.resolved) for e in result.events]


def in_order(events: list[Event]) -> bool:
    keys = [e.when.start for e in events]
    return keys == sorted(keys)


# --- reading dates -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sentence", "iso", "precision"),
    [
        ("It was signed on July 1, 2024 in Panama.", "2024-07-01", "day"),
        ("It was signed on 1 July 2024 in Panama.", "2024-07-01", "day"),
        ("It was signed on 2024-07-01 in Panama.", "2024-07-01", "day"),
        ("The plan was drafted in November 2023.", "2023-11", "month"),
        ("Crossings peaked in 2023.", "2023", "year"),
        ("The group was active in the 1990s.", "1990s", "decade"),
    ],
)
def test_absolute_dates_need_no_publication_date(sentence: str, iso: str, precision: str) -> None:
    (m,) = find_dates(sentence, None)
    assert m.when is not None and (m.when.iso, m.when.precision) == (iso, precision)
    assert not m.relative and m.how == ""


@pytest.mark.parametrize(
    ("sentence", "iso"),
    [
        ("They met on Monday.", "2024-07-01"),
        ("They met last Monday.", "2024-07-01"),  # the latest Monday before publication
        ("They met yesterday.", "2024-07-01"),
        ("They meet today.", "2024-07-02"),
        ("It happened last week.", "2024-06-24"),
        ("It happened last month.", "2024-06"),
        ("It happened last year.", "2023"),
        ("It started two years ago.", "2022"),
        ("CBS first reported the plans in November.", "2023-11"),
        ("The talks will resume next month.", "2024-08"),
        ("The minister will visit on Friday.", "2024-07-05"),
        ("The vote is due on 5 May.", "2025-05-05"),
        ("The vote was held on 30 June.", "2024-06-30"),
    ],
)
def test_relative_dates_resolve_against_the_publication_date(sentence: str, iso: str) -> None:
    (m,) = find_dates(sentence, Date(2024, 7, 2))  # a Tuesday
    assert m.when is not None and m.when.iso == iso
    assert m.relative and m.how.endswith(f"→ {iso} (publication date 2024-07-02)")
    (undated,) = find_dates(sentence, None)
    assert undated.when is None and undated.relative


@pytest.mark.parametrize(
    "sentence",
    [
        "For more than 18 months we have been carrying out a campaign.",
        "In recent years, Panama has reported record numbers.",
        "Over the past few months, officials have conducted an operation.",
        "The arrangement had been months in the making.",
        "Fifa 2005 is back at the top of the charts.",
        "It is shown on BBC2 at 2005 GMT.",
        "They may still come.",
    ],
)
def test_durations_and_other_numbers_are_not_dates(sentence: str) -> None:
    assert find_dates(sentence, Date(2024, 7, 2)) == []


def test_a_weekday_written_beside_a_day_fixes_its_year() -> None:
    """'Friday 11 March' without a year: the year, near publication, where 11 March is a
    Friday (2005), not the nearest 11 March."""
    (m,) = find_dates("Tickets go on sale on Friday 11 March.", Date(2004, 10, 29))
    assert m.when is not None and m.when.iso == "2005-03-11"


# --- the seeds, undated --------------------------------------------------------------


def test_seeds_without_dates_resolve_nothing_relative(seeded: Settings) -> None:
    result = timeline(settings=seeded)
    assert not any(e.kind == "published" for e in result.events)
    assert all(not e.resolved for e in result.events)
    # "in 2023" is absolute: on the timeline, cited to seed 002's paragraph 3.
    (year,) = [e for e in result.events if e.expression == "2023"]
    assert (year.when.iso, year.when.precision) == ("2023", "year")
    assert "over half a million in 2023 alone" in year.sentence
    assert year.citation.text == seed_paragraph(SEED_002, 3)
    # "Monday" is never guessed: the article is listed as undated, with what was not placed.
    assert not any("Monday" in e.expression for e in result.events)
    undated = {a.source: a for a in result.undated}
    assert set(undated) == {SEED_000, SEED_002}
    left = [(u.expression, u.citation.paragraph) for u in undated[SEED_002].unresolved]
    assert left == [("Monday", 2), ("Monday", 5), ("November", 8), ("Last month", 9)]
    for u in undated[SEED_002].unresolved:
        assert u.sentence in u.citation.text
        assert u.citation.text == seed_paragraph(SEED_002, u.citation.paragraph)
    assert [u.expression for u in undated[SEED_000].unresolved] == ["two years ago"]
    assert any("without a publication date" in n for n in result.notes)


# --- a dated copy of seed 002 --------------------------------------------------------


def test_dated_seed_resolves_relative_dates_in_order(dated: Settings) -> None:
    result = timeline(settings=dated)
    ours = [e for e in result.events if e.citation.source == SEED_002]
    assert texts(result) == [(e.when.iso, e.expression, e.resolved) for e in ours]
    assert texts(result) == [
        ("2023", "2023", False),
        ("2023-11", "November", True),
        ("2024-06", "Last month", True),
        ("2024-07-01", "Monday", True),
        ("2024-07-01", "Monday", True),
        ("2024-07-02", "", False),
    ]
    assert in_order(result.events)
    monday = result.events[3]
    assert monday.how == "Monday → 2024-07-01 (publication date 2024-07-02)"
    assert "signed an agreement on Monday" in monday.sentence
    assert monday.citation.text == seed_paragraph(SEED_002, 2)
    # In the dated copy the front matter is block 1, so seed paragraph n is paragraph n+1.
    assert [e.citation.paragraph for e in result.events[3:5]] == [3, 6]
    assert result.events[1].citation.text == seed_paragraph(SEED_002, 8)
    assert result.events[2].citation.text == seed_paragraph(SEED_002, 9)
    published = result.events[-1]
    assert published.kind == "published" and published.citation.date == PUBLISHED
    assert published.sentence == "U.S. agrees to help Panama deport migrants crossing Darién Gap"
    # Seed 000 stays undated beside it: its "two years ago" is not placed.
    assert [a.source for a in result.undated] == [SEED_000]
    for e in result.events:
        assert e.sentence in e.citation.text or e.kind == "published"


def test_a_topic_keeps_the_paragraphs_about_it(dated: Settings) -> None:
    about = timeline("Darién Gap crossings", dated)
    assert about.topic == "Darién Gap crossings"
    kept = {(e.when.iso, e.citation.paragraph) for e in about.events if e.kind == "text"}
    assert ("2023", 4) in kept and ("2024-07-01", 3) in kept  # the crossings; the deal
    assert ("2024-07-01", 6) not in kept  # Mayorkas at an inauguration: not about crossings
    assert in_order(about.events)
    off = timeline("football transfer fees", dated)
    assert off.events == [] and off.undated == []
    assert any("No paragraph" in n for n in off.notes)


def test_the_scope_restricts_the_timeline_as_it_does_ask(dated: Settings) -> None:
    only = timeline(settings=dated, sources=[SEED_000])
    assert only.events == [] and [a.source for a in only.undated] == [SEED_000]
    assert any(n.startswith("Scope: 1 article (000_") for n in only.notes)
    # A date range keeps the articles published in it; the undated one is left out.
    recent = timeline(settings=dated, since="2024-07-01")
    assert {e.citation.source for e in recent.events} == {SEED_002} and recent.undated == []
    assert len(recent.events) == 6
    assert any("1 undated article was left out" in n for n in recent.notes)
    with pytest.raises(ScopeError, match="No article is in the scope"):
        timeline(settings=dated, until="2020-01-01")
    with pytest.raises(ScopeError, match="no-such.txt"):
        timeline(settings=dated, sources=["no-such.txt"])
    with pytest.raises(QuestionError, match="topic is"):
        timeline("x" * 5000, dated)


def test_cli_prints_the_timeline_as_json(
    dated: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--index", str(dated.index_dir), "timeline", "--json"]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    dates = [e["date"] for e in out["events"]]
    assert dates == ["2023", "2023-11", "2024-06", "2024-07-01", "2024-07-01", "2024-07-02"]
    monday = out["events"][3]
    assert monday["resolved"] and monday["precision"] == "day"
    assert monday["citation"]["paragraph"] == 3 and monday["citation"]["source"] == SEED_002
    assert [a["source"] for a in out["undated"]] == [SEED_000]

    assert main(["--index", str(dated.index_dir), "timeline", "Darién Gap crossings"]) == 0
    text = capsys.readouterr().out
    assert "resolved from the publication date: Monday → 2024-07-01" in text

    assert main(["--index", str(dated.index_dir), "timeline", "--source", "nope.txt"]) == 2
    assert "error: No article in the index matches 'nope.txt'" in capsys.readouterr().err

    assert main(["--index", str(dated.index_dir), "timeline", "--since", "2024-07-01",
                 "--json"]) == 0  # fmt: skip
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert {e["citation"]["source"] for e in out["events"]} == {SEED_002}


# --- BBC articles with known dates ---------------------------------------------------


@pytest.fixture(scope="module")
def bbc_index(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    base = tmp_path_factory.mktemp("bbc")
    write_sample(base / "articles")
    settings = make_settings(base / "index", base / "articles")
    ingest([base / "articles"], settings, quiet=True)
    forget_stores()
    return settings


@pytest.fixture(scope="module")
def bbc(bbc_index: Settings) -> Timeline:
    return timeline(settings=bbc_index)


def by_source(result: Timeline, path: str) -> list[tuple[str, str]]:
    name = f"bbc_{path.replace('/', '_')}"
    return [(e.when.iso, e.expression) for e in result.events if e.citation.source == name]


def test_bbc_articles_publication_dates_and_events(bbc: Timeline) -> None:
    assert in_order(bbc.events)
    assert bbc.undated == []
    published = {e.citation.source: e.when.iso for e in bbc.events if e.kind == "published"}
    assert published == {f"bbc_{d.path.replace('/', '_')}": d.date for d in SAMPLE}
    # Voter registration, published Friday 11 March 2005.
    assert by_source(bbc, "politics/412.txt") == [
        ("2005-02-28", "Last week"),  # the week of Monday 28 February
        ("2005-03-10", "Thursday"),
        ("2005-03-11", ""),
        ("2005-03-11", "Friday"),
        ("2005-03-11", "Friday 11 March"),
        ("2005-05-05", "5 May"),
        ("2005-05-05", "5 May"),
        ("2005-05-05", "5 May"),
        ("2005-05-05", "5 May"),
    ]
    # The North East referendum, published 29 October 2004.
    assert by_source(bbc, "politics/200.txt") == [
        ("2004-10-27", "Wednesday"),
        ("2004-10-27", "Wednesday"),
        ("2004-10-28", "Thursday"),
        ("2004-10-29", ""),
        ("2004-11-04", "Thursday, 4 November"),
    ]
    # The arson campaign, published the week before Sunday 12 December 2004.
    assert by_source(bbc, "politics/177.txt") == [
        ("1979-12", "December 1979"),
        ("1990s", "the early 1990s"),
        ("1993", "1993"),
        ("2004-03", "March this year"),
        ("2004-12-10", ""),
        ("2004-12-12", "Sunday"),
        ("2004-12-12", "Sunday, 12 December"),
    ]
    # REM's Glasgow gig, published in March 2005.
    assert by_source(bbc, "entertainment/287.txt") == [
        ("2005-02", "last month"),
        ("2005-02-22", "22 February"),
        ("2005-03-15", ""),
        ("2005-04-01", "1 April"),
        ("2005-06-14", "Tuesday, 14 June"),
        ("2005-06-21", "21 June"),
        ("2005-06-29", "29 June"),
        ("2005-07-01", "1 July"),
        ("2005-07-09", "9-10 July"),
    ]
    for e in bbc.events:
        if e.kind == "text":
            assert e.sentence in e.citation.text
            assert e.resolved == ("publication date" in e.how)


@pytest.mark.parametrize(
    ("topic", "article"),
    [
        ("REM concert in Glasgow", "entertainment/287.txt"),  # not 6 Music's "concert" week
        ("arson attacks in Wales", "politics/177.txt"),  # not "England, Scotland and Wales"
    ],
)
def test_bbc_topic_keeps_the_article_about_it(
    bbc_index: Settings, topic: str, article: str
) -> None:
    result = timeline(topic, bbc_index)
    assert {e.citation.source for e in result.events} == {f"bbc_{article.replace('/', '_')}"}
    assert in_order(result.events) and result.events


def test_bbc_topic_near_other_articles_keeps_them_too(bbc_index: Settings) -> None:
    """What the relevance floor does not tell apart: a referendum topic also keeps the
    voter-registration and the nationalist-vote paragraphs of two other articles."""
    result = timeline("the North East assembly referendum", bbc_index)
    sources = {e.citation.source for e in result.events}
    assert "bbc_politics_200.txt" in sources
    assert sources - {"bbc_politics_200.txt"} <= {"bbc_politics_412.txt", "bbc_politics_177.txt"}
    every = by_source(timeline(settings=bbc_index), "politics/200.txt")
    assert by_source(result, "politics/200.txt") == every  # all of the referendum's dates


# Measured on the held-out articles (bench/timeline_bbc.py --held-out), written after the
# rules were finished: 15 of 16 events right, 15 of 19 dates a reader finds. A change may
# raise these floors, not lower them.
HELD_OUT_PRECISION = 0.93
HELD_OUT_RECALL = 0.78


def test_bbc_held_out_articles_measure_what_the_timeline_gets_wrong(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    base = tmp_path_factory.mktemp("bbc-held-out")
    write_sample(base / "articles", HELD_OUT)
    settings = make_settings(base / "index", base / "articles")
    ingest([base / "articles"], settings, quiet=True)
    forget_stores()
    result = timeline(settings=settings)
    assert in_order(result.events) and result.undated == []
    measured = score(result)
    assert measured["precision"] >= HELD_OUT_PRECISION, measured
    assert measured["recall"] >= HELD_OUT_RECALL, measured
    # Product names and times with a year-like number are never dates.
    expressions = " | ".join(e.expression for e in result.events)
    assert "Fifa" not in expressions and "GMT" not in expressions
    assert [e.when.iso for e in result.events if "Manager" in e.sentence] == []
