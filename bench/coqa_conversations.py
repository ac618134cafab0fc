"""Conversations on CoQA's stories (../shared/data/coqa/, not news): every held-out story
in one index, each conversation asked turn by turn with `ask(..., history=...)`, the
history being the earlier questions and this answerer's own answers (what the chat page
keeps). Also: each conversation scoped to its story, and the follow-ups asked with no
history at all. The bare follow-ups ("Why?", "Where?") are also counted apart (they are
among the follow-ups).

    .venv/bin/python bench/coqa_conversations.py [--stories N]   # writes coqa_conversations.json

Split by story: a story is held out when the first hex digit of sha256(its id) is odd;
nothing here is fitted, and the rules of qa.answering.followup were not written from
these stories. Right: the gold answer (CoQA's free-form answer, lower case, without
punctuation and articles) is inside the answer text, normalised the same way. Questions
answered "yes", "no" or "unknown" are left out (an extractive answer quotes, it does not
say yes).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from qa.answering.followup import Message, is_bare
from qa.answering.referents import coqa_answer_in, coqa_path, coqa_scored, held_out, write_stories
from qa.service import ask, warm_up
from qa.settings import Settings
from qa.store.ingest import ingest

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache" / "coqa"
BARE = "bare follow-up"  # counted apart, and among the follow-ups too


def run(stories: list[dict[str, object]], settings: Settings) -> dict[str, object]:
    tallies: dict[str, dict[str, list[int]]] = {}

    def count(mode: str, kind: str, ok: bool, refused: bool) -> None:
        t = tallies.setdefault(mode, {}).setdefault(kind, [0, 0, 0])
        t[0] += ok
        t[1] += 1
        t[2] += refused

    seconds: list[float] = []
    for story in stories:
        name = f"{story['id']}.txt"
        questions = [q["input_text"] for q in story["questions"]]  # type: ignore[index,attr-defined]
        answers = [a["input_text"] for a in story["answers"]]  # type: ignore[index,attr-defined]
        for mode in ("across", "scoped", "no history"):
            history: list[Message] = []
            for turn, (question, gold) in enumerate(zip(questions, answers, strict=True)):
                started = time.perf_counter()
                got = ask(
                    question,
                    history=None if mode == "no history" else history,
                    settings=settings,
                    sources=[name] if mode == "scoped" else None,
                )
                seconds.append(time.perf_counter() - started)
                history += [{"role": "user", "content": question},
                            {"role": "assistant", "content": got.text}]  # fmt: skip
                if coqa_scored(gold):
                    kind = "first" if turn == 0 else "follow-up"
                    ok = coqa_answer_in(gold, got.text)
                    count(mode, kind, ok, got.abstained)
                    if turn and is_bare(question):  # "Why?", "Where?"
                        count(mode, BARE, ok, got.abstained)

    def rates(v: list[int]) -> dict[str, float]:
        return {"right": round(v[0] / v[1], 4), "refused": round(v[2] / v[1], 4), "n": v[1]}

    out: dict[str, object] = {}
    for mode, kinds in tallies.items():
        total = [sum(v[i] for k, v in kinds.items() if k != BARE) for i in range(3)]
        out[mode] = {**{k: rates(v) for k, v in kinds.items()}, "all": rates(total)}
    out["ask_p50_ms"] = round(sorted(seconds)[len(seconds) // 2] * 1000, 1)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stories", type=int, default=40)
    parser.add_argument("--out", type=Path, default=HERE / "coqa_conversations.json")
    args = parser.parse_args()
    data = json.loads(coqa_path().read_text(encoding="utf-8"))["data"]
    stories = [s for s in data if held_out(s["id"])][: args.stories]
    folder = CACHE / "stories"
    write_stories(stories, folder)
    settings = Settings(index_dir=CACHE / "index", seeds_dir=folder)
    ingest([folder], settings, quiet=True)
    warm_up(settings)
    result = {"stories": len(stories), **run(stories, settings)}
    args.out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=1), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
