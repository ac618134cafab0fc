"""What the short-answer model costs: `ask()` on the SQuAD benchmark's held-out index with
the model deciding the short answer (`qa.answering.shorts`) against the reader's span
probability alone (the rule before it), interleaved question by question (each going
first in turn) in one process, after a warm-up.

    .venv/bin/python bench/short_answer_speed.py [--questions N]

Needs the held-out part written and ingested (`qa eval --squad` does it, into
eval/.cache/squad/test). Writes bench/short_answer_speed.json; prints p50 and the ratio.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from qa import ask
from qa.answering import reader, squad, training

OUT = Path(__file__).with_name("short_answer_speed.json")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--questions", type=int, default=500)
    args = parser.parse_args()
    settings = training.part_settings(squad.TEST)
    if not settings.index_dir.exists():
        raise SystemExit("no held-out index: run `qa eval --squad` first")
    n = args.questions
    cases = squad.build(squad.TEST, settings.seeds_dir)
    share = {squad.ANSWERABLE: 3 * n // 5, squad.NEAR_MISS: n // 5, squad.OUT_OF_CORPUS: n // 5}
    cases = squad.sample(cases, share, seed=3)
    r = reader.reader()
    if r is None or r.short_model is None:
        raise SystemExit("the committed reader has no short-answer model")
    model = r.short_model
    for c in cases[:20]:
        ask(c.question, settings=settings)
    seconds: dict[str, list[float]] = {"model": [], "probability": []}
    for k, c in enumerate(cases):
        for name in ("model", "probability") if k % 2 else ("probability", "model"):
            # The reader caches its model: setting it aside makes the rule before it decide.
            r.__dict__["short_model"] = model if name == "model" else None
            started = time.perf_counter()
            ask(c.question, settings=settings)
            seconds[name].append(time.perf_counter() - started)
    r.__dict__["short_model"] = model
    p50 = {k: statistics.median(v) * 1000 for k, v in seconds.items()}
    out = {
        "questions": len(cases),
        "p50_ms": {k: round(v, 1) for k, v in p50.items()},
        "ratio_p50": round(p50["model"] / p50["probability"], 3),
    }
    OUT.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
