"""After an answer, "Who said that?" names whom the article attributes the sentence the
answer quoted to, from the quotes, over a harbour report written here; for a sentence
no quote holds it says so, and who its paragraph quotes is named as that, never as the
sentence's speaker. Before, the normal answerer looked for any sentence naming a speaker
near the question's words and named the wrong one."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import SEED_000, converse, index_of

from qa import ask
from qa.answering.followup import asks_who_said, condense
from qa.settings import Settings

HARBOUR = [
    "The port of Tarvik handled 1.2 million containers last year, a record for the harbour.",
    "The new crane will cost 40 million euros, said Ingrid Solberg, the port's director. "
    "She said the work would start in March.",
    "The harbour will close to ships for two weeks in May while the quay is rebuilt. "
    "The plan was approved by the council, said Tom Hale, a council spokesman.",
    "Fishermen fear the dredging will harm the cod stocks, according to Lars Eide, who "
    "leads the local fishing union.",
]


def write(folder: Path) -> None:  # the title is paragraph 1, HARBOUR[0] paragraph 2
    text = "---\ntitle: Tarvik harbour plans a new crane\n---\n\n" + "\n\n".join(HARBOUR)
    (folder / "tarvik.txt").write_text(text + "\n", encoding="utf-8")


@pytest.fixture
def harbour(tmp_path: Path) -> Settings:
    settings, report = index_of(tmp_path, "harbour", write)
    assert report.files == 1
    return settings


def test_who_said_that_names_whom_the_article_attributes_it_to(harbour: Settings) -> None:
    cost, who = converse(harbour, ["How much will the new crane cost?", "Who said that?"])
    assert "40 million euros" in cost.text and cost.citations[0].paragraph == 3
    assert not who.abstained and who.short == "Ingrid Solberg"
    assert who.text.startswith("Ingrid Solberg (the port's director) [1].")
    assert [(c.source, c.paragraph) for c in who.citations] == [("tarvik.txt", 3)]
    assert "The new crane will cost 40 million euros" in who.standalone_question
    # Not a word of "Kept to the article ...": the question needs no article of its own.
    assert who.notes == ["Whom the article attributes the last answer's sentence to."]


def test_an_unattributed_sentence_is_said_to_be_unattributed(harbour: Settings) -> None:
    count, who = converse(harbour, [
        "How many containers did the port of Tarvik handle last year?", "According to whom?",
    ])  # fmt: skip
    assert "1.2 million" in count.text and count.citations[0].paragraph == 2
    assert who.abstained and not who.citations
    assert who.text.startswith("The articles don't say who said that")
    assert [(c.source, c.paragraph) for c in who.related][:1] == [("tarvik.txt", 2)]


def test_a_speaker_elsewhere_in_the_paragraph_is_not_given_as_the_sentences(
    harbour: Settings,
) -> None:
    closed, who = converse(harbour, ["How long will the harbour close to ships?", "Who says so?"])
    assert closed.short == "two weeks" and closed.citations[0].paragraph == 4
    assert not who.abstained and who.short == ""
    assert who.text.startswith("No speaker is found for the sentence the last answer quoted.")
    assert "Tom Hale (a council spokesman) [1]" in who.text
    assert [c.paragraph for c in who.citations] == [4]


def test_a_history_no_article_holds_goes_to_the_normal_answerer(harbour: Settings) -> None:
    history = [
        {"role": "user", "content": "What is new at the harbour?"},
        {"role": "assistant", "content": "A crane is coming to the old harbour soon, it seems."},
    ]
    answer = ask("Who said that?", history=history, settings=harbour)
    assert not answer.text.startswith(("No speaker is found", "The articles don't say"))
    assert "Whom the article attributes" not in " ".join(answer.notes)


def test_the_seed_follow_up_who_said_that(seeded: Settings) -> None:
    used, who = converse(seeded, [
        "What will the money the US gave Panama be used for?", "Who said that?",
    ])  # fmt: skip
    assert "training" in used.text and used.citations[0].source == SEED_000
    assert who.short == "Eric Jacobstein" and who.citations[0].source == SEED_000
    assert who.citations[0].paragraph == 2


def test_which_questions_ask_who_said_the_last_answer() -> None:
    for q in ("Who said that?", "who said so", "Who says so?", "According to whom?",
              "According to who?", "Says who?", "Who made that claim?",
              "And who said it?", "Who is the source?"):  # fmt: skip
        assert asks_who_said(q), q
    for q in ("Who said the harbour would close?", "Who received it?", "Who wrote it?",
              "Who said what about the crane?", "What did Solberg say?", "Who?",
              "Who told her that?"):  # fmt: skip
        assert not asks_who_said(q), q


def test_a_who_said_turn_leaves_the_topic_to_the_turn_before() -> None:
    history = [
        {"role": "user", "content": "How much will the new crane cost?"},
        {"role": "assistant", "content": '40 million euros [1]. "The new crane ..." [1]'},
        {"role": "user", "content": "Who said that?"},
        {"role": "assistant", "content": 'Ingrid Solberg [1]. "The new crane ..." [1]'},
    ]
    standalone = condense("When will work on it start?", history)
    assert "crane" in standalone and "Who said" not in standalone
