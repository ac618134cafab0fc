"""The claim checker on claims nobody here wrote: VitaminC pairs from the pages of
`qa.answering.verifier_training`'s report part (never fitted on), N of each class, each
evidence written as an article of one index and each claim checked against its own
(`check(claim, sources=[that article])`), as the product's external check does.

    python bench/vitaminc_claims.py --per-class 100            # report part
    python bench/vitaminc_claims.py --part calibrate           # the part the threshold saw

Prints verdicts right per class and costly errors (a wrong "supported" or a wrong
"contradicted") for the checker as it runs by default (the rules' verdict with the gate's
confidence), with QA_CLAIM_CAUTION=strict (the gate's thresholds), the rules alone and the
verifier alone; writes bench/vitaminc_claims.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from qa.desk import claims
from qa.desk.claim_gate_training import WANT, evidence_index, sample
from qa.desk.verdict import ABSENT, CONTRADICTED, SUPPORTED
from qa.search.scope import Scope, resolve

ROOT = Path(__file__).resolve().parents[1]


def score(rows: list[dict[str, object]], key: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for want in (SUPPORTED, CONTRADICTED, ABSENT):
        got = [r[key] for r in rows if r["want"] == want]
        out[want] = sum(g == want for g in got) / max(len(got), 1)
    out["right"] = sum(r[key] == r["want"] for r in rows) / len(rows)
    out["costly"] = sum(r[key] != r["want"] and r[key] != ABSENT for r in rows) / len(rows)
    return {k: round(v, 3) for k, v in out.items()}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--part", default="report", choices=["report", "calibrate"])
    ap.add_argument("--per-class", type=int, default=100)
    ap.add_argument(
        "--out", type=Path, help="where the rows go (report: bench/vitaminc_claims.json)"
    )
    args = ap.parse_args()
    todo = sample(args.part, args.per_class)
    with evidence_index(todo) as (settings, names):
        strict = settings.with_(claim_caution="strict")
        rows: list[dict[str, object]] = []
        took: list[float] = []
        for p, name in zip(todo, names, strict=True):
            t0 = time.perf_counter()
            resolved = resolve(Scope.of([name], None, None, None), settings)
            r = claims.reader(p.claim, settings, resolved)
            both = claims.check_offline(r)
            took.append(time.perf_counter() - t0)  # a claim checked, retrieval included
            rules = claims.check_rules(r)
            learned, confidence, _ = claims.check_learned(r)
            r.settings = strict
            cautious = claims.check_offline(r)
            rows.append(
                {
                    "claim": p.claim,
                    "want": WANT[p.label],
                    "checker": both.verdict,
                    "strict": cautious.verdict,
                    "rules": rules.verdict,
                    "verifier": learned,
                    "confidence": round(both.confidence, 3),
                    "verifier_confidence": round(confidence, 3),
                }
            )
    result = {
        "part": args.part,
        "claims": len(rows),
        "checker": score(rows, "checker"),
        "strict": score(rows, "strict"),
        "rules": score(rows, "rules"),
        "verifier": score(rows, "verifier"),
        "seconds_per_claim_checked": round(sum(took) / len(took), 3),
    }
    print(json.dumps(result, indent=1))
    out = args.out or (ROOT / "bench" / "vitaminc_claims.json" if args.part == "report" else None)
    if out is not None:
        out.write_text(json.dumps({**result, "rows": rows}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
