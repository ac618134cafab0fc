"""The offline answerer: the asked fact first, copied from the sentence that states it,
then that sentence quoted, each cited; or, when no sentence of the retrieved paragraphs
states the asked fact, a plain abstention with the closest paragraphs as related.

Which sentence states the fact, and whether any does, is the learned support scorer's
call (`qa.answering.support`); the fact itself is the learned span picker's (`qa.answering.spans`).
`QA_SCORER=handset` answers with the earlier hand-set scorer instead (`qa.answering.handset`),
kept as the baseline the evaluation compares against.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from llama_index.core.schema import NodeWithScore

from ..search.recency import latest_first
from ..store.embedding import BundledEmbedding
from . import handset, spans, support
from .answer import Idf, split_context, sub_questions
from .qtype import FACTOID, question_type

# A second sentence is quoted when it also clears the threshold, is at least this share
# as likely as the best, and holds question words the best one lacks.
SECOND_SHARE = 0.6


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


@dataclass
class Evidence:
    picks: list[Pick]
    confidence: float  # the best sentence's score: the probability it states the answer


def _learned(a: Asked) -> Evidence:
    model = support.forest()
    rows = support.score(support.candidates(a.question, a.q_vec, a.hits, a.embedder, a.idf), model)
    threshold = model.threshold_answer
    if a.latest:
        rows = latest_first(rows, threshold)
    if not rows or rows[0].score < threshold:
        return Evidence([], rows[0].score if rows else 0.0)
    best = rows[0]
    picks = [Pick(best.sentence, best.hit, best.score)]
    main = split_context(a.question)[0]
    chooser = spans.picker(model.meta)
    short = chooser.pick(main, best.sentence)
    if short is not None:
        picks[0].short = short.text
    follow = _following(best, rows) if short is None and question_type(main) in FACTOID else None
    if follow is not None:
        # The asked fact is in the next sentence ("He was accompanied by ..."): quote both.
        found = chooser.pick(main, follow.sentence)
        picks.append(Pick(follow.sentence, follow.hit, follow.score, found.text if found else ""))
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


SCORERS = {"learned": _learned, "handset": _handset}


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
            SCORERS[scorer](
                Asked(part, vec, retrieve(part, vec), asked.embedder, asked.idf, asked.latest)
            )
        )
    return out


def ranked(scorer: str, a: Asked) -> list[tuple[float, str]]:
    """Every candidate sentence as (score, sentence), best first, before any threshold:
    what the evaluation moves the threshold over."""
    if scorer == "handset":
        scored = handset.score_sentences(a.question, a.q_vec, a.hits, a.embedder, a.idf)
        return sorted(((s.confidence, s.sentence) for s in scored), key=lambda r: -r[0])
    rows = support.score(support.candidates(a.question, a.q_vec, a.hits, a.embedder, a.idf))
    return [(c.score, c.sentence) for c in rows]
