"""Answers and retrieval over the shared index of the seed articles."""

from __future__ import annotations

import pytest
from conftest import SEED_000, SEED_002, SEEDS, seed_paragraph

from qa import Answer, Citation, ask, retrieve
from qa.answering.answer import ABSTAIN_TEXT
from qa.answering.followup import condense
from qa.errors import QuestionError
from qa.reading.articles import read_article
from qa.settings import MAX_QUESTION_CHARS, Settings

EVIDENCE = {
    (name, p.number): p.text
    for name in (SEED_000, SEED_002)
    for p in read_article(SEEDS / name).evidence
}
MAYORKAS_HISTORY = [
    {"role": "user", "content": "Who is Alejandro Mayorkas?"},
    {"role": "assistant", "content": "Alejandro Mayorkas is the Homeland Security Secretary [1]."},
]


def assert_grounded(answer: Answer) -> None:
    """Every citation quotes a stored evidence paragraph verbatim, and the answer is made
    of sentences of those paragraphs, each followed by its marker."""
    assert [c.n for c in answer.citations] == list(range(1, len(answer.citations) + 1))
    for c in answer.citations + answer.related:
        assert EVIDENCE.get((c.source, c.paragraph)) == c.text, (c.source, c.paragraph)
    for c in answer.citations:
        assert c.sentence and c.sentence in c.text
        # quoted after its short answer ('$6,000,000 [1]. "... $6,000,000." [1]') or alone
        assert f'"{c.sentence}" [{c.n}]' in answer.text or f"{c.sentence} [{c.n}]" in answer.text
    for short in filter(None, answer.short.split("; ")):
        assert any(short in c.sentence for c in answer.citations), short


def cited(answer: Answer) -> list[tuple[str, int]]:
    return [(c.source, c.paragraph) for c in answer.citations]


def test_answer_cites_the_paragraph_with_the_amount(seeded: Settings) -> None:
    answer = ask(
        "How much money did the US give Panama for the deportation pilot?", settings=seeded
    )

    assert not answer.abstained
    assert "6,000,000" in answer.text or "6 million" in answer.text
    assert "[1]" in answer.text
    assert (SEED_000, 2) in cited(answer)
    first = next(c for c in answer.citations if (c.source, c.paragraph) == (SEED_000, 2))
    assert first.text == seed_paragraph(SEED_000, 2).strip()
    assert first.text.startswith("MIAMI.- The amount")
    assert first.title == read_article(SEEDS / SEED_000).title
    assert_grounded(answer)
    assert answer.confidence > 0
    assert answer.timings_ms["total"] >= answer.timings_ms["retrieve"] > 0


def test_two_part_question_cites_both_articles(seeded: Settings) -> None:
    answer = ask(
        "How much money did the US give Panama for the deportation pilot, and how many "
        "Darién crossings did Panama report in 2023?",
        settings=seeded,
    )
    assert not answer.abstained
    assert "6,000,000" in answer.text
    assert "half a million" in answer.text
    assert {(SEED_000, 2), (SEED_002, 3)} <= set(cited(answer))
    assert_grounded(answer)


def test_unanswerable_question_abstains_with_related_paragraphs(seeded: Settings) -> None:
    answer = ask("What is the population of Panama?", settings=seeded)

    assert answer.abstained is True
    assert answer.text == ABSTAIN_TEXT
    assert answer.citations == []
    assert 0 < len(answer.related) <= 3
    assert_grounded(answer)


def test_retrieve_ranks_the_crossings_paragraph(seeded: Settings) -> None:
    hits = retrieve("Darién crossings 2023", k=5, settings=seeded)

    assert len(hits) == 5
    assert all(isinstance(h, Citation) for h in hits)
    assert [h.n for h in hits] == [1, 2, 3, 4, 5]
    assert (SEED_002, 3) in [(h.source, h.paragraph) for h in hits]
    assert len({(h.source, h.paragraph) for h in hits}) == 5
    for h in hits:
        assert EVIDENCE[(h.source, h.paragraph)] == h.text
        assert -1.0 <= h.score <= 1.0


@pytest.mark.parametrize("mode", ["hybrid", "dense", "bm25"])
def test_each_retrieval_mode_finds_the_reward_paragraph(seeded: Settings, mode: str) -> None:
    hits = retrieve("reward for capturing Clan del Golfo members", k=3, settings=seeded, mode=mode)
    assert (hits[0].source, hits[0].paragraph) == (SEED_000, 8)


def test_follow_up_question_uses_the_conversation(seeded: Settings) -> None:
    answer = ask("Whose inauguration did he attend?", history=MAYORKAS_HISTORY, settings=seeded)

    assert not answer.abstained
    assert "Mulino" in answer.text
    assert "Mayorkas" in answer.standalone_question
    assert (SEED_002, 5) in cited(answer)
    assert_grounded(answer)


def test_condense_resolves_the_pronoun_to_the_person() -> None:
    standalone = condense("Whose inauguration did he attend?", MAYORKAS_HISTORY)
    assert "Alejandro Mayorkas" in standalone
    assert " he " not in f" {standalone.lower()} "
    assert "inauguration" in standalone


def test_condense_leaves_standalone_questions_alone() -> None:
    question = "Which country imposed visa requirements for Chinese migrants?"
    assert condense(question, MAYORKAS_HISTORY) == question
    assert condense("Whose inauguration did he attend?", None) == (
        "Whose inauguration did he attend?"
    )


def test_condense_carries_the_topic_for_an_unresolved_reference() -> None:
    history = [
        {"role": "user", "content": "Which criminal group operates in the Darien jungle?"},
        {"role": "assistant", "content": "The Clan del Golfo operates in the Darien jungle [1]."},
    ]
    standalone = condense("How large is the reward for information on them?", history)
    assert standalone.startswith("How large is the reward for information on them?")
    assert "Darien jungle" in standalone


@pytest.mark.parametrize(
    "question", ["", "   \n\t ", "x" * (MAX_QUESTION_CHARS + 1)], ids=["empty", "blank", "long"]
)
def test_bad_questions_raise(seeded: Settings, question: str) -> None:
    with pytest.raises(QuestionError):
        ask(question, settings=seeded)
    with pytest.raises(QuestionError):
        retrieve(question, settings=seeded)


def test_question_at_the_length_limit_is_accepted(seeded: Settings) -> None:
    question = ("How much money did the US give Panama? " * 60)[:MAX_QUESTION_CHARS]
    assert len(question) == MAX_QUESTION_CHARS
    hits = retrieve(question, k=3, settings=seeded)
    assert len(hits) == 3


def test_boilerplate_is_never_cited(seeded: Settings) -> None:
    answer = ask("Who is Tarun Kumar?", settings=seeded)

    cited_000 = {n for source, n in cited(answer) if source == SEED_000}
    assert cited_000.isdisjoint(range(24, 29))  # e-mail, source line, author, bio, reply
    assert "Tarun" not in answer.text
    assert all((c.source, c.paragraph) in EVIDENCE for c in answer.citations + answer.related)
    assert_grounded(answer)
    hits = retrieve("Tarun Kumar writer bio Leave a Reply", k=10, settings=seeded)
    assert all((h.source, h.paragraph) in EVIDENCE for h in hits)
    assert all("Tarun" not in h.text for h in hits)
