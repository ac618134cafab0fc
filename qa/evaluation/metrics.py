"""Scoring: one case's result, the metrics of a configuration, its misses by kind, and
the optional LLM judge.

How a configuration is scored (the same code for all four):
  - a *citation* covers one or more paragraphs: ours cite one paragraph each; a stock
    chunk covers every paragraph whose whole text it contains (whitespace-normalized);
  - citation precision: citations covering a gold paragraph / citations, over answered
    answerable cases; recall: gold paragraphs covered by a citation / gold paragraphs;
  - retrieval rank: the first rank, among the `top_k` results the configuration
    retrieved, whose unit covers a gold paragraph.
"""

from __future__ import annotations

import logging
import statistics
from dataclasses import asdict, dataclass, field
from typing import Any

from ..settings import Settings
from .cases import Para

log = logging.getLogger(__name__)


@dataclass
class CaseResult:
    id: str
    type: str
    correct: bool
    abstained: bool
    answerable: bool
    citations: list[list[Para]]  # each citation: the paragraphs it covers
    gold: list[Para]
    rank: int | None  # 1-based rank of the first retrieved unit covering a gold paragraph
    seconds: float
    answer: str
    confidence: float = 0.0
    judged: dict[str, float] = field(default_factory=dict)
    question: str = ""

    @property
    def cited(self) -> list[Para]:
        return [p for c in self.citations for p in c]


@dataclass
class Report:
    cases: list[CaseResult] = field(default_factory=list)

    def metrics(self) -> dict[str, float]:
        cs = self.cases
        answerable = [c for c in cs if c.answerable]
        unanswerable = [c for c in cs if not c.answerable]
        answered = [c for c in answerable if not c.abstained]
        citations = [(cit, c) for c in answered for cit in c.citations]
        gold_all = [(p, c) for c in answerable for p in c.gold]
        abstained = [c for c in cs if c.abstained]
        ranked = [c for c in answerable if c.gold]
        followups = [c for c in cs if c.type == "followup"]
        seconds = sorted(c.seconds for c in cs)

        def ratio(a: float, b: int) -> float:
            return round(a / b, 4) if b else 0.0

        out = {
            "cases": len(cs),
            "accuracy": ratio(sum(c.correct for c in cs), len(cs)),
            "answer_accuracy": ratio(sum(c.correct for c in answerable), len(answerable)),
            "citation_hit": ratio(
                sum(any(p in c.gold for p in c.cited) for c in answered), len(answered)
            ),  # fmt: skip
            "citation_precision": ratio(
                sum(any(p in c.gold for p in cit) for cit, c in citations), len(citations)
            ),  # fmt: skip
            "citation_recall": ratio(sum(p in c.cited for p, c in gold_all), len(gold_all)),
            "paragraphs_per_citation": ratio(sum(len(cit) for cit, _ in citations), len(citations)),
            "answer_words": ratio(sum(len(c.answer.split()) for c in answered), len(answered)),
            "abstention_precision": ratio(sum(not c.answerable for c in abstained), len(abstained)),
            "abstention_recall": ratio(sum(c.abstained for c in unanswerable), len(unanswerable)),
            "hit@1": ratio(sum(c.rank == 1 for c in ranked), len(ranked)),
            "hit@5": ratio(sum(c.rank is not None and c.rank <= 5 for c in ranked), len(ranked)),
            "mrr": ratio(sum(1 / c.rank for c in ranked if c.rank), len(ranked)),
            "followup_accuracy": ratio(sum(c.correct for c in followups), len(followups)),
            "latency_p50_ms": round(statistics.median(seconds) * 1000, 1) if seconds else 0.0,
            "latency_p95_ms": round(seconds[int(0.95 * (len(seconds) - 1))] * 1000, 1)
            if seconds
            else 0.0,
        }
        for key in sorted({k for c in cs for k in c.judged}):
            values = [c.judged[key] for c in cs if key in c.judged]
            out[key] = round(sum(values) / len(values), 4)
        return out


ANSWER_CHARS = 400  # answers are cut to this in the report (stock's are whole chunks)


def case_json(case: CaseResult) -> dict[str, Any]:
    out = asdict(case)
    if len(case.answer) > ANSWER_CHARS:
        out["answer"] = case.answer[: ANSWER_CHARS - 3] + "..."
    out["seconds"] = round(case.seconds, 4)
    out["confidence"] = round(case.confidence, 4)
    return out


def failures(result: dict[str, Any], config: str = "ours") -> dict[str, list[str]]:
    """The misses of one configuration, by kind."""
    kinds: dict[str, list[str]] = {}
    for c in result["configs"][config]["cases"]:
        if c["correct"]:
            continue
        if not c["answerable"]:
            kind = "answered an unanswerable question"
        elif c["abstained"]:
            kind = (
                "abstained although the gold paragraph was retrieved"
                if c["rank"]
                else "abstained; gold paragraph not retrieved"
            )
        elif not any(tuple(p) in [tuple(g) for g in c["gold"]] for cit in c["citations"]
                     for p in cit):  # fmt: skip
            kind = "answered from the wrong paragraph"
        else:
            kind = "cited the gold paragraph but quoted the wrong sentence"
        kinds.setdefault(kind, []).append(c["id"])
    return dict(sorted(kinds.items(), key=lambda kv: -len(kv[1])))


# --- the LLM judge ------------------------------------------------------------------

NO_ANSWER_REFERENCE = "The articles do not answer this question."


class LLMJudge:
    """llama-index's CorrectnessEvaluator (1-5 against a reference answer) and
    FaithfulnessEvaluator (is the answer supported by the quoted sources), beside the
    keyword scores. Takes any llama-index LLM, so tests can point it at a local server."""

    def __init__(self, llm: Any) -> None:
        from llama_index.core.evaluation import CorrectnessEvaluator, FaithfulnessEvaluator

        self.llm = llm
        self.correctness = CorrectnessEvaluator(llm=llm)
        self.faithfulness = FaithfulnessEvaluator(llm=llm)

    def __call__(
        self, case: dict[str, Any], answer: str, abstained: bool, contexts: list[str]
    ) -> dict[str, float]:
        reference = case.get("answer") or (
            NO_ANSWER_REFERENCE if not case.get("answerable", True) else ""
        )
        out: dict[str, float] = {}
        try:
            result = self.correctness.evaluate(
                query=case["question"], response=answer, reference=reference or None
            )
            if result.score is not None:
                out["llm_correctness"] = round(float(result.score) / 5, 4)
            if not abstained and contexts:
                faithful = self.faithfulness.evaluate(
                    query=case["question"], response=answer, contexts=contexts
                )
                out["llm_faithfulness"] = 1.0 if faithful.passing else 0.0
        except Exception as exc:  # one bad reply must not sink the run; it is logged
            log.warning("LLM judge failed on %s: %s", case.get("id"), exc)
        return out


def configured_llm(settings: Settings) -> Any | None:
    """The configured model as a llama-index LLM, or None for the extractive default."""
    if settings.llm == "extractive":
        return None
    from ..answering.llm import build_llm

    return build_llm(settings)
