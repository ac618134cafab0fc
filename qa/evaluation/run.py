"""The whole evaluation: every configuration on the same cases, case by case, and the
`qa eval` command that prints and writes its report."""

from __future__ import annotations

import json
import platform
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..answering.squad import CACHE as SQUAD_CACHE
from ..errors import QAError
from ..settings import Settings
from . import CONFIGS, LABELS, MODES, SCORERS, squad_run
from .bbc import run_bbc
from .cases import gold_paragraphs, judge, load_cases
from .metrics import CaseResult, LLMJudge, Report, case_json, configured_llm
from .report import bbc_rows, plain_table, squad_table, table_rows, write_report
from .stock import StockPipeline, indexed_files, stock_case, stock_engine


def our_case(
    case: dict[str, Any],
    settings: Settings,
    mode: str = "hybrid",
    llm_judge: LLMJudge | None = None,
    scorer: str = "learned",
) -> CaseResult:
    """One case through our pipeline (`ask`); `mode` is hybrid, dense or bm25; `scorer`
    the answerer's sentence scorer (learned or handset)."""
    from ..service import ask

    gold = gold_paragraphs(case)
    started = time.perf_counter()
    answer = ask(
        case["question"],
        history=case.get("history"),
        settings=settings.with_(retrieval=mode, scorer=scorer),
    )
    seconds = time.perf_counter() - started
    ranked = list(answer.retrieved)  # the very list the answerer saw
    rank = next((n for n, p in enumerate(ranked, start=1) if p in gold), None)
    result = CaseResult(
        id=case["id"],
        type=case.get("type", ""),
        correct=judge(case, answer),
        abstained=answer.abstained,
        answerable=bool(case.get("answerable", True)),
        citations=[[(c.source, c.paragraph)] for c in answer.citations],
        gold=gold,
        rank=rank if gold else None,
        seconds=seconds,
        answer=answer.text,
        confidence=answer.confidence,
        question=case["question"],
    )
    if llm_judge is not None:
        contexts = [c.text for c in answer.citations]
        result.judged = llm_judge(case, answer.text, answer.abstained, contexts)
    return result


def evaluate(
    cases: list[dict[str, Any]],
    settings: Settings,
    configs: Sequence[str] = CONFIGS,
    llm: Any | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Every configuration on the same cases; the JSON-ready report."""
    from ..service import warm_up
    from ..store.embedding import get_embedder

    llm_judge = LLMJudge(llm) if llm is not None else None
    extra: dict[str, Any] = {}
    stock = engine = None
    if "stock" in configs:
        if progress:
            progress("building the stock llama-index pipeline on the same files")
        stock = StockPipeline.build(indexed_files(settings), get_embedder(settings.embed_model))
        engine = stock_engine(stock, llm)
        extra["stock_chunks"] = stock.chunks()
    warm_up(settings)  # the model loaded and the index open before anything is timed
    if progress:
        progress(f"{len(cases)} cases, each through {', '.join(LABELS[c] for c in configs)}")
    # Case by case, every configuration in turn: a busy moment on a shared machine then
    # slows all of them alike, which keeps their latencies comparable.
    reports: dict[str, Report] = {c: Report() for c in configs}
    for case in cases:
        for config in configs:
            if config == "stock":
                assert stock is not None
                result = stock_case(case, stock, engine, settings, llm is not None, llm_judge)
            else:
                scorer = SCORERS.get(config, "learned")
                result = our_case(case, settings, MODES[config], llm_judge, scorer)
            reports[config].cases.append(result)
    return {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, Python {platform.python_version()}",
        "embed_model": settings.embed_model,
        "answerer": settings.llm
        if settings.llm == "extractive"
        else f"{settings.llm}:{settings.llm_model}",
        "llm_judge": llm is not None,
        "judge_model": str(getattr(llm, "model", "")) if llm is not None else None,
        "top_k": settings.top_k,
        "configs": {
            name: {
                "label": LABELS[name],
                "metrics": report.metrics(),
                "cases": [case_json(c) for c in report.cases],
            }
            for name, report in reports.items()
        },
        **extra,
    }


def cli_eval(
    questions: Path,
    out_dir: Path,
    settings: Settings,
    as_json: bool = False,
    bbc: bool = False,
    squad: bool = False,
) -> int:
    """`qa eval`: run, print the table, write report.json/.md and chart.png to out_dir.
    Without --bbc (--squad) the BBC (SQuAD) section of an earlier run, out_dir/bbc.json
    (squad.json), is carried over."""
    import sys

    def say(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    if not questions.is_file():
        raise QAError(f"no question file at {questions}")
    cases = load_cases(questions)
    llm = configured_llm(settings)
    result = evaluate(cases, settings, llm=llm, progress=say)
    result["questions"] = str(questions)
    bbc_path = out_dir / "bbc.json"
    if bbc:
        result["bbc"] = run_bbc(settings, progress=say)
        out_dir.mkdir(parents=True, exist_ok=True)
        bbc_path.write_text(json.dumps(result["bbc"], indent=1), encoding="utf-8")
    elif bbc_path.is_file():
        result["bbc"] = json.loads(bbc_path.read_text(encoding="utf-8"))
    if squad:
        result["squad"] = squad_run.run(SQUAD_CACHE, say=say)
        squad_run.write(result["squad"], out_dir)
    elif (earlier := squad_run.load(out_dir)) is not None:
        result["squad"] = earlier
    command = "qa eval" + (" --bbc" if bbc else "") + (" --squad" if squad else "")
    paths = write_report(result, out_dir, command=command)
    header, rows = table_rows(result)
    print(plain_table(header, rows))
    if result.get("bbc"):
        header, rows = bbc_rows(result["bbc"])
        print(f"\nBBC retrieval ({result['bbc']['queries']} headline queries, "
              f"run {result['bbc']['created']})")  # fmt: skip
        print(plain_table(header, rows))
    if result.get("squad"):
        print(f"\nSQuAD held-out part ({sum(result['squad']['cases'].values())} questions, "
              f"run {result['squad']['created']})")  # fmt: skip
        print(squad_table(result["squad"]))
    print("\nreport: " + ", ".join(str(p) for p in paths.values()))
    if as_json:
        print(json.dumps(result, ensure_ascii=False))
    return 0
