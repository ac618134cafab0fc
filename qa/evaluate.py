"""Run the fixed question set and score answers, citations, abstentions and retrieval.

Format of eval/questions.jsonl (one JSON object a line):
  id, type (fact | paraphrase | multi | unanswerable | followup), question,
  history (optional OpenAI-style messages), answerable (bool),
  keywords: list of groups, each a list of alternatives; a correct answer contains one
  alternative of every group (case-insensitive),
  gold: list of {"source", "paragraph"} that hold the answer ([] when unanswerable).
"""

from __future__ import annotations

import json
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .answer import Answer
from .service import ask, retrieve
from .settings import Settings

DEFAULT_QUESTIONS = Path("eval/questions.jsonl")


def load_cases(path: Path = DEFAULT_QUESTIONS) -> list[dict[str, Any]]:
    cases = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            try:
                cases.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{n}: not valid JSON ({exc.msg})") from None
    return cases


def keywords_match(text: str, groups: list[list[str]]) -> bool:
    low = text.lower()
    return all(any(alt.lower() in low for alt in group) for group in groups)


@dataclass
class CaseResult:
    id: str
    type: str
    correct: bool
    abstained: bool
    answerable: bool
    cited: list[tuple[str, int]]
    gold: list[tuple[str, int]]
    rank: int | None  # rank of the first gold paragraph in retrieval (1-based)
    seconds: float
    answer: str
    confidence: float


@dataclass
class Report:
    cases: list[CaseResult] = field(default_factory=list)

    def metrics(self) -> dict[str, float]:
        cs = self.cases
        answerable = [c for c in cs if c.answerable]
        unanswerable = [c for c in cs if not c.answerable]
        answered = [c for c in answerable if not c.abstained]
        cited = [p for c in answered for p in c.cited]
        cited_gold = [p for c in answered for p in c.cited if p in c.gold]
        gold_all = [p for c in answerable for p in c.gold]
        gold_cited = [p for c in answerable for p in c.gold if p in c.cited]
        abstained = [c for c in cs if c.abstained]
        ranked = [c for c in answerable if c.gold]
        seconds = sorted(c.seconds for c in cs)

        def ratio(a: int, b: int) -> float:
            return round(a / b, 4) if b else 0.0

        return {
            "cases": len(cs),
            "accuracy": ratio(sum(c.correct for c in cs), len(cs)),
            "answer_accuracy": ratio(sum(c.correct for c in answerable), len(answerable)),
            "citation_hit": ratio(
                sum(any(p in c.gold for p in c.cited) for c in answered), len(answered)
            ),  # fmt: skip
            "citation_precision": ratio(len(cited_gold), len(cited)),
            "citation_recall": ratio(len(gold_cited), len(gold_all)),
            "abstention_precision": ratio(sum(not c.answerable for c in abstained), len(abstained)),
            "abstention_recall": ratio(sum(c.abstained for c in unanswerable), len(unanswerable)),
            "hit@1": ratio(sum(c.rank == 1 for c in ranked), len(ranked)),
            "hit@5": ratio(sum(c.rank is not None and c.rank <= 5 for c in ranked), len(ranked)),
            "mrr": round(sum(1 / c.rank for c in ranked if c.rank) / max(len(ranked), 1), 4),
            "followup_accuracy": ratio(
                sum(c.correct for c in cs if c.type == "followup"),
                sum(1 for c in cs if c.type == "followup"),
            ),
            "latency_p50_ms": round(statistics.median(seconds) * 1000, 1) if seconds else 0.0,
            "latency_p95_ms": round(seconds[int(0.95 * (len(seconds) - 1))] * 1000, 1)
            if seconds
            else 0.0,
        }


def judge(case: dict[str, Any], answer: Answer) -> bool:
    if not case.get("answerable", True):
        return answer.abstained
    return not answer.abstained and keywords_match(answer.text, case.get("keywords", []))


def run(cases: list[dict[str, Any]], settings: Settings | None = None) -> Report:
    settings = settings or Settings.from_env()
    report = Report()
    for case in cases:
        gold = [(g["source"], int(g["paragraph"])) for g in case.get("gold", [])]
        started = time.perf_counter()
        answer = ask(case["question"], history=case.get("history"), settings=settings)
        seconds = time.perf_counter() - started
        rank = None
        if gold:
            hits = retrieve(answer.standalone_question or case["question"], k=10, settings=settings)
            rank = next((h.n for h in hits if (h.source, h.paragraph) in gold), None)
        report.cases.append(
            CaseResult(
                id=case["id"],
                type=case.get("type", ""),
                correct=judge(case, answer),
                abstained=answer.abstained,
                answerable=bool(case.get("answerable", True)),
                cited=[(c.source, c.paragraph) for c in answer.citations],
                gold=gold,
                rank=rank,
                seconds=seconds,
                answer=answer.text,
                confidence=answer.confidence,
            )
        )
    return report
