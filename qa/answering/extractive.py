"""The offline answerer: the asked fact first, copied from the sentence that states it,
then that sentence quoted, each cited; or, when no sentence of the retrieved paragraphs
states the asked fact, a plain abstention with the closest paragraphs as related.

Which sentence states the fact, and whether any does, is the learned support scorer's
call (`qa.answering.support`), with the reading model (`qa.answering.reader`) over its best
candidates by default; the fact itself is the reader's span, or the learned span picker's
(`qa.answering.spans`). In a follow-up, where a sentence stands from the one the last
answer quoted moves its score (`qa.answering.locality`). `QA_SCORER=learned` answers
with the trees alone, and `QA_SCORER=handset` with the earlier hand-set scorer
(`qa.answering.handset`), kept as the baseline the evaluation compares against.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
from llama_index.core.schema import NodeWithScore

from ..search.recency import latest_first
from ..store.embedding import BundledEmbedding
from . import handset, locality, reader, shorts, spans, support
from .answer import Idf, split_context, sub_questions
from .qtype import FACTOID, question_type
from .shorts import Decider

# A second sentence is quoted when it also clears the threshold, is at least this share
# as likely as the best, and holds question words the best one lacks.
SECOND_SHARE = 0.6
# The reader leaves unread the candidates that cannot change the answer (`_read`); off,
# it reads all reader.TOP_K (bench/answerer_speed.py compares the two).
SPARE_READS = True


@dataclass
class Pick:
    """A sentence the answer quotes, with the short answer taken from it (if any)."""

    sentence: str
    hit: NodeWithScore
    score: float
    short: str = ""


@dataclass
class Asked:
    """A question (or part of one) and what the scorers need to weigh its sentences."""

    question: str
    q_vec: np.ndarray
    hits: list[NodeWithScore]
    embedder: BundledEmbedding
    idf: Idf
    latest: bool = False  # "the latest ...": prefer the most recently published answer
    # In a conversation: a candidate's distance from the sentence the latest answer quoted
    # (qa.answering.locality), None when it is in another article.
    near: locality.Near | None = None


@dataclass
class Evidence:
    picks: list[Pick]
    confidence: float  # the best sentence's score: the probability it states the answer


@dataclass
class Scored:
    """A question's candidates, best first, with the threshold their scores are held to
    and the best span the reader found in each sentence it read, with its probability."""

    rows: list[support.Candidate]
    threshold: float
    shorts: dict[str, tuple[str, float]]
    read: bool = False  # the reader read them
    short_above: float = 1.0  # the reader's span is shown from this probability
    # ... or, where the reader was fitted with one, as this model decides (qa.answering.shorts)
    short_model: Decider | None = None
    # Candidates among the reader's TOP_K it left unread (they could not be quoted); one
    # quoted after all (the sentence after the best, `_following`) is read for its span.
    unread: dict[str, support.Candidate] = field(default_factory=dict)


def _trees(a: Asked) -> Scored:
    model = support.forest()
    rows = support.score(support.candidates(a.question, a.q_vec, a.hits, a.embedder, a.idf), model)
    return Scored(rows, model.threshold_answer, {})


def _read(a: Asked, spare: bool | None = None) -> Scored:
    """The trees' best reader.TOP_K candidates read by the reading model, rescored by the
    stacker; the rest keep their place below them (the reader never saw them). Where the
    training found the stacked score no better than the trees', the trees decide and the
    reader reads only their best sentence, for its short answer.

    `spare`: the trees' best is read first; another of the TOP_K is read only where what
    the reader could make of it (its score's bounds, the reader's logit being clipped to
    its recorded range) might put it first or over the cut a quoted sentence must clear
    (the threshold, and SECOND_SHARE of the best). Those left unread score their lower
    bound, under that cut, so the answer is the one reading all TOP_K would give. A
    follow-up with context words is read by the follow-ups' reader (`reader.reader_for`)."""
    r = reader.reader_for(a.question)
    if r is None:
        return _trees(a)
    model = support.forest()
    rows = support.candidates(a.question, a.q_vec, a.hits, a.embedder, a.idf)
    if not r.stacked or not rows:
        rows = support.score(rows, model)
        read = _short_answers(rows[:1], _reads(r, a, rows[:1]))
        return Scored(rows, model.threshold_answer, read, True, r.short_above, r.short_model)
    for c, p in zip(rows, model.predict(support.matrix(rows)), strict=True):
        c.score = float(p)
    rows = support.ranked(rows)
    top, rest = rows[: reader.TOP_K], rows[reader.TOP_K :]
    tree_scores = [c.score for c in top]
    # a.latest picks among all that clear the threshold by date, so each is read; so
    # does a follow-up, whose scores are moved afterwards by where they stand.
    spare = (SPARE_READS and a.near is None) if spare is None else spare
    first = 1 if spare and not a.latest and r.logit_range is not None else len(top)
    reads: dict[int, reader.Read] = dict(enumerate(_reads(r, a, top[:first])))

    def stacked(k: int) -> float:
        return r.combine(tree_scores[k], reads[k].logit) * support.penalty(top[k])

    # The least and the most each candidate's stacked score can be, whatever it reads.
    bounds = [r.bounds(t) for t in tree_scores]
    least = [low * support.penalty(c) for c, (low, _) in zip(top, bounds, strict=True)]
    most = [high * support.penalty(c) for c, (_, high) in zip(top, bounds, strict=True)]
    best = max(stacked(k) for k in reads)
    cut = max(r.threshold, SECOND_SHARE * best)
    more = [k for k in range(first, len(top)) if most[k] > best or most[k] >= cut]
    reads |= dict(zip(more, _reads(r, a, [top[k] for k in more]), strict=True))
    read = _short_answers([top[k] for k in reads], list(reads.values()))
    for k, c in enumerate(top):
        c.score = stacked(k) if k in reads else least[k]
    low = min(c.score for c in top)
    for c in rest:
        c.score = min(c.score * support.penalty(c), low)
    unread = {c.sentence: c for k, c in enumerate(top) if k not in reads}
    return Scored(
        support.ranked(top) + rest, r.threshold, read, True, r.short_above, r.short_model, unread
    )


def _short_answers(
    rows: list[support.Candidate], reads: list[reader.Read]
) -> dict[str, tuple[str, float]]:
    return {c.sentence: (got.short, got.short_p) for c, got in zip(rows, reads, strict=True)}


def _reads(r: reader.Reader, a: Asked, rows: list[support.Candidate]) -> list[reader.Read]:
    return r.read(r.question(a.question), [reader.context(c) for c in rows])


def _reader_short(
    found: Scored, chooser: spans.Picker, asked: str, sentence: str, score: float
) -> str:
    """The reader's span, widened or narrowed to the typed span of the asked kind
    (`shorts.candidate`), when the short-answer model finds it likely enough to be the
    answer (`score`: the sentence's). A reader fitted before that model: its span when its
    probability is high enough, below that the span picker's pick when the two agree.
    `asked`: the question as asked (with a follow-up's context words, which a reader
    trained with them reads)."""
    question = split_context(asked)[0]
    if sentence in found.unread:
        r = reader.reader_for(asked)
        if r is not None:
            c = found.unread.pop(sentence)
            got = r.read(r.question(asked), [reader.context(c)])[0]
            found.shorts[sentence] = (got.short, got.short_p)
    read = found.shorts.get(sentence)
    if read is None or not any(ch.isalnum() for ch in read[0]):
        return ""  # none, or punctuation alone ("(")
    text, p = read
    if found.short_model is not None:
        shown, row = shorts.features(question, sentence, text, p, score, chooser)
        return shown if found.short_model.shown(row) else ""
    if p >= found.short_above:
        return shorts.candidate(question, sentence, text)[0]
    picked = chooser.pick(question, sentence)
    if picked is not None and (text in picked.text or picked.text in text):
        return picked.text
    return ""


def _learned(a: Asked, scored: Callable[[Asked], Scored] = _trees) -> Evidence:
    found = scored(a)
    rows, threshold = found.rows, found.threshold
    if a.near is not None:
        rows = locality.adjust(rows, a.near)
    if a.latest:
        rows = latest_first(rows, threshold)
    if not rows or rows[0].score < threshold:
        return Evidence([], rows[0].score if rows else 0.0)
    best = rows[0]
    picks = [Pick(best.sentence, best.hit, best.score)]
    main = split_context(a.question)[0]
    chooser = spans.picker(support.forest().meta)

    def short_of(sentence: str, score: float) -> str:
        if found.read:
            return spans.with_unit(
                main, sentence, _reader_short(found, chooser, a.question, sentence, score)
            )
        picked = chooser.pick(main, sentence)
        return spans.with_unit(main, sentence, picked.text) if picked else ""

    picks[0].short = short_of(best.sentence, best.score)
    follow = (
        _following(best, rows) if not picks[0].short and question_type(main) in FACTOID else None
    )
    if follow is not None:
        # The asked fact is in the next sentence ("He was accompanied by ..."): quote both.
        picks.append(
            Pick(follow.sentence, follow.hit, follow.score, short_of(follow.sentence, follow.score))
        )
        return Evidence(picks, best.score)
    for other in rows[1:4]:
        if other.score < max(threshold, SECOND_SHARE * best.score):
            break
        if other.covered - best.covered and other.sentence != best.sentence:
            picks.append(Pick(other.sentence, other.hit, other.score))
            break
    return Evidence(picks, best.score)


def _following(best: support.Candidate, rows: list[support.Candidate]) -> support.Candidate | None:
    """The sentence after the best one in its paragraph, when it holds something of the
    asked kind and question words the best one lacks."""
    for c in rows:
        same = c.hit.node.node_id == best.hit.node.node_id and c.index == best.index + 1
        if same and c.features["type_ok"] and c.covered - best.covered:
            return c
    return None


def _handset(a: Asked) -> Evidence:
    scored = handset.score_sentences(a.question, a.q_vec, a.hits, a.embedder, a.idf)
    best = scored[0].confidence if scored else 0.0
    if best < handset.ABSTAIN_BELOW:
        return Evidence([], best)
    picks = [Pick(s.sentence, s.hit, s.score) for s in handset.choose(scored)]
    return Evidence(picks, best)


def _reader(a: Asked) -> Evidence:
    return _learned(a, _read)


SCORERS = {"reader": _reader, "learned": _learned, "handset": _handset}


def evidence(
    scorer: str, asked: Asked, retrieve: Callable[[str, np.ndarray], list[NodeWithScore]]
) -> list[Evidence]:
    """The evidence for each part of the question ("How much X, and how many Y?" is two
    parts, each answered from its own retrieval; `retrieve(text, vector)` gives it)."""
    parts = sub_questions(asked.question)
    if len(parts) == 1:
        return [SCORERS[scorer](asked)]
    out = []
    for part in parts:
        vec = asked.embedder.embed_queries([part])[0]
        out.append(
            SCORERS[scorer](replace(asked, question=part, q_vec=vec, hits=retrieve(part, vec)))
        )
    return out


def ranked(scorer: str, a: Asked) -> list[tuple[float, str]]:
    """Every candidate sentence as (score, sentence), best first, before any threshold:
    what the evaluation moves the threshold over."""
    if scorer == "handset":
        scored = handset.score_sentences(a.question, a.q_vec, a.hits, a.embedder, a.idf)
        return sorted(((s.confidence, s.sentence) for s in scored), key=lambda r: -r[0])
    rows = (_read(a, spare=False) if scorer == "reader" else _trees(a)).rows
    return [(c.score, c.sentence) for c in rows]
