"""The question set: reading it, its gold paragraphs, and what counts as a right answer.

Format of a question file (JSON Lines, one case a line; documented in the README):
  id, type (fact | paraphrase | multi | unanswerable | followup | spelling | boilerplate),
  question, history (optional OpenAI-style messages), answerable (bool),
  keywords: list of groups, each a list of alternatives; a correct answer contains one
  alternative of every group (case-insensitive),
  gold: list of {"source", "paragraph"} that hold the answer ([] when unanswerable),
  answer (optional): a reference answer in words, used only by the LLM judge.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..answering.answer import Answer
from ..errors import QAError
from ..settings import Settings

DEFAULT_QUESTIONS = Path("eval/questions.jsonl")

Para = tuple[str, int]  # (source, paragraph number)


def load_cases(path: Path = DEFAULT_QUESTIONS) -> list[dict[str, Any]]:
    cases = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            try:
                cases.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise QAError(f"{path}:{n}: not valid JSON ({exc.msg})") from None
    for case in cases:
        missing = {"id", "question", "answerable"} - set(case)
        if missing:
            raise QAError(f"{path}: case {case.get('id', '?')} lacks {', '.join(sorted(missing))}")
    return cases


def keywords_match(text: str, groups: list[list[str]]) -> bool:
    low = text.lower()
    return all(any(alt.lower() in low for alt in group) for group in groups)


def judge(case: dict[str, Any], answer: Answer) -> bool:
    return judge_text(case, answer.text, answer.abstained)


def judge_text(case: dict[str, Any], text: str, abstained: bool) -> bool:
    if not case.get("answerable", True):
        return abstained
    return not abstained and keywords_match(text, case.get("keywords", []))


def gold_paragraphs(case: dict[str, Any]) -> list[Para]:
    return [(g["source"], int(g["paragraph"])) for g in case.get("gold", [])]


def retrieval_cases(path: Path = DEFAULT_QUESTIONS) -> list[dict[str, Any]]:
    """The answerable cases with gold paragraphs: those a retrieval rank is defined for."""
    return [c for c in load_cases(path) if c.get("answerable") and c.get("gold")]


def retrieval_rank(case: dict[str, Any], settings: Settings, mode: str, k: int = 10) -> int | None:
    """The rank of the case's first gold paragraph in qa's retrieval alone (a follow-up
    rewritten as `ask` would without a model), or None when it is not in the top k."""
    from ..answering.followup import condense
    from ..service import retrieve

    gold = set(gold_paragraphs(case))
    question = condense(case["question"], case.get("history"))
    hits = retrieve(question, k=k, settings=settings, mode=mode)
    return next((h.n for h in hits if (h.source, h.paragraph) in gold), None)
