"""How `qa.grounding` flags a model's sentence against the passage it cites, with the claim
verifier and with the hand-set cut-offs alone (as before it), side by side.

Each claim is written as a model's answer sentence citing one passage ("<claim> [1]."):
- VitaminC pairs from the report pages (never fitted on), N per class, each evidence an
  article of one index, cited as its paragraph: a supported claim should not be
  flagged, a refuted one should be (best: "contradicted by [1]"), one with not enough
  information should be flagged "not found";
- eval/claims.jsonl over an index of seeds/, each claim citing the paragraph it names
  (an absent claim cites its best retrieved paragraph).

    python bench/grounding_flags.py --per-class 100

Writes bench/grounding_flags.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from llama_index.core.schema import NodeWithScore

from qa.answering import grounding
from qa.desk import claims
from qa.desk.claim_gate_training import CLAIMS, WANT, evidence_index, sample
from qa.desk.verdict import ABSENT, CONTRADICTED, SUPPORTED, Reader
from qa.search.scope import Scope, resolve
from qa.settings import Settings
from qa.store.ingest import ingest

ROOT = Path(__file__).resolve().parents[1]


def flagged(r: Reader, hit: NodeWithScore, verify: bool) -> tuple[str, float]:
    """The flag's kind for "<claim> [1]." citing `hit` ("" when not flagged), and seconds."""
    t0 = time.perf_counter()
    flags = grounding.check(
        f"{r.claim.rstrip('.')} [1].", {1: hit}, r.embedder, r.idf, verify=verify
    )
    return (flags[0].kind if flags else ""), time.perf_counter() - t0


def rates(rows: list[dict[str, object]], key: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for want in (SUPPORTED, CONTRADICTED, ABSENT):
        got = [r[key] for r in rows if r["want"] == want]
        if not got:
            continue
        out[f"{want}: flagged"] = sum(bool(g) for g in got) / len(got)
        if want == CONTRADICTED:
            out[f"{want}: flagged contradicted"] = sum(g == "contradicted" for g in got) / len(got)
    wrong = [r for r in rows if r["want"] == SUPPORTED and r[key] == "contradicted"]
    out["supported: flagged contradicted"] = len(wrong) / max(
        sum(r["want"] == SUPPORTED for r in rows), 1
    )
    return {k: round(v, 3) for k, v in out.items()}


def run_rows(
    r: Reader, hit: NodeWithScore, want: str, took: dict[str, list[float]]
) -> dict[str, object]:
    row: dict[str, object] = {"claim": r.claim, "want": want}
    for key, verify in (("verifier", True), ("cut-offs", False)):
        row[key], s = flagged(r, hit, verify)
        took[key].append(s)
    return row


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--per-class", type=int, default=100)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "grounding_flags.json")
    args = ap.parse_args()
    took: dict[str, list[float]] = {"verifier": [], "cut-offs": []}
    vitaminc: list[dict[str, object]] = []
    todo = sample("report", args.per_class)
    with evidence_index(todo) as (settings, names):
        for p, name in zip(todo, names, strict=True):
            scope = resolve(Scope.of([name], None, None, None), settings)
            r = claims.reader(p.claim, settings, scope)
            if r.hits:
                vitaminc.append(run_rows(r, r.hits[0], WANT[p.label], took))
    news: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings.from_env().with_(
            index_dir=Path(tmp) / "index", seeds_dir=ROOT / "seeds", llm="extractive"
        )
        ingest([ROOT / "seeds"], settings, quiet=True)
        for line in CLAIMS.read_text("utf-8").splitlines():
            c = json.loads(line)
            r = claims.reader(c["claim"], settings)
            at = [
                h
                for h in r.hits
                if h.node.metadata.get("source") == c["source"]
                and int(h.node.metadata.get("paragraph", -1)) == c["paragraph"]
            ]
            hit = at[0] if at else (r.hits[0] if not c["source"] and r.hits else None)
            if hit is not None:
                news.append({**run_rows(r, hit, c["verdict"], took), "set": c["set"]})
    result: dict[str, object] = {
        "vitaminc_report": {"claims": len(vitaminc), **{k: rates(vitaminc, k) for k in took}},
        "claims_jsonl": {"claims": len(news), **{k: rates(news, k) for k in took}},
        "ms_per_sentence": {k: round(1000 * sum(v) / len(v), 1) for k, v in took.items()},
    }
    print(json.dumps(result, indent=1))
    args.out.write_text(json.dumps({**result, "vitaminc": vitaminc, "news": news}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
