"""What a claim check costs at about 10k paragraphs: `check()` as it runs (the rules, the
claim verifier and the gate) against the rules alone, interleaved claim by claim (each
going first in turn, neither finding sentence vectors the other computed) on the index of
every distinct BBC article that bench/answerer_speed.py builds, after one warm-up claim
each. The claims are the lead sentences of articles spread over the corpus, checked
against the whole index: this measures time, not verdicts.

    .venv/bin/python bench/claims_speed.py [--claims N]

Writes bench/claims_speed.json; prints p50/p95 per way and the ratio. Run the same script
from an earlier checkout (`--out`) against the same cache for today's against before.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

from answerer_speed import CACHE, percentile
from bbc_corpus import distinct_index

from qa.answering.answer import forget_sentence_vectors
from qa.desk import claims
from qa.service import warm_up

HERE = Path(__file__).resolve().parent


def lead_sentences(articles: list[tuple[str, bytes]], n: int) -> list[str]:
    """The first sentence of the first body paragraph of n articles spread over the corpus."""
    step = max(1, len(articles) // n)
    out = []
    for _, data in articles[step // 2 :: step]:
        blocks = [b.strip() for b in data.decode("utf-8").split("\n\n") if b.strip()]
        if len(blocks) > 1:
            first = re.split(r"(?<=[.!?])\s+", blocks[1])[0]
            if 40 <= len(first) <= 400:
                out.append(" ".join(first.split()))
    return out[:n]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--claims", type=int, default=60)
    parser.add_argument("--out", type=Path, default=HERE / "claims_speed.json")
    args = parser.parse_args()

    t = time.perf_counter()
    articles, settings, report = distinct_index(CACHE)
    print(
        f"index: {report.paragraphs} paragraphs ({time.perf_counter() - t:.0f} s)", file=sys.stderr
    )
    todo = lead_sentences(articles, args.claims + 1)
    warm_up(settings)

    def checked(claim: str) -> str:
        return claims.check_offline(claims.reader(claim, settings)).verdict

    def rules(claim: str) -> str:
        return claims.check_rules(claims.reader(claim, settings)).verdict

    ways = {"check": checked, "rules": rules}
    for way in ways.values():
        way(todo[0])
    ms: dict[str, list[float]] = {w: [] for w in ways}
    for n, claim in enumerate(todo[1:]):
        order = list(ways)[n % 2 :] + list(ways)[: n % 2]
        for name in order:
            forget_sentence_vectors()
            started = time.perf_counter()
            ways[name](claim)
            ms[name].append((time.perf_counter() - started) * 1000)
    result: dict[str, object] = {"paragraphs": report.paragraphs, "claims": len(todo) - 1}
    for name, values in ms.items():
        result[name] = {
            "p50_ms": round(percentile(values, 0.5)),
            "p95_ms": round(percentile(values, 0.95)),
        }
    result["check_over_rules_p50"] = round(
        percentile(ms["check"], 0.5) / percentile(ms["rules"], 0.5), 2
    )
    print(json.dumps(result, indent=1))
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
