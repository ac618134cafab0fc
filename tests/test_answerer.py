"""The learned answerer: the fact first, the sentence that states it, and abstention on a
near miss; the training script reproduces the committed model."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import SEED_000, SEEDS, make_settings, reader_blocks, seed_paragraph

from qa import ask
from qa.answering.answer import ABSTAIN_TEXT
from qa.answering.qtype import question_type, typed_spans
from qa.answering.spans import span_matches, with_unit
from qa.answering.support import FEATURES, MODEL_PATH, Forest
from qa.settings import Settings
from qa.store.ingest import ingest

AMOUNT_QUESTION = "How much money did the US give Panama for the deportation pilot?"
COMPANY_QUESTION = "Who accompanied Jacobstein at the virtual press conference?"


@pytest.mark.parametrize("scorer", ["learned", "reader"])
def test_amount_comes_first_and_cites_its_paragraph(seeded: Settings, scorer: str) -> None:
    answer = ask(AMOUNT_QUESTION, settings=seeded.with_(scorer=scorer))

    assert not answer.abstained
    assert answer.text.startswith("$6,000,000 [1]. ")
    assert answer.short == "$6,000,000"
    first = answer.citations[0]
    assert (first.source, first.paragraph) == (SEED_000, 2)
    assert first.text == seed_paragraph(SEED_000, 2)
    # the short answer and the quoted sentence are both verbatim from the cited paragraph
    assert answer.short in first.sentence and first.sentence in first.text
    assert f'"{first.sentence}" [1]' in answer.text
    assert answer.as_dict()["short"] == "$6,000,000"


@pytest.mark.parametrize("scorer", ["learned", "reader"])
def test_near_miss_abstains_while_the_rest_of_the_article_still_answers(
    tmp_path: Path, scorer: str
) -> None:
    folder = tmp_path / "articles"
    folder.mkdir()
    shutil.copy(SEEDS / "002_a1171a754c888c85.txt", folder)
    blocks = reader_blocks((SEEDS / SEED_000).read_text(encoding="utf-8"))
    amount = seed_paragraph(SEED_000, 2)
    assert "$6,000,000" in amount
    (folder / SEED_000).write_text("\n\n".join(b for b in blocks if b != amount) + "\n")
    settings = make_settings(tmp_path / "index", folder).with_(scorer=scorer)
    ingest([folder], settings, quiet=True)

    near_miss = ask(AMOUNT_QUESTION, settings=settings)
    assert near_miss.abstained, near_miss.text
    assert near_miss.text == ABSTAIN_TEXT
    assert near_miss.related  # the closest paragraphs are offered instead

    still = ask(COMPANY_QUESTION, settings=settings)
    assert not still.abstained, still.confidence
    names = seed_paragraph(SEED_000, 4)
    assert "Marcela Escobari" in names
    top = still.citations[0]
    # paragraph 4 of the original is paragraph 3 of the copy without paragraph 2
    assert (top.source, top.paragraph, top.text) == (SEED_000, 3, names)
    assert "Marcela Escobari" in still.text


def test_the_scorer_abstains_on_facts_the_articles_lack(seeded: Settings) -> None:
    # (Not yet: "How much did the European Union pay Panama for the flights?" is answered
    # with the US amount, 0.25 against a threshold of 0.19: a changed actor is a near
    # miss the scorer still misses.)
    for question in (
        "Who is the mayor of Panama City?",
        "How many migrants crossed the Darién jungle in 2019?",  # the year is not there
        "How much did the US pay Mexico for deportation flights?",
    ):
        answer = ask(question, settings=seeded)
        assert answer.abstained, (question, answer.text)


def test_question_types_and_spans() -> None:
    assert question_type(AMOUNT_QUESTION) == "money"
    assert question_type("How many migrants crossed in 2023?") == "number"
    assert question_type("When was the memorandum signed?") == "date"
    assert question_type(COMPANY_QUESTION) == "person"
    assert question_type("Where does the Clan del Golfo operate?") == "place"
    assert question_type("Which organization operates in the jungle?") == "org"
    assert question_type("Why did Panama sign the agreement?") == "other"
    sentence = "He reiterated that they offered $8,000,000 as a reward in May 2024."
    assert [s.text for s in typed_spans(sentence, "money", set())] == ["$8,000,000"]
    assert [s.text for s in typed_spans(sentence, "date", set())] == ["May 2024"]
    names = typed_spans("It was signed by Luis Miranda and Panama.", "person", {"panama"})
    assert [s.text for s in names] == ["Luis Miranda"]
    assert span_matches("the Denver Broncos", ["Denver Broncos"])
    assert not span_matches("Carolina Panthers", ["Denver Broncos"])


def test_a_measure_keeps_its_unit() -> None:
    """A measure is answered with its unit ("two weeks", not "two"); a count or an age
    stays bare."""
    closed = "The harbour will close to ships for two weeks in May."
    assert with_unit("How long will the harbour close?", closed, "two") == "two weeks"
    assert with_unit("How long was it?", "It was a 40-minute race.", "40") == "40-minute"
    assert with_unit("How far did he run?", "He ran 26.2 miles.", "26.2") == "26.2 miles"
    assert with_unit("How long is it?", "It is 1.2 km long.", "1.2 km") == "1.2 km"
    assert with_unit("How many weeks?", closed, "two") == "two"
    assert with_unit("How old is she?", "Lopez, 41 years old, said so.", "41") == "41"
    assert with_unit("How long will it close?", closed, "") == ""
    # The number as a whole word: not the "2" of "2024", nor a "two" with no unit.
    assert with_unit("How long?", "In 2024 it ran for 2 hours.", "2") == "2 hours"
    assert with_unit("How long?", "In 2 towns it ran 2 weeks.", "2") == "2 weeks"


def test_committed_model_loads_and_scores_with_numpy() -> None:
    model = Forest.load(MODEL_PATH)
    assert model.meta["features"] == FEATURES
    assert 0.0 < model.threshold_answer < 1.0
    x = np.zeros((3, len(FEATURES)))
    x[1, FEATURES.index("cover")] = 1.0
    x[1, FEATURES.index("sem")] = 0.8
    p = model.predict(x)
    assert p.shape == (3,) and np.all((p >= 0) & (p <= 1))
    assert p[1] > p[0]  # a sentence that holds the question's words and meaning scores higher


def test_training_on_a_slice_reproduces_the_committed_decisions(tmp_path: Path) -> None:
    """`make train-answerer` also runs the whole script on a small slice of the fit part
    and records what the slice's model decides (which sentence to quote, or abstain).
    Rerunning it here gives the same decisions; the committed model, fitted on the whole
    fit part, mostly agrees with them; and fitting is deterministic."""
    from qa.answering import training

    rows, model = training.slice_run(tmp_path / "cache")
    assert rows.y.sum() > 20 and len(rows.y) > 500
    a = training.fit(rows.x, rows.y).predict_proba(rows.x)[:, 1]
    b = training.fit(rows.x, rows.y).predict_proba(rows.x)[:, 1]
    assert np.array_equal(a, b)

    committed = Forest.load(MODEL_PATH)
    ours = training.decisions(model, rows)
    # One set of decisions per kind of machine seen (`make record-slice` adds one): the
    # slice's rows differ a little from machine to machine (a candidate more or less).
    recorded = max(
        training.recorded_slices(committed.meta),
        key=lambda r: np.mean([x == y for x, y in zip(ours, r, strict=False)]),
    )
    assert len(ours) == len(recorded) == len(rows.cases)
    assert np.mean([x == y for x, y in zip(ours, recorded, strict=True)]) >= 0.95
    full = training.decisions(committed, rows)
    assert np.mean([x == y for x, y in zip(full, recorded, strict=True)]) >= 0.7


@pytest.mark.parametrize("scorer", ["reader", "learned", "handset"])
def test_every_scorer_answers_the_seed_question(seeded: Settings, scorer: str) -> None:
    answer = ask(AMOUNT_QUESTION, settings=seeded.with_(scorer=scorer))
    assert not answer.abstained
    assert "6,000,000" in answer.text


def test_squad_benchmark_runs_every_answerer_and_renders(tmp_path: Path) -> None:
    """`qa eval --squad` on a small slice: every case through the trees with the reader,
    ours (the trees), the hand-set scorer and stock llama-index; metrics in range; the
    report section and the curve drawn."""
    from qa.answering import squad
    from qa.evaluation import squad_run
    from qa.evaluation.report import draw_squad_curve, squad_lines

    sample = {squad.ANSWERABLE: 12, squad.NEAR_MISS: 5, squad.OUT_OF_CORPUS: 5}
    result = squad_run.run(tmp_path / "cache", sample, say=print, part=squad.FIT, articles=2)
    assert list(result["configs"]) == ["reader", "ours", "handset", "stock"]
    n = sum(result["cases"].values())
    assert n == 22 and result["articles"] == 2 and result["paragraphs"] > 20
    for config in result["configs"].values():
        assert len(config["cases"]) == n
        for value in config["metrics"].values():
            assert value >= 0
    ours = result["configs"]["ours"]["metrics"]
    assert ours["out_of_corpus_abstention"] >= 0.6  # questions about articles not there
    assert result["configs"]["stock"]["metrics"]["near_miss_abstention"] == 0.0
    assert ours["gold_retrieved"] > 0.5
    assert set(result["curves"]) == {"reader", "ours", "handset"}
    path = squad_run.write(result, tmp_path / "reports")
    assert squad_run.load(tmp_path / "reports") == json.loads(path.read_text())
    draw_squad_curve(result, tmp_path / "squad.png")
    assert (tmp_path / "squad.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = "\n".join(squad_lines(result, "squad.png"))
    assert "| accuracy |" in text and "![accuracy against near-miss abstention](squad.png)" in text
