"""The reading model: what it reads (question, sentence, the sentence before), the
committed int8 graph against the model it was exported from, the training step on a
slice reproducing the committed decisions, and answers it changes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT, index_of

from qa import ask
from qa.answering import extractive, reader, reader_training, shorts
from qa.settings import Settings

LOPEZ = """Council approves new library for the east side

The city council voted on Tuesday to build a new public library on the east side, after
two years of debate over its cost.

Maria Lopez, 41, said the library would give her children a quiet place to study. She has
lived in the neighbourhood since 2009.

The building is expected to open in the spring of 2028, the council said.
"""


def _articles(folder: Path) -> None:
    (folder / "library.txt").write_text(LOPEZ, encoding="utf-8")


def test_a_window_is_the_question_the_sentence_and_the_end_of_the_one_before() -> None:
    w = reader.encode("How old is Maria Lopez?", "Maria Lopez, 41, said so.", "A " * 60 + "end.")
    tok = reader.tokenizer()
    q = tok.encode("How old is Maria Lopez?", add_special_tokens=False).ids
    assert w.ids[0] == reader.CLS and w.ids[1 : 1 + len(q)] == q
    assert w.ids[1 + len(q)] == reader.SEP and w.start == len(q) + 2
    sentence = w.ids[w.start : w.start + len(w.offsets)]
    assert sentence == tok.encode("Maria Lopez, 41, said so.", add_special_tokens=False).ids
    # the previous sentence is cut to its last P_TOKENS tokens, so its end is kept
    tail = w.ids[w.start + len(w.offsets) + 1 : -1]
    assert len(tail) == reader.P_TOKENS and tok.decode(tail).endswith("end.")
    assert w.types[: w.start] == [0] * w.start and set(w.types[w.start :]) == {1}


def test_the_next_sentence_follows_cut_to_its_first_tokens() -> None:
    after = "She moved here in " + "a " * 60 + "end."
    w = reader.encode("How old is Maria Lopez?", "Maria Lopez, 41, said so.", "", after)
    tok = reader.tokenizer()
    bare = reader.encode("How old is Maria Lopez?", "Maria Lopez, 41, said so.")
    assert w.ids[: len(bare.ids)] == bare.ids and (w.start, w.offsets) == (bare.start, bare.offsets)
    tail = w.ids[len(bare.ids) : -1]
    assert len(tail) == reader.N_TOKENS and tok.decode(tail).startswith("she moved here")
    assert w.ids[-1] == reader.SEP and set(w.types[w.start :]) == {1}


def test_the_articles_title_comes_last_cut_to_its_first_tokens() -> None:
    headline = "Council approves new library for the east side after two years of debate"
    w = reader.encode("How old is Maria Lopez?", "Maria Lopez, 41, said so.", "", "", headline)
    tok = reader.tokenizer()
    t = tok.encode(headline, add_special_tokens=False).ids
    assert len(t) > reader.T_TOKENS
    assert w.ids[-1] == reader.SEP and w.ids[-1 - reader.T_TOKENS : -1] == t[: reader.T_TOKENS]
    # the sentence, where the short answer is read, is where it is without a title
    bare = reader.encode("How old is Maria Lopez?", "Maria Lopez, 41, said so.")
    assert (w.start, w.offsets) == (bare.start, bare.offsets)
    assert w.ids[: len(bare.ids)] == bare.ids and w.types[len(bare.ids) :] == [1] * (
        reader.T_TOKENS + 1
    )


def test_the_best_span_stays_inside_the_sentence_and_is_short() -> None:
    w = reader.encode("How old?", "Maria Lopez, 41, said so.")
    n = len(w.ids)
    start, end = np.full(n, -5.0), np.full(n, -5.0)
    start[0] = end[0] = 50.0  # [CLS] is not the sentence: never picked
    at = w.start + 3  # "41"
    start[at], end[at] = 8.0, 8.0
    p, i, j = reader.best_span(start, end, w)
    assert (i, j) == (3, 3) and reader.span_text("Maria Lopez, 41, said so.", w, i, j) == "41"
    assert 0.5 < p <= 1.0
    end[at] = -5.0
    end[w.start] = 9.0  # an end before the start is no span
    _, i, j = reader.best_span(start, end, w)
    assert i <= j


# The committed readers: the one every question is read by, and the follow-ups' (context
# words in its window), each with its path.
READERS = {
    "reader": (reader.reader, reader.ONNX_PATH, False),
    "follow-ups": (reader.context_reader, reader.CONTEXT_ONNX_PATH, True),
}


@pytest.mark.parametrize("which", sorted(READERS))
def test_the_committed_int8_graph_agrees_with_the_model_it_was_exported_from(which: str) -> None:
    load, path, _ = READERS[which]
    r = load()
    assert r is not None
    probes = r.meta["probes"]
    assert len(probes["windows"]) >= 16
    got = r.raw([reader.encode(*w) for w in probes["windows"]])[0]
    want = np.array(probes["support"])
    # int8 moves a logit by about 0.3 on average, up to 1.35 for one of 32 probes of the
    # committed reader (0.7 for the two-epoch one before it); the stacker (weight 0.37)
    # and its threshold are fitted on the int8 graph's own logits
    assert np.abs(got - want).mean() < 0.4
    assert np.abs(got - want).max() < 1.5
    assert np.corrcoef(got, want)[0, 1] > 0.98
    sure = np.abs(want) > 1.0
    assert (np.sign(got[sure]) == np.sign(want[sure])).all()
    assert path.stat().st_size < 26 * 1024 * 1024


@pytest.mark.parametrize("which", sorted(READERS))
def test_training_on_a_slice_reproduces_the_committed_decisions(which: str) -> None:
    """`make train-reader` (and `make train-context-reader`) also trains on a small slice
    (a few CoQA fit stories, one epoch) and records what that model decides: support or
    not, and the span."""
    load, _, context = READERS[which]
    r = load()
    assert r is not None and r.reads_context == context
    recorded = r.meta["slice_check"]["decisions"]
    now = reader_training.slice_run(context=context)
    assert len(now) == len(recorded) > 20
    assert np.mean([a == b for a, b in zip(now, recorded, strict=True)]) >= 0.95


def test_the_age_after_a_name_is_read(tmp_path: Path) -> None:
    settings, _ = index_of(tmp_path, "articles", _articles)
    answer = ask("How old is Maria Lopez?", settings=settings.with_(scorer="reader"))
    assert not answer.abstained, answer.text
    assert answer.short == "41", answer.text
    assert answer.text.startswith("41 [1]. ")
    assert answer.citations[0].paragraph == 3


def test_a_span_of_punctuation_alone_is_no_short_answer() -> None:
    # The reader once gave "(" for a question on a sentence full of brackets.
    sentence = "Maria Lopez, 41, said the library (a new one) would help."
    chooser = extractive.spans.picker(extractive.support.forest().meta)

    def short(span: str) -> str:
        found = extractive.Scored(
            [],
            0.5,
            {sentence: (span, 0.99)},
            True,
            0.5,
            reader.reader().short_model,  # type: ignore[union-attr]
        )
        return extractive._reader_short(found, chooser, "How old is Maria Lopez?", sentence, 0.9)

    assert short("41") == "41"
    assert short("(") == ""
    assert short(", ") == ""


def test_the_short_answer_model_weighs_what_the_span_is_not_only_its_probability() -> None:
    """At the same reader probability, a span that restates the question's words ("the
    Ministry of Security of Panama" for its minister) or is of the wrong kind (a place for
    "How many") is likelier wrong than the name or the figure beside it."""
    decider = reader.reader().short_model  # type: ignore[union-attr]
    assert decider is not None
    chooser = extractive.spans.picker(extractive.support.forest().meta)

    def p(question: str, sentence: str, span: str, span_p: float = 0.8) -> float:
        return decider.probability(
            shorts.features(question, sentence, span, span_p, 0.6, chooser)[1]
        )

    question = "What is the name of Panama's Minister of Security?"
    sentence = (
        "Frank Abrego, Panama's Minister of Security, said the Ministry of Security of "
        "Panama would pay."
    )
    assert p(question, sentence, "Ministry of Security of Panama") < p(
        question, sentence, "Frank Abrego"
    )
    question = "How many migrants were flown back?"
    sentence = "The ministry said 212 migrants were flown back to Colombia on Tuesday."
    assert p(question, sentence, "Colombia") < p(question, sentence, "212")
    assert p(question, sentence, "212", 0.3) < p(question, sentence, "212", 0.9)
    assert decider.shown(shorts.features(question, sentence, "212", 0.95, 0.9, chooser)[1])


def test_the_short_answer_model_must_match_its_features() -> None:
    assert shorts.decider({"short_above": 0.5}) is None  # a reader fitted before it
    meta = {
        "short_model": {"features": ["span_logit"], "weights": [1.0], "bias": 0.0, "threshold": 0.5}
    }
    with pytest.raises(ValueError, match="make train-reader"):
        shorts.decider(meta)


def test_the_short_answer_threshold_is_the_lowest_that_keeps_the_spans_shown_right() -> None:
    p = np.array([0.9, 0.8, 0.7, 0.6, 0.3])
    right = np.array([True, True, False, True, False])
    got = reader_training._lowest_precise(p, right, 10)
    # From 0.61 three of four shown are right (0.75, under 0.8); from 0.71, two of two.
    assert got == {"threshold": 0.71, "shown": 0.2, "right": 1.0}


def test_without_the_reader_the_trees_answer_alone(
    seeded: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reader, "reader", lambda: None)
    question = "How much money did the US give Panama for the deportation pilot?"
    answer = ask(question, settings=seeded.with_(scorer="reader"))
    assert not answer.abstained and "6,000,000" in answer.text


def test_a_window_reads_the_same_alone_and_among_others() -> None:
    r = reader.reader()
    assert r is not None
    question = "How much did the United States give Panama?"
    own = ("The United States gave Panama $6,000,000 for the flights.", "", "", "US aid")
    others = [
        ("Panama's president thanked the officials in a speech on Friday.", own[0], "", ""),
        ("Migrants crossed the Darien Gap in record numbers in 2023, officials said.", "", "", ""),
    ]
    alone = r.read(question, [own])[0]
    among = r.read(question, [*others, own])[2]
    assert among.logit == alone.logit and among.short == alone.short


def test_the_stacked_score_stays_within_the_bounds_the_reader_leaves_it() -> None:
    r = reader.reader()
    assert r is not None and r.logit_range is not None
    low, high = r.logit_range
    assert low < 0 < high
    for tree in (0.01, 0.2, 0.5, 0.93):
        least, most = r.bounds(tree)
        assert least < most
        for logit in (low - 5, low, 0.0, high, high + 5):
            assert least <= r.combine(tree, logit) <= most
        # A logit beyond the recorded range counts as its end.
        assert r.combine(tree, high + 5) == r.combine(tree, high)


def test_sparing_reads_answers_as_reading_every_candidate_does(
    seeded: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reader leaves unread the candidates that cannot change the answer: over the
    question set the answers, short answers, citations and confidences are those of
    reading all TOP_K, with fewer windows read."""
    questions = [
        json.loads(line)["question"]
        for line in (ROOT / "eval" / "questions.jsonl").read_text("utf-8").splitlines()
    ][:24]
    r = reader.reader()
    assert r is not None
    settings = seeded.with_(scorer="reader")
    said: dict[bool, list[tuple[object, ...]]] = {}
    read: dict[bool, int] = {}
    for spare in (False, True):
        monkeypatch.setattr(extractive, "SPARE_READS", spare)
        before = r.windows_read
        said[spare] = []
        for q in questions:
            a = ask(q, settings=settings)
            cited = [(c.source, c.paragraph) for c in a.citations]
            said[spare].append((q, a.text, a.short, cited, round(a.confidence, 9)))
        read[spare] = r.windows_read - before
    assert said[True] == said[False]
    assert read[True] < read[False]


def test_coqa_follow_ups_pair_as_the_conversation_rewrites_them_when_asked_for() -> None:
    from qa.answering.referents import held_out

    story_id = next(f"story{n}" for n in range(20) if not held_out(f"story{n}"))
    story = {
        "id": story_id,
        "filename": "market.txt",
        "story": (
            "Maria Lopez opened a bakery in the old market last spring. "
            "She sells bread and cakes every morning. "
            "Her brother Tom repairs bicycles in the shop next door. "
            "The market closes on Sundays."
        ),
        "questions": [
            {"input_text": "Who opened a bakery?"},
            {"input_text": "What does she sell?"},
            {"input_text": "When does the market close?"},
        ],
        "answers": [
            {"input_text": "Maria Lopez", "span_text": "Maria Lopez opened a bakery"},
            {"input_text": "bread and cakes", "span_text": "She sells bread and cakes"},
            {"input_text": "on Sundays", "span_text": "The market closes on Sundays"},
        ],
    }
    pairs = reader_training.coqa_pairs([story], followups=True)
    positives = {p.question: p.sentence for p in pairs if p.label}
    # The pronoun is resolved from the first answer; no "(context: ...)" is read.
    assert positives["What does Maria Lopez sell?"].startswith("She sells bread")
    assert positives["When does the market close?"] == "The market closes on Sundays."
    assert not any("context:" in p.question for p in pairs)
    before = {p.question for p in reader_training.coqa_pairs([story], followups=False)}
    assert "What does Maria Lopez sell?" not in before and "What does she sell?" not in before
    # A held-out story never trains the reader.
    held = next(f"story{n}" for n in range(20) if held_out(f"story{n}"))
    assert reader_training.coqa_pairs([{**story, "id": held}], followups=True) == []
    measured = reader_training.coqa_pairs([{**story, "id": held}], followups=True, held=True)
    assert {p.question for p in measured if p.label} == set(positives)


def test_a_reader_trained_with_context_words_reads_them_after_the_question() -> None:
    asked = "When did it close? (context: What did the city build in 1990)"
    assert reader.with_context(asked, False) == "When did it close?"
    assert reader.with_context(asked, True) == (
        "When did it close? (What did the city build in 1990)"
    )
    assert reader.with_context("When did the mill close?", True) == "When did the mill close?"
    # Such a follow-up goes to the follow-ups' reader, which reads its context words;
    # every other question to the reader, which does not.
    follow, plain = reader.reader_for(asked), reader.reader_for("When did the mill close?")
    assert follow is reader.context_reader() and plain is reader.reader()
    assert follow is not None and plain is not None and follow is not plain
    assert follow.question(asked) == "When did it close? (What did the city build in 1990)"
    assert plain.question(asked) == "When did it close?"


def test_coqa_follow_ups_keep_their_context_words_when_the_reader_reads_them() -> None:
    from qa.answering.referents import held_out

    story = {
        "id": next(f"story{n}" for n in range(20) if not held_out(f"story{n}")),
        "filename": "mill.txt",
        "story": (
            "The city built a paper mill by the river in 1990. "
            "It closed in 2008 after the owners went bankrupt. "
            "A museum of local history opened in the building in 2015. "
            "Visitors come from across the region."
        ),
        "questions": [
            {"input_text": "What did the city build in 1990?"},
            {"input_text": "When did it close?"},
            {"input_text": "Why?"},
        ],
        "answers": [
            {"input_text": "a paper mill", "span_text": "The city built a paper mill"},
            {"input_text": "2008", "span_text": "It closed in 2008"},
            {"input_text": "the owners went bankrupt", "span_text": "after the owners went"},
        ],
    }
    kept = [p.question for p in reader_training.coqa_pairs([story], context=True) if p.label]
    dropped = [p.question for p in reader_training.coqa_pairs([story], context=False) if p.label]
    # "it" is no person: unresolved, the reader reads the question it follows.
    assert "When did it close? (What did the city build in 1990)" in kept
    assert "When did it close?" in dropped
    # A bare "Why?" is asked about the last question and its answer.
    why = next(q for q in kept if q.startswith("Why?"))
    assert "close" in why and "2008" in why
    assert "Why?" in dropped
    assert not any("(" in q for q in dropped)
