"""Conversations that hold together, over two look-alike match reports written here: a
conversation about one of them stays with it ("What was the score?" answers from the
right one) and says so; a turn that names the other match leaves it; "How old?" after
"Who was named the best player?" is asked of that player; `qa chat`, driven through a
pipe, answers a question and a follow-up and ends cleanly at the end of its input."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import index_of

from qa import ask
from qa.answering.followup import condense, is_bare, short_answer
from qa.settings import Settings

KELVIK = [
    "Kelvik Rovers beat Ostby Harbour 3-1 in the coastal cup final on Saturday, in front "
    "of a crowd of 4,200 at the Quay Stadium.",
    "Maria Lopez, 24, was named the best player of the final after scoring twice.",
    "The winning goal came in the 71st minute, when Lopez struck from outside the box.",
    "The final score was 3-1, the club's first cup win in a decade.",
]
NORDBY = [
    "Nordby Athletic beat Sandvik United 2-0 in the valley cup final on Sunday, in front "
    "of a crowd of 3,100 at the Mill Ground.",
    "Anna Berg, 31, was named the best player of the final after two assists.",
    "The second goal came in the 80th minute, after a long throw into the box.",
    "The final score was 2-0, the club's second cup win in a row.",
]


def write(folder: Path) -> None:
    for name, title, paragraphs in (
        ("kelvik.txt", "Kelvik Rovers win the coastal cup", KELVIK),
        ("nordby.txt", "Nordby Athletic win the valley cup", NORDBY),
    ):
        text = f"---\ntitle: {title}\n---\n\n" + "\n\n".join(paragraphs) + "\n"
        (folder / name).write_text(text, encoding="utf-8")


@pytest.fixture
def matches(tmp_path: Path) -> Settings:
    settings, report = index_of(tmp_path, "matches", write)
    assert report.files == 2
    return settings


def converse(settings: Settings, questions: list[str]) -> list:  # type: ignore[type-arg]
    history: list[dict[str, str]] = []
    answers = []
    for q in questions:
        answer = ask(q, history=history, settings=settings)
        answers.append(answer)
        history += [{"role": "user", "content": q}, {"role": "assistant", "content": answer.text}]
    return answers


def test_a_conversation_stays_with_its_article(matches: Settings) -> None:
    crowd, best, score = converse(matches, [
        "How many people watched the coastal cup final?",
        "Who was named the best player?",
        "What was the score?",
    ])  # fmt: skip
    assert "4,200" in crowd.text and crowd.citations[0].source == "kelvik.txt"
    assert "Maria Lopez" in best.text and {c.source for c in best.citations} == {"kelvik.txt"}
    assert not score.abstained and "3-1" in score.text
    assert {c.source for c in score.citations} == {"kelvik.txt"}
    assert any("Kept to the article this conversation is about: kelvik.txt" in n
               for n in score.notes)  # fmt: skip
    # Asked with no conversation, the score could be either match's: both are read.
    alone = ask("What was the score?", settings=matches)
    assert "Kept to" not in " ".join(alone.notes)
    assert {"kelvik.txt", "nordby.txt"} <= {source for source, _ in alone.retrieved}


def test_a_turn_that_names_the_other_match_leaves_the_focus(matches: Settings) -> None:
    _, other = converse(matches, [
        "How many people watched the coastal cup final?",
        "How many people watched Nordby Athletic win the valley cup?",
    ])  # fmt: skip
    assert "3,100" in other.text and other.citations[0].source == "nordby.txt"
    assert "Kept to" not in " ".join(other.notes)


def test_how_old_is_asked_of_the_player_just_named(matches: Settings) -> None:
    best, _ = converse(matches, ["Who was named the best player of the coastal cup final?", "x"])
    assert best.short == "Maria Lopez" or "Maria Lopez" in best.text
    history = [
        {"role": "user", "content": "Who was named the best player of the coastal cup final?"},
        {"role": "assistant", "content": best.text},
    ]
    assert condense("How old?", history) == "How old is Maria Lopez?"
    age = ask("How old?", history=history, settings=matches)
    assert age.standalone_question == "How old is Maria Lopez?"
    assert {c.source for c in age.citations} <= {"kelvik.txt"}


def test_bare_follow_ups_and_short_answers() -> None:
    for q in ("Why?", "How old?", "Out of how many?", "With what vehicle?", "Where to?",
              "And why?", "Anything else?"):  # fmt: skip
        assert is_bare(q), q
    for q in ("What was the charge?", "Why did he go?", "Who won the final?"):
        assert not is_bare(q), q
    assert short_answer('Maria Lopez [1]. "Maria Lopez, 24, was named ..." [1]'.replace(" [1]", ""))
    assert short_answer("The articles don't answer this question.") == ""
    history = [
        {"role": "user", "content": "Who won the final?"},
        {"role": "assistant", "content": 'Kelvik Rovers [1]. "Kelvik Rovers beat Ostby." [1]'},
    ]
    assert condense("Why?", history) == "Why? (context: Who won the final Kelvik Rovers)"


def test_qa_chat_through_a_pipe(matches: Settings) -> None:
    root = Path(__file__).resolve().parents[1]
    lines = "How many people watched the coastal cup final?\nWhat was the score?\n"
    run = subprocess.run(
        [sys.executable, "-m", "qa", "chat"], input=lines, capture_output=True, text=True,
        cwd=root, timeout=300, env={**os.environ, "QA_INDEX_DIR": str(matches.index_dir)},
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr
    assert "4,200" in run.stdout and "3-1" in run.stdout and "2-0" not in run.stdout
    assert run.stdout.count("kelvik.txt, paragraph") >= 2  # each answer's sources


def test_the_referent_ranker_is_rebuilt_from_coqa_and_judges_one_word_names() -> None:
    """`make train-referents` refits the committed model exactly (on the fit part of
    ../shared/data/coqa), and the model takes a one-word name the rule never would."""
    import json

    from qa.answering import referents

    stories = json.loads(referents.coqa_path().read_text(encoding="utf-8"))["data"]
    refit = referents.fit([s for s in stories if not referents.held_out(s["id"])])
    committed = json.loads(referents.MODEL_PATH.read_text(encoding="utf-8"))
    assert refit["threshold"] == committed["threshold"]
    assert refit["weights"] == pytest.approx(committed["weights"], abs=1e-9)
    assert committed["held_out"]["right_of_picked"] >= 0.85  # measured, not fitted on

    text = "Duane rode into the valley at dawn. Duane was tired. The valley was quiet."
    history = [
        {"role": "user", "content": "Who rode into the valley?"},
        {"role": "assistant", "content": 'Duane [1]. "Duane rode into the valley at dawn." [1]'},
    ]
    assert condense("Was he tired?", history) == "Was he tired? (context: Who rode into the valley)"
    assert condense("Was he tired?", history, article=text) == "Was Duane tired?"
