"""Prompt tokens a model answer costs: for every question of eval/questions.jsonl, the
prompt `qa` would send (system rules, numbered passages within the context budget, the
question), counted with the cl100k tokenizer that llama-index ships. No server needed.

    QA_INDEX_DIR=index .venv/bin/python bench/prompt_tokens.py [--top-k 8] [--budget 3000]
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

from qa.answering.llm import build_prompt
from qa.service import _context
from qa.settings import Settings

QUESTIONS = Path(__file__).resolve().parents[1] / "eval" / "questions.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--top-k", type=int, default=None)
    parser.add_argument("--budget", type=int, default=None)
    args = parser.parse_args()
    settings = Settings.from_env()
    if args.top_k:
        settings = settings.with_(top_k=args.top_k)
    if args.budget:
        settings = settings.with_(max_context_tokens=args.budget)
    cases = [json.loads(line) for line in QUESTIONS.read_text().splitlines() if line.strip()]
    tokens, passages = [], []
    for case in cases:
        ctx = _context(case["question"], case.get("history"), settings, llm=None)
        prompt = build_prompt(ctx.standalone, ctx.hits, settings.max_context_tokens)
        tokens.append(prompt.tokens)
        passages.append(len(prompt.hits))
    report = {
        "questions": len(cases),
        "top_k": settings.top_k,
        "max_context_tokens": settings.max_context_tokens,
        "prompt_tokens_p50": statistics.median(tokens),
        "prompt_tokens_max": max(tokens),
        "prompt_tokens_mean": round(statistics.mean(tokens), 1),
        "passages_p50": statistics.median(passages),
    }
    print(json.dumps(report))


if __name__ == "__main__":
    main()
