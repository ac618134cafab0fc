"""Checking a claim (`qa.check`, `qa check`): over a real index of the seed articles,
with the real answerer's parts; the model path against the scripted chat server on
127.0.0.1. The claims are in eval/claims.jsonl ("tuned": the rules were set while looking
at them; "fresh": written after the rules were frozen)."""

from __future__ import annotations

import json
import re
import socket
import sys

import pytest
import test_llm
from chat_server import ChatServer, Reply
from conftest import ROOT, SEED_000, SEED_002, seed_paragraph
from test_cli import run_qa
from test_llm import KEY, citing

from qa import Verdict, check
from qa.desk.claim_slots import amounts, same, slots
from qa.desk.verdict import ABSENT, CONTRADICTED, SUPPORTED
from qa.errors import QuestionError, ScopeError
from qa.settings import MAX_QUESTION_CHARS, Settings

sys.path.insert(0, str(ROOT / "bench"))  # bench/ holds scripts, not a package
from claims_accuracy import Result, cases, run, table  # noqa: E402

MISREAD = "The US gave Panama $8 million for deportation flights."
# Floors per set and kind (share right: the expected verdict, citing the paragraph that
# states the fact), a little under what was measured (README, "Check a claim"): tuned
# 43/46, 37/44, 40/40; fresh 8/9, 7/9, 8/8.
FLOORS = {
    "tuned": {"written": 0.9, "altered": 0.8, "absent": 1.0},
    "fresh": {"written": 0.85, "altered": 0.75, "absent": 1.0},
}


@pytest.fixture(scope="module")
def results(seeded: Settings) -> list[Result]:
    return run(seeded, cases())


def shown(v: Verdict) -> None:
    """Every sentence shown is verbatim in the paragraph it cites, as a reader of the
    article file counts paragraphs."""
    for c in v.citations:
        assert c.sentence, c
        paragraph = seed_paragraph(c.source, c.paragraph)
        assert " ".join(c.text.split()) == " ".join(paragraph.split())
        assert c.sentence in c.text


def test_the_misread_reward_is_contradicted_by_the_grant(seeded: Settings) -> None:
    v = check(MISREAD, seeded)

    assert v.verdict == CONTRADICTED and v.checker == "extractive"
    against = v.contradicting[0]
    assert (against.source, against.paragraph) == (SEED_000, 2)
    assert "$6,000,000" in against.sentence
    assert "$6,000,000" in v.explanation and "$8 million" in v.explanation
    assert f"[{against.n}]" in v.explanation
    # The $8,000,000 reward (paragraph 8) is something else: not support.
    assert all(c.paragraph != 8 for c in v.supporting)
    shown(v)


def test_a_quote_given_to_the_wrong_speaker_is_contradicted(seeded: Settings) -> None:
    """The article's sentence names Mulino, but Mayorkas said it (qa.desk.quotebook)."""
    v = check("Mulino said the agreement is part of a regional response to migration.", seeded)

    assert v.verdict == CONTRADICTED
    assert v.explanation == "The articles attribute this to Alejandro Mayorkas, not Mulino [1]."
    assert [(c.source, c.paragraph) for c in v.contradicting] == [(SEED_002, 5)]
    assert "regional response" in v.contradicting[0].sentence and not v.supporting
    shown(v)

    said = check("Mayorkas said the agreement is part of a regional response to migration.", seeded)
    assert said.verdict == SUPPORTED


def test_a_person_named_by_a_role_is_not_a_different_person(seeded: Settings) -> None:
    """ "The Deputy Assistant Secretary of State recalled ..." is Jacobstein, quoted."""
    v = check(
        "Jacobstein recalled that the United States has provided $50 million for the "
        "humanitarian crisis in the region.",
        seeded,
    )
    assert v.verdict != CONTRADICTED


def test_verdicts_per_kind_meet_their_floors(results: list[Result]) -> None:
    tab = table(results)
    for name, floors in FLOORS.items():
        for kind, floor in floors.items():
            right, total = tab[name][kind]
            assert total >= 8, (name, kind)
            assert right / total >= floor, (name, kind, right, total)


def test_no_claim_is_wrongly_supported_or_wrongly_contradicted_in_the_tuned_set(
    results: list[Result],
) -> None:
    """The costly errors: an altered or absent claim shown as supported, a stated fact or
    an absent claim shown as contradicted."""
    for r in results:
        if r.case.set != "tuned":
            continue
        if r.case.verdict != SUPPORTED:
            assert r.got.verdict != SUPPORTED, r.case.claim
        if r.case.verdict != CONTRADICTED:
            assert r.got.verdict != CONTRADICTED, r.case.claim


def test_every_shown_sentence_is_in_the_paragraph_it_cites(results: list[Result]) -> None:
    cited = 0
    for r in results:
        shown(r.got)
        cited += len(r.got.citations)
        if r.got.verdict == ABSENT:
            assert not r.got.citations and r.got.related
        if r.got.verdict == CONTRADICTED:
            assert r.got.contradicting
        if r.got.verdict == SUPPORTED:
            assert r.got.supporting and not r.got.contradicting
    assert cited >= 30


def test_as_written_altered_and_absent_over_both_articles(results: list[Result]) -> None:
    """The claim set covers both seeds and each kind, with facts of every comparable
    sort (an amount, a count, a date, a name)."""
    tuned = [r.case for r in results if r.case.set == "tuned"]
    assert {c.source for c in tuned if c.source} == {SEED_000, SEED_002}
    facts = {(c.source, c.paragraph) for c in tuned if c.kind == "written"}
    assert len(facts) >= 8
    kinds = {s.kind for c in tuned if c.kind == "altered" for s in slots(c.claim, str.islower)}
    assert kinds >= {"money", "number", "date", "name"}


@pytest.mark.parametrize(
    ("kind", "a", "b", "expect"),
    [
        ("money", "$8 million", "$8,000,000", True),
        ("money", "$8 million", "$6,000,000", False),
        ("number", "half a million", "500,000", True),
        ("number", "two years ago", "five", False),
        ("date", "in 2023", "2023", True),
        ("date", "on Monday", "Thursday", False),
        ("date", "November", "2023", None),
        ("name", "Mayorkas", "Homeland Security Secretary Alejandro Mayorkas", True),
        ("name", "Jocobstein", "Jacobstein", True),
        ("name", "US", "the United States", True),
        ("name", "Ministry of Health of Panama", "Ministry of Security of Panama", False),
        ("name", "Antony Blinken", "Alejandro Mayorkas", False),
    ],
)
def test_values_compare_by_value(kind: str, a: str, b: str, expect: bool | None) -> None:
    assert same(kind, a, b) is expect


def test_a_slot_becomes_the_question_that_asks_for_it() -> None:
    found = slots(MISREAD, lambda word: word.lower() in {"the"})
    money = next(s for s in found if s.kind == "money")
    assert money.text == "$8 million" and amounts(money.text) == {8_000_000.0}
    assert money.question == "The US gave Panama how much for deportation flights?"
    date = next(s for s in slots("They signed it on Monday.", str.islower) if s.kind == "date")
    assert date.question == "They signed it when?"


def test_a_date_at_the_claims_start_is_not_a_name() -> None:
    def never(word: str) -> bool:  # no article writes the word in lower case
        return False

    claim = "Last month, crossings fell to the lowest level during Biden's administration."
    assert [(s.kind, s.text) for s in slots(claim, never)] == [("name", "Biden's")]
    assert [s.text for s in slots("Lopez said so last month.", never)] == ["Lopez", "last month"]


@pytest.mark.parametrize(
    ("claim", "message"),
    [("", "The claim is empty"), ("   \n ", "The claim is empty"),
     ("x" * (MAX_QUESTION_CHARS + 1), "the limit is 2,000")],
)  # fmt: skip
def test_bad_claims_get_a_clear_message(seeded: Settings, claim: str, message: str) -> None:
    with pytest.raises(QuestionError, match=message):
        check(claim, seeded)


def test_scoped_to_the_other_article_the_claim_is_not_in_the_articles(
    seeded: Settings,
) -> None:
    inside = check(MISREAD, seeded, sources=[SEED_000])
    assert inside.verdict == CONTRADICTED
    assert inside.scope and inside.scope["articles"] == [SEED_000]

    outside = check(MISREAD, seeded, sources=[SEED_002])
    assert outside.verdict == ABSENT and not outside.citations
    assert outside.related and all(c.source == SEED_002 for c in outside.related)
    assert any(n.startswith("Scope: 1 article (002_") for n in outside.notes)

    with pytest.raises(ScopeError, match="No article in the index matches 'nothing.txt'"):
        check(MISREAD, seeded, sources=["nothing.txt"])


def test_cli_check_json_and_text(seeded: Settings) -> None:
    result = run_qa("check", MISREAD, "--json", index_dir=seeded.index_dir)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["verdict"] == CONTRADICTED and out["checker"] == "extractive"
    assert out["contradicting"][0]["paragraph"] == 2
    assert "$6,000,000" in out["contradicting"][0]["sentence"]
    assert set(out) >= {"claim", "explanation", "supporting", "notes", "flags"}

    text = run_qa(
        "check", "30,000 people have benefited from Safe Mobility.", index_dir=seeded.index_dir
    )
    assert text.returncode == 0, text.stderr
    assert text.stdout.startswith("Supported:") and "30,000 people" in text.stdout
    assert re.search(r"checked by extractive, confidence [01]\.\d\d$", text.stdout.strip())

    scoped = run_qa("check", MISREAD, "--source", SEED_002, "--json", index_dir=seeded.index_dir)
    assert scoped.returncode == 0, scoped.stderr
    assert json.loads(scoped.stdout.strip().splitlines()[-1])["verdict"] == ABSENT

    empty = run_qa("check", " ", index_dir=seeded.index_dir)
    assert empty.returncode == 2
    assert empty.stderr.strip() == "error: The claim is empty: type a claim about the articles."


# --- with a model ---------------------------------------------------------------------

# test_llm's scripted model server, and the seeds index answered by it.
server = test_llm.server
model = test_llm.model


def test_model_verdict_with_citations_that_hold(model: Settings, server: ChatServer) -> None:
    server.script = [
        citing(  # type: ignore[list-item]
            "VERDICT: contradicted\nThe articles state $6,000,000, not $8 million [{n}].",
            "6,000,000",
        )
    ]
    v = check(MISREAD, model)

    assert v.verdict == CONTRADICTED and v.checker == "local-model" and not v.fallback
    assert not v.flags
    assert v.explanation == "The articles state $6,000,000, not $8 million [1]."
    assert [(c.n, c.source, c.paragraph) for c in v.contradicting] == [(1, SEED_000, 2)]
    shown(v)
    request = server.requests[0]
    assert "Claim: " + MISREAD in request.user_text and "VERDICT:" in str(request.messages[0])


def test_model_supported_verdict_checked_against_its_passage(
    model: Settings, server: ChatServer
) -> None:
    server.script = [
        citing(  # type: ignore[list-item]
            "VERDICT: supported\nMarcela Escobar said 30,000 people benefited [{n}].", "30,000"
        )
    ]
    v = check("30,000 people have benefited from Safe Mobility.", model)

    assert v.verdict == SUPPORTED and not v.fallback and not v.flags
    assert [c.paragraph for c in v.supporting] == [21]
    assert "30,000 people have benefited" in v.supporting[0].sentence
    shown(v)


def test_model_verdict_whose_citation_does_not_hold_is_flagged(
    model: Settings, server: ChatServer
) -> None:
    # "Supported", citing a paragraph about deportations that has no $8 million.
    server.script = [
        citing(  # type: ignore[list-item]
            "VERDICT: supported\nThe US funds Panama's deportation flights [{n}].",
            "dispatching officials",
        )
    ]
    v = check(MISREAD, model)

    assert v.fallback and v.checker == "extractive"
    assert v.verdict == CONTRADICTED  # the offline verdict, shown instead
    assert v.flags and v.flags[0]["verdict"] == SUPPORTED
    assert any("its citations do not hold" in n and "supported" in n for n in v.notes)
    shown(v)


def test_model_contradiction_citing_a_figure_its_passage_lacks_is_flagged(
    model: Settings, server: ChatServer
) -> None:
    server.script = [
        citing(  # type: ignore[list-item]
            "VERDICT: contradicted\nThe articles state $5,000,000, not $8 million [{n}].",
            "6,000,000",
        )
    ]
    v = check(MISREAD, model)

    assert v.fallback and v.flags and v.flags[0]["verdict"] == CONTRADICTED
    assert "5e+06" in str(v.flags[0]["why"])
    assert v.contradicting[0].paragraph == 2  # the offline verdict's own evidence


def test_reply_without_a_verdict_line_falls_back(model: Settings, server: ChatServer) -> None:
    server.script = [Reply("I think it is probably true [1].")]
    v = check(MISREAD, model)

    assert v.fallback and v.verdict == CONTRADICTED
    assert any("no VERDICT line" in n for n in v.notes)


def test_server_down_gives_the_offline_verdict_with_a_note(seeded: Settings) -> None:
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings = seeded.with_(
        llm="openai", openai_base_url=f"http://127.0.0.1:{port}/v1", openai_api_key=KEY
    )
    v = check(MISREAD, settings)

    assert v.fallback and v.verdict == CONTRADICTED and v.checker == "extractive"
    assert any("Could not connect to the model server" in n for n in v.notes)
    assert any("offline verdict" in n for n in v.notes)


def test_model_saying_not_in_the_articles_notes_the_offline_finding(
    model: Settings, server: ChatServer
) -> None:
    server.script = [Reply("VERDICT: not in the articles\nNo passage mentions this.")]
    v = check(MISREAD, model)

    assert v.verdict == ABSENT and not v.fallback and not v.citations
    assert any("offline check" in n and CONTRADICTED in n for n in v.notes)
