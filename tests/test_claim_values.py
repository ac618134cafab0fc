"""Claims compared by value, and the checker's confidence and caution (qa.desk.claims,
qa.desk.claim_gate), over a real index of short articles written for these tests: a
bound ("more than 20") held or ruled out by the figure stated, a year bound, a relation
read the wrong way round, roles swapped, a negated claim; the gate's confidence and what the strict
caution does; the gate's training on a slice against what was recorded."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import index_of

from qa.desk import claim_gate, claim_gate_training
from qa.desk.claim_slots import amounts, slots
from qa.desk.claims import check
from qa.desk.verdict import ABSENT, CONTRADICTED, SUPPORTED
from qa.errors import ConfigError
from qa.settings import Settings

ARTICLES = {
    "crash.txt": (
        "Bus crash in the mountains\n\nA bus crash on the mountain road on Tuesday caused 24 "
        "deaths, the regional police said.\n"
    ),
    "flood.txt": (
        "Floods in the valley\n\nThe floods in the valley on Sunday caused 18 deaths, "
        "officials said.\n"
    ),
    "family.txt": (
        "The Ortega family business\n\nLuis Ortega is the younger brother of Marta Ortega, "
        "who runs the family's shipping firm in Valencia.\n"
    ),
    "vote.txt": (
        "Council vote\n\nThe city council approved the new budget for the harbour on Monday "
        "by a vote of seven to two.\n"
    ),
    "harbour.txt": (
        "Night fishing\n\nThe harbour authority imposed a ban on night fishing on Friday, "
        "after two boats collided near the pier.\n"
    ),
    "film.txt": (
        "The film\n\nThe Quiet Harbour was released on May 20, 2016, and grossed $433 "
        "million worldwide.\n"
    ),
    "yields.txt": (
        "Bond market\n\nLast month, after the central bank cut its rate, bond yields fell "
        "to the lowest level on record, traders said.\n"
    ),
    "bridge.txt": (
        "New bridge\n\nMayor Ana Ruiz, who attended the opening of the river bridge on "
        "Saturday, said it would cut the commute by half.\n"
    ),
    "rescue.txt": (
        "Mountain rescue\n\nUnder the new accord, Chilean police officers will train "
        "Peruvian border guards in mountain rescue, the ministry said.\n"
    ),
    "reviews.txt": (
        "Harbour Lights reviews\n\nOn the review site Cinemeter, Harbour Lights has a rating "
        "of 71%, based on 141 reviews, with an average score of 6/10.\n"
    ),
    "cases.txt": (
        "Fever in the port\n\nThe confirmed COVID-19 cases in Puerto Azul reached 479, 41% "
        "(189 cases) of which came from abroad, the health ministry said.\n"
    ),
    "player.txt": (
        "Guard's height\n\nTomas Vidal is listed as 6'0\" (1.80 m) by the league but stands "
        "1.78 m barefoot.\n"
    ),
    "channel.txt": (
        "Kids channel\n\nThe channel Tiny Tunes TV has over 19.4 million subscribers and over "
        "15.1 billion video views.\n"
    ),
}


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    def write(folder: Path) -> None:
        for name, text in ARTICLES.items():
            (folder / name).write_text(text, encoding="utf-8")

    settings, _ = index_of(tmp_path_factory.mktemp("values"), "articles", write)
    return settings


@pytest.mark.parametrize(
    ("claim", "source", "want", "says"),
    [
        ("More than 20 people died in the bus crash on the mountain road.", "crash.txt",
         SUPPORTED, "The articles state this [1]."),
        ("More than 20 people died in the floods in the valley.", "flood.txt",
         CONTRADICTED, "The articles state 18, not more than 20 [1]."),
        ("Luis Ortega is the older brother of Marta Ortega.", "family.txt",
         CONTRADICTED, "younger, not older [1]"),
        ("Luis Ortega is the younger brother of Marta Ortega.", "family.txt", SUPPORTED, ""),
        ("The city council did not approve the new budget for the harbour.", "vote.txt",
         CONTRADICTED, "the claim says 'not', the passage does not [1]"),
        ("The city council approved the new budget for the harbour.", "vote.txt", SUPPORTED, ""),
        ("The harbour authority lifted the ban on night fishing.", "harbour.txt",
         CONTRADICTED, "imposed, not lifted [1]"),
        ("The Quiet Harbour was released after 2018.", "film.txt",
         CONTRADICTED, "not after 2018 [1]"),
        ("The Quiet Harbour grossed more than $412 million worldwide.", "film.txt",
         SUPPORTED, ""),
        ("The Quiet Harbour grossed less than $412 million worldwide.", "film.txt",
         CONTRADICTED, "$433 million, not less than $412 million [1]"),
        # two words turned the same way, each read
        ("Last month bond yields rose to the highest level on record.", "yields.txt",
         CONTRADICTED, "lowest, not highest; fell, not rose [1]"),
        ("Mayor Ana Ruiz skipped the opening of the river bridge.", "bridge.txt",
         CONTRADICTED, "attended, not skipped [1]"),
        # a count of three digits after "more than" is not a year
        ("Harbour Lights has more than 140 reviews on Cinemeter.", "reviews.txt",
         SUPPORTED, ""),
        ("Harbour Lights has more than 150 reviews on Cinemeter.", "reviews.txt",
         CONTRADICTED, "141, not more than 150 [1]"),
        ("Harbour Lights got an average score lower than 7/10 on Cinemeter.", "reviews.txt",
         SUPPORTED, ""),
        # the 19 of COVID-19 is not a figure the sentence must state
        ("There are more than 470 confirmed COVID-19 cases in Puerto Azul.", "cases.txt",
         SUPPORTED, ""),
        ("Tomas Vidal is over 1.75 meters tall.", "player.txt", SUPPORTED, ""),
        # a verb of comparison
        ("The worldwide gross of The Quiet Harbour exceeded $412 million.", "film.txt",
         SUPPORTED, ""),
    ],
)  # fmt: skip
def test_values_bounds_relations_and_negation(
    written: Settings, claim: str, source: str, want: str, says: str
) -> None:
    v = check(claim, written, sources=[source])
    assert v.verdict == want, (v.verdict, v.explanation)
    assert says in v.explanation
    cited = v.contradicting if want == CONTRADICTED else v.supporting
    assert cited and cited[0].source == source
    assert 0 < v.confidence <= 1


@pytest.mark.parametrize(
    ("claim", "source"),
    [
        # judged by the figure nearest the claim's (479), not by any figure (189)
        ("There are less than 470 confirmed COVID-19 cases in Puerto Azul.", "cases.txt"),
        # "1.80 m" is a height, not 1.8 million; 1.80 and 1.78, not 6, are near 1.81
        ("Tomas Vidal is over 1.81 meters tall.", "player.txt"),
        # "over 19.4 million" does not say "more than 19.5 million"
        ("Tiny Tunes TV has more than 19.5 million subscribers.", "channel.txt"),
    ],
)  # fmt: skip
def test_a_bound_the_figures_do_not_bear_out_is_not_supported(
    written: Settings, claim: str, source: str
) -> None:
    v = check(claim, written, sources=[source])
    assert v.verdict != SUPPORTED and not v.supporting, (v.verdict, v.explanation)


def test_numbers_of_names_and_units_are_not_the_claims_figures() -> None:
    def figures(claim: str) -> list[tuple[str, str]]:
        return [(s.kind, s.text) for s in slots(claim, lambda w: False) if s.kind != "name"]

    assert figures("Morocco has more than 56 COVID-19 cases.") == [("number", "56")]
    assert figures("Dolphin Tale 2 got a rating higher than 70% after 59 reviews.") == [
        ("number", "70%"),
        ("number", "59"),
    ]
    assert figures("2 Hearts is a song recorded in 2007.") == [("date", "2007")]
    assert figures("Cars 3 received 195 reviews in 2017.") == [
        ("number", "195"),
        ("date", "2017"),
    ]
    assert figures("The film was released in 1930.") == [("date", "1930")]
    assert amounts("He stands 1.80 m tall.") == {1.8}
    assert amounts("The deal was worth $5m.") == {5_000_000.0}


def test_roles_the_other_way_round_are_not_supported(written: Settings) -> None:
    right = "Chilean police officers will train Peruvian border guards in mountain rescue."
    swapped = "Peruvian border guards will train Chilean police officers in mountain rescue."
    assert check(right, written, sources=["rescue.txt"]).verdict == SUPPORTED
    v = check(swapped, written, sources=["rescue.txt"])
    assert v.verdict == ABSENT and not v.supporting, (v.verdict, v.explanation)


def test_the_confidence_is_the_gates_probability_of_the_verdict(written: Settings) -> None:
    gate = claim_gate.gate()
    assert gate is not None, "qa/answering/models/claim_gate.json is committed"
    claim = "More than 20 people died in the floods in the valley."
    v = check(claim, written, sources=["flood.txt"])
    strict = check(claim, written.with_(claim_caution="strict"), sources=["flood.txt"])
    # Under the default caution the rules' verdict stands, whatever the gate's probability.
    assert v.verdict == CONTRADICTED
    assert strict.verdict in (CONTRADICTED, ABSENT)
    if strict.verdict == CONTRADICTED:
        assert strict.confidence >= gate.thresholds["strict"][1]  # type: ignore[index]


def test_strict_caution_turns_an_unsure_verdict_into_not_in_the_articles(
    written: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Thresholds no verdict reaches: the rules' supported becomes "not in the articles",
    with the sentence they rested on as related and a note saying why."""
    gate = claim_gate.gate()
    assert gate is not None
    unreachable = claim_gate.Gate(
        gate.coef,
        gate.intercept,
        gate.mean,
        gate.scale,
        {**gate.thresholds, "strict": (1.01, 1.01)},
    )
    monkeypatch.setattr(claim_gate, "gate", lambda: unreachable)
    claim = "The Quiet Harbour grossed more than $412 million worldwide."
    plain = check(claim, written, sources=["film.txt"])
    v = check(claim, written.with_(claim_caution="strict"), sources=["film.txt"])
    assert plain.verdict == SUPPORTED
    assert v.verdict == ABSENT and not v.citations
    assert [c.sentence for c in v.related] == [c.sentence for c in plain.supporting]
    assert any("not sure enough" in n and "QA_CLAIM_CAUTION=strict" in n for n in v.notes)
    assert v.as_dict()["confidence"] == round(v.confidence, 4)


def test_a_bad_caution_is_refused_by_name() -> None:
    with pytest.raises(ConfigError, match="QA_CLAIM_CAUTION"):
        Settings.from_env({"QA_CLAIM_CAUTION": "reckless"})


def test_the_gate_training_on_a_slice_reproduces_what_was_recorded() -> None:
    """The claims of the recorded slice read again give the recorded features, and the
    committed gate the recorded probabilities."""
    meta = claim_gate_training.committed()
    recorded = meta["slice_check"]
    rows = claim_gate_training.vitaminc_rows("calibrate", recorded["per_class"])
    assert [r.claim for r in rows] == recorded["claims"]
    x = np.vstack([r.x for r in rows])
    gate = claim_gate.gate()
    assert gate is not None
    # One reading per kind of machine seen (`make record-slice` adds one): the int8
    # graphs' arithmetic differs a little from one CPU to another.
    readings = claim_gate_training.recorded_slices(meta)
    atol = claim_gate_training.SLICE_ATOL
    same = [r for r in readings if np.allclose(x, np.array(r["features"]), atol=atol)]
    assert same, "this machine reads the slice as no recorded machine did: make record-slice"
    for r in readings:  # the committed gate gives each recorded reading's probabilities
        assert np.allclose(gate.probs(np.array(r["features"])), np.array(r["probs"]), atol=1e-4)
    assert np.allclose(gate.probs(x), np.array(same[0]["probs"]), atol=0.02)
