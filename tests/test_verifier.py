"""The claim verifier (qa.answering.verifier) and its value comparisons
(qa.answering.compare): the comparisons on sentences written here, the committed int8
graph against the torch model's recorded logits, the training step on a slice against
the committed decisions, and the check's confidence in its JSON."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
from conftest import verifier_reads

from qa.answering import compare, verifier, verifier_training
from qa.desk.claims import check
from qa.settings import Settings


def feature(claim: str, sentence: str, name: str) -> float:
    return compare.features(claim, sentence)[compare.NAMES.index(name)]


def test_a_bound_is_held_or_ruled_out_by_the_stated_figure() -> None:
    assert feature("More than 20 people died.", "The crash caused 24 deaths.", "comparison_holds")
    assert not feature(
        "More than 20 people died.", "The crash caused 24 deaths.", "comparison_fails"
    )
    assert feature("More than 20 people died.", "The crash caused 18 deaths.", "comparison_fails")
    assert feature(
        "It grossed less than $115 million.", "It grossed $114.7 million.", "comparison_holds"
    )
    # A bound against a bound: "under 23.5 million" is ruled out by "more than 24 million",
    # not by "more than 23 million".
    claim = "Westlife made under 23.5 million sales in the UK."
    assert feature(claim, "a total of more than 24 million sales in the UK", "comparison_fails")
    assert not feature(claim, "a total of more than 23 million sales in the UK", "comparison_fails")


def test_a_bound_is_judged_by_the_figure_it_is_about() -> None:
    # "more than 60 recoveries" is about 57, not held by the 858 cases beside it
    sentence = "The confirmed cases reached 858, with 57 recoveries and 48 deaths."
    claim = "There were more than 60 recoveries."
    assert feature(claim, sentence, "comparison_fails")
    assert not feature(claim, sentence, "comparison_holds")
    assert feature("There were more than 55 recoveries.", sentence, "comparison_holds")
    # the day of a date is no figure: 21 March against March 22 is not a changed count
    stated = "As of March 22, the state had 646 cases."
    claim = "The state had less than 600 cases as of 21st March."
    assert feature(claim, stated, "comparison_fails")
    assert not feature(claim, stated, "figure_differs")
    assert not feature("It had 646 cases on 3 May.", "It had 646 cases on May 4.", "figure_differs")


def test_a_year_bounded_by_before_or_after_is_compared_as_a_bound() -> None:
    stated = "The census put its population in 2011 at 329,427."
    assert feature("It had 329,427 people after 2015.", stated, "comparison_fails")
    assert not feature("It had 329,427 people after 2015.", stated, "year_differs")
    assert feature("It had 329,427 people before 2018.", stated, "comparison_holds")
    assert feature("It had 329,427 people in 2015.", stated, "year_differs")


def test_figures_years_negation_and_opposites() -> None:
    assert feature("The fund paid $6 million.", "It paid $6,000,000.", "figures_equal") == 1.0
    assert feature("The fund paid $8 million.", "It paid $6,000,000.", "figure_differs")
    assert feature("It opened in 2019.", "It opened in 2021.", "year_differs")
    assert not feature("It opened in 2019.", "Some 1,200 people came in 2019.", "year_differs")
    assert feature("He is the older brother.", "He is the younger brother of the king.", "opposite")
    assert not feature("He is the older brother.", "He is the older brother.", "opposite")
    assert feature("The team did not win.", "The team won the cup.", "negation_differs")


def test_wikipedia_tokenisation_is_undone() -> None:
    text = "According to the British Phonographic Industry -LRB- BPI -RRB- , "
    text += "it sold 9.8\ufffdmillion ."
    assert verifier_training.clean(text) == (
        "According to the British Phonographic Industry (BPI), it sold 9.8 million."
    )


def test_pages_stay_on_one_side() -> None:
    pairs = verifier_training.load()
    side: dict[str, str] = {}
    for p in pairs:
        assert side.setdefault(p.page, verifier_training.part(p.page)) == side[p.page]
    assert {verifier_training.part(p) for p in side} == {"train", "calibrate", "report"}


def test_claims_made_from_squad_keep_or_swap_one_answer_of_the_fit_part() -> None:
    from qa.answering import squad

    assert verifier_training.answer_kind("1997") == "year"
    assert verifier_training.answer_kind("$465 million") == "figure"
    assert verifier_training.answer_kind("Thomas Davis") == "name"
    assert verifier_training.answer_kind("because of the rain") is None
    sentence = "Capital Cities/ABC reported revenues of $465 million in 1986, up 12 percent."
    at = sentence.index("$465")
    assert verifier_training.around(sentence, "$465 million", at) == sentence.rstrip(".") + "."
    long = "One two three four five six seven eight nine ten paid $5 to them."
    assert verifier_training.around(long, "$5", long.index("$5")).startswith("three four")
    pairs = verifier_training.squad_claims(limit=60)
    assert len(pairs) >= 150
    fit = {
        f"squad:{a['title']}"
        for a in squad.load_articles()
        if (squad.part_of(str(a["title"])) or ("", False))[0] == squad.FIT
    }
    assert {p.page for p in pairs} <= fit
    # each answer gives its supported claim, then the same claim swapped
    for before, p in zip(pairs, pairs[1:], strict=False):
        if p.label == verifier.SUPPORTS:
            assert p.claim.rstrip(".") in p.evidence
        elif p.label == verifier.REFUTES:
            assert before.label == verifier.SUPPORTS and before.evidence == p.evidence
            kept = before.claim
            assert p.claim != kept and p.claim.rstrip(".") not in p.evidence
            # one answer swapped: the words before and after it are the kept claim's
            head = len(os.path.commonprefix([p.claim, kept]))
            tail = len(os.path.commonprefix([p.claim[::-1], kept[::-1]]))
            assert head + tail >= min(len(kept), len(p.claim)) - 40


def test_aggregate_is_decided_by_one_sentence_or_is_neither() -> None:
    probs = np.array([[0.2, 0.1, 0.7], [0.9, 0.05, 0.05], [0.1, 0.85, 0.05]])
    j = verifier.aggregate(probs, 0.8)
    assert (j.label, j.index) == (verifier.SUPPORTS, 1)
    j = verifier.aggregate(probs, 0.95)
    assert j.label == verifier.NEITHER and j.index == 1
    assert verifier.aggregate(probs[[0, 2]], 0.8).label == verifier.REFUTES


@pytest.fixture(scope="module")
def committed() -> verifier.Verifier:
    v = verifier.verifier()
    assert v is not None, "qa/answering/models/verifier.onnx and verifier.json are committed"
    return v


def test_the_int8_graph_agrees_with_the_torch_model(committed: verifier.Verifier) -> None:
    probes = committed.meta["probes"]
    want = np.array(probes["logits"])
    got = committed.raw_logits([verifier.window(*w) for w in probes["windows"]])
    assert np.abs(want - got).max() < 1.0
    assert (want.argmax(1) == got.argmax(1)).mean() >= 0.9


def test_the_training_step_on_a_slice_reproduces_the_committed_decisions(
    committed: verifier.Verifier,
) -> None:
    recorded = committed.meta["slice_check"]["decisions"]
    got = verifier_training.slice_run()
    assert len(got) == len(recorded) == verifier_training.SLICE_PAIRS
    assert np.mean([a == b for a, b in zip(got, recorded, strict=True)]) >= 0.95


def test_a_sentence_is_judged_the_same_alone_and_among_others(
    committed: verifier.Verifier,
) -> None:
    claim = "The crash on the coast road caused 24 deaths."
    own = "The crash on the coast road caused 24 deaths on Sunday."
    others = [
        "Police closed the road for six hours while the wreckage was cleared away.",
        "The council said it would review the speed limit on the stretch next year.",
    ]
    alone = committed.logits(claim, [own])[0]
    among = committed.logits(claim, [*others, own])[2]
    assert (alone == among).all()


def test_the_stacker_reads_a_changed_figure_as_less_supported(
    committed: verifier.Verifier,
) -> None:
    sentence = "The crash on the coast road caused 24 deaths on Sunday."
    right = committed.probs("The crash on the coast road caused 24 deaths.", [sentence])[0]
    wrong = committed.probs("The crash on the coast road caused 31 deaths.", [sentence])[0]
    assert right[0] > wrong[0]
    assert wrong[1] > right[1]


def test_the_check_shows_the_verifiers_confidence(seeded: Settings) -> None:
    v = check("The United States contributed $6 million to Panama's Ministry of Security.", seeded)
    out = json.loads(json.dumps(v.as_dict()))
    assert 0.0 < out["confidence"] <= 1.0
    assert out["verdict"] == "supported"


SEED_TITLE = "US grants Panama $6 million for repatriation of illegal immigrants"


def test_the_check_reads_each_sentence_with_its_articles_title(
    seeded: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The verifier was trained on (claim, sentence, page title): the check hands it each
    sentence's own article title, the one the rules cite included."""
    seen = verifier_reads(monkeypatch, "probs")
    check("The United States contributed $6 million to Panama's Ministry of Security.", seeded)

    sentences, titles = seen[0]
    assert len(titles) == len(sentences) > 1
    amount = next(k for k, s in enumerate(sentences) if "is $6,000,000" in s)
    assert titles[amount] == SEED_TITLE
    assert titles[-1] == SEED_TITLE  # the sentence the rules cite, read last


def test_the_title_names_what_the_sentence_leaves_unnamed(committed: verifier.Verifier) -> None:
    """A sentence that calls its subject "the series" supports a claim naming it only
    under the page of that series, not under another's."""
    claim = "Gotham premiered in 2014."
    sentence = "The series premiered on Fox on September 22, 2014."
    own, other = committed.probs(
        claim, [sentence, sentence], ["Gotham (TV series)", "Smallville (TV series)"]
    )
    assert own[0] > other[0] + 0.1
