"""Titles, front matter and bylines: an untitled note keeps its first paragraph as
evidence; front matter gives title, date, author and address; the headline is part of
every paragraph's embedded and BM25 text but never of the cited text; "Who wrote ...?"
is answered from the byline, cited to the article, with the bio never evidence."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import make_settings
from test_cli import run_qa

from qa import ask, retrieve
from qa.reading.articles import BODY, FRONT_MATTER, TITLE, read_article
from qa.settings import Settings
from qa.store.index import Store
from qa.store.ingest import ingest

NOTE = """The city council approved a budget of 42 million dollars for new bridges on \
Tuesday, after a two-hour debate in which three members voted against it.

Work on the first of the bridges, over the Marne canal, is due to start in the spring.

The mayor said the rest of the money would go to repairs of the old stone bridges.
"""

GRANT = """---
title: Museum wins grant to restore the lighthouse
date: 10 March 2015
author: Ann Lee
url: https://varnenpost.example/culture/lighthouse-grant
site: Varnen Post
---

The maritime museum of Ostby has won a grant of 300,000 euros from the national heritage \
fund to restore the old lighthouse on Kelvik point.

The lighthouse, built in 1871, has been closed to visitors since a storm damaged its \
lantern room in 2012.

Ann Lee

Ann Lee is a freelance reporter covering culture and heritage for regional papers.
"""

# The headline names what the body never does.
HEADLINE = """Ostby ferry strike ends

Crews returned to work on Thursday after the operator agreed to hire six more deckhands.

The first sailing left the harbour at 6 am, twenty minutes late.
"""


@pytest.fixture
def notes(tmp_path: Path) -> Settings:
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "council-note.txt").write_text(NOTE, encoding="utf-8")
    (folder / "grant.md").write_text(GRANT, encoding="utf-8")
    (folder / "strike.txt").write_text(HEADLINE, encoding="utf-8")
    settings = make_settings(tmp_path / "index", folder)
    ingest([folder], settings, quiet=True)
    return settings


def test_an_untitled_note_keeps_its_first_paragraph(tmp_path: Path) -> None:
    path = tmp_path / "council-note.txt"
    path.write_text(NOTE, encoding="utf-8")
    article = read_article(path)
    assert [p.kind for p in article.paragraphs] == [BODY, BODY, BODY]
    assert article.title == "council note" and not article.headline


def test_the_untitled_note_answers_from_paragraph_1(notes: Settings) -> None:
    answer = ask("How much did the council approve for bridges?", settings=notes)
    assert not answer.abstained and "42 million" in answer.text
    assert (answer.citations[0].source, answer.citations[0].paragraph) == (
        "council-note.txt",
        1,
    )


def test_front_matter_gives_title_date_author_and_address(tmp_path: Path) -> None:
    path = tmp_path / "grant.md"
    path.write_text(GRANT, encoding="utf-8")
    article = read_article(path)
    assert article.title == "Museum wins grant to restore the lighthouse" and article.headline
    assert (article.date, article.author, article.site) == ("2015-03-10", "Ann Lee", "Varnen Post")
    assert article.url == "https://varnenpost.example/culture/lighthouse-grant"
    # The front matter is block 1 (its fence lines included); numbers still count blocks.
    assert article.paragraphs[0].kind == FRONT_MATTER
    assert [p.number for p in article.evidence] == [2, 3]
    assert all(p.kind != TITLE for p in article.paragraphs)


def test_plain_key_value_lines_are_front_matter_too(tmp_path: Path) -> None:
    path = tmp_path / "pasted.txt"
    path.write_text("Title: Ferry fares rise\nDate: 2024-02-01\n\n" + NOTE, encoding="utf-8")
    article = read_article(path)
    assert (article.title, article.date) == ("Ferry fares rise", "2024-02-01")
    assert [p.number for p in article.evidence] == [2, 3, 4]


def test_who_wrote_is_answered_from_the_byline(notes: Settings) -> None:
    answer = ask("Who wrote the article about the lighthouse grant?", settings=notes)
    assert not answer.abstained and "Ann Lee" in answer.text
    [cited] = answer.citations
    assert (cited.source, cited.author, cited.date) == ("grant.md", "Ann Lee", "2015-03-10")
    assert "freelance reporter" not in cited.text  # the bio is not evidence
    stored = [row["document"] for row in Store(notes).records(include=("documents",))]
    assert not any("freelance reporter" in text for text in stored)


def test_the_headline_is_searched_but_not_cited(notes: Settings) -> None:
    hits = retrieve("ferry strike ends", k=3, settings=notes)
    assert hits[0].source == "strike.txt"
    assert hits[0].text in HEADLINE.strip().split("\n\n")[1:]  # a paragraph, verbatim
    assert hits[0].title == "Ostby ferry strike ends"
    rows = Store(notes).collection.get(where={"source": "strike.txt"}, include=["documents"])
    assert all("Ostby ferry strike ends" not in text for text in rows["documents"])


def test_sources_show_date_site_and_author(notes: Settings) -> None:
    result = run_qa(
        "ask", "How much is the grant to restore the lighthouse?", "--json",
        index_dir=notes.index_dir,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    cited = json.loads(result.stdout.splitlines()[-1])["citations"][0]
    assert cited["source"] == "grant.md" and cited["paragraph"] == 2
    assert (cited["date"], cited["site"], cited["author"]) == (
        "2015-03-10", "Varnen Post", "Ann Lee",
    )  # fmt: skip
    assert cited["url"] == "https://varnenpost.example/culture/lighthouse-grant"
    assert cited["page"] == 0
    text = run_qa("ask", "How much is the grant to restore the lighthouse?",
                  index_dir=notes.index_dir)  # fmt: skip
    assert "Varnen Post · 10 March 2015 · by Ann Lee" in text.stdout
