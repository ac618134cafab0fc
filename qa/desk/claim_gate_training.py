"""Fit the claim checker's gate (`qa/answering/models/claim_gate.json`, read by
`qa.desk.claim_gate`) offline and deterministically: `make train-claim-gate`
(python -m qa.desk.claim_gate_training; a few minutes on 2 cores).

1. Claims, each checked as the product checks it, with the rules and the verifier
   reading it (`qa.desk.claims.check_rules`, `read_learned`):
   - VitaminC's *calibrate* pages (`qa.answering.verifier_training`: the verifier was not
     trained on them), PER_CLASS claims of each class, each evidence written as its own
     article of one index and each claim checked against it
     (`check(claim, sources=[that article])`);
   - the *tuned* claims of eval/claims.jsonl over an index of seeds/ (the fresh ones stay
     out: they are the news claims it is scored on).
2. The model: multinomial logistic regression over `claim_gate.FEATURES`, each of the two
   sets weighted to half and within VitaminC each class to a third.
3. The thresholds (one for supported, one for contradicted): chosen out of fold (five
   folds, by page or by seed paragraph), the most verdicts right over both sets with
   costly errors (a wrong "supported" or a wrong "contradicted") no more than the rules
   make on either set and the tuned claims right no less than the rules get them, less
   CLAIMS_SLACK: the default caution, "rules"; where none do better than the rules
   alone, none (the rules' verdict stands). The strict caution's: the most right with
   VitaminC's costly errors at most STRICT_COSTLY and none on the tuned claims.

The report part of VitaminC is not read here: `bench/vitaminc_claims.py` scores it.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import random
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..answering import verifier_training as vt
from ..answering.verifier import LABELS, NEITHER, REFUTES, SUPPORTS
from ..search.scope import Scope, resolve
from ..settings import Settings
from ..store.ingest import ingest
from . import claim_gate, claims
from .claim_gate import CLASSES, FEATURES
from .verdict import ABSENT, CONTRADICTED, SUPPORTED, Reader

ROOT = Path(__file__).resolve().parents[2]
CLAIMS = ROOT / "eval" / "claims.jsonl"
PER_CLASS = 200
CLAIMS_SLACK = 0.01
STRICT_COSTLY = 0.04
FOLDS = 5
WANT = {SUPPORTS: SUPPORTED, REFUTES: CONTRADICTED, NEITHER: ABSENT}


@dataclass
class Row:
    claim: str
    want: str  # one of CLASSES
    x: np.ndarray
    rules: str
    verifier: str
    group: str  # the fold key: the page, or the seed paragraph
    set: str  # "vitaminc" or "claims"


def sample(part: str, per_class: int) -> list[vt.Pair]:
    """PER_CLASS pairs of each class from one part's pages, drawn with a fixed seed."""
    rng = random.Random(0)
    pairs = [p for p in vt.load() if vt.part(p.page) == part]
    out: list[vt.Pair] = []
    for label in LABELS:
        group = [p for p in pairs if p.label == label]
        out += rng.sample(group, min(per_class, len(group)))
    return out


@contextmanager
def evidence_index(pairs: Sequence[vt.Pair]) -> Iterator[tuple[Settings, list[str]]]:
    """An index in a temporary folder with each pair's evidence as an article of its own
    (its page's title, `vt.Pair.title`, as the first line); the settings and the article
    names, in order."""
    with tempfile.TemporaryDirectory() as tmp:
        docs = Path(tmp) / "docs"
        docs.mkdir()
        names = []
        for k, p in enumerate(pairs):
            name = f"{k:04d}.txt"
            (docs / name).write_text(f"{p.title}\n\n{p.evidence}\n", encoding="utf-8")
            names.append(name)
        settings = Settings.from_env().with_(
            index_dir=Path(tmp) / "index", seeds_dir=docs, llm="extractive"
        )
        ingest([docs], settings, quiet=True)
        yield settings, names


def row(r: Reader, want: str, group: str, set_name: str) -> Row:
    rules = claims.check_rules(r)
    got = claims.read_learned(r, rules)
    assert got is not None, "the verifier is committed: qa/answering/models/verifier.*"
    read, _ = got
    return Row(
        r.claim, want, claim_gate.features(rules, read), rules.verdict, read.label, group, set_name
    )


def vitaminc_rows(part: str, per_class: int) -> list[Row]:
    todo = sample(part, per_class)
    out = []
    with evidence_index(todo) as (settings, names):
        for p, name in zip(todo, names, strict=True):
            scope = resolve(Scope.of([name], None, None, None), settings)
            out.append(
                row(claims.reader(p.claim, settings, scope), WANT[p.label], p.page, "vitaminc")
            )
    return out


def claims_rows(which: str = "tuned") -> list[Row]:
    cases = [json.loads(line) for line in CLAIMS.read_text("utf-8").splitlines() if line.strip()]
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings.from_env().with_(
            index_dir=Path(tmp) / "index", seeds_dir=ROOT / "seeds", llm="extractive"
        )
        ingest([ROOT / "seeds"], settings, quiet=True)
        for c in cases:
            if c["set"] != which:
                continue
            group = f"{c['source']}#{c['paragraph']}"
            out.append(row(claims.reader(c["claim"], settings), c["verdict"], group, "claims"))
    return out


# --- fit ---------------------------------------------------------------------------------


def weights(rows: Sequence[Row]) -> np.ndarray:
    """Each set half the weight; within a set each class its share of a third."""
    w = np.zeros(len(rows))
    for s in {r.set for r in rows}:
        for c in CLASSES:
            at = [k for k, r in enumerate(rows) if r.set == s and r.want == c]
            if at:
                w[at] = 1.0 / (2 * len(CLASSES) * len(at))
    out: np.ndarray = w / w.sum() * len(rows)
    return out


def fit(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=1.0, max_iter=5000).fit(x, y, sample_weight=w)


def fold_of(group: str) -> int:
    return int(hashlib.sha256(group.encode()).hexdigest()[:4], 16) % FOLDS


def decided(probs: np.ndarray, thresholds: tuple[float, float]) -> list[str]:
    out = []
    for p in probs:
        k = 0 if p[0] >= p[1] else 1
        out.append(CLASSES[k] if p[k] >= thresholds[k] else ABSENT)
    return out


def rates(got: Sequence[str], rows: Sequence[Row]) -> dict[str, float]:
    """Right per class, right overall (each class a third), costly errors (likewise)."""
    out: dict[str, float] = {}
    right = costly = 0.0
    for c in CLASSES:
        at = [k for k, r in enumerate(rows) if r.want == c]
        if not at:
            continue
        out[c] = sum(got[k] == c for k in at) / len(at)
        right += out[c] / len(CLASSES)
        costly += sum(got[k] not in (c, ABSENT) for k in at) / len(at) / len(CLASSES)
    out["right"], out["costly"] = right, costly
    return {k: round(v, 3) for k, v in out.items()}


def report(got: Sequence[str], rows: Sequence[Row]) -> dict[str, dict[str, float]]:
    return {
        s: rates(
            [g for g, r in zip(got, rows, strict=True) if r.set == s],
            [r for r in rows if r.set == s],
        )
        for s in sorted({r.set for r in rows})
    }


def choose(
    oof: np.ndarray, rows: Sequence[Row]
) -> tuple[tuple[float, float] | None, dict[str, dict[str, float]]]:
    """The thresholds (for supported, for contradicted): the most verdicts right over both
    sets with costly errors no more than the rules make on either, and the tuned claims
    right no less than the rules get them less CLAIMS_SLACK (the news claims are the
    product's own kind; on them the rules are rarely wrong, on VitaminC often)."""
    rules = report([r.rules for r in rows], rows)
    grid = [float(t) for t in np.round(np.arange(0.34, 0.99, 0.02), 2)]
    best: tuple[tuple[float, float], tuple[float, float] | None, dict[str, dict[str, float]]] = (
        (sum(v["right"] for v in rules.values()), -rules["vitaminc"]["costly"]),
        None,
        rules,
    )
    for ts in itertools.product(grid, grid):
        at = report(decided(oof, ts), rows)
        if any(at[s]["costly"] > rules[s]["costly"] for s in at):
            continue
        if at["claims"]["right"] < rules["claims"]["right"] - CLAIMS_SLACK:
            continue
        score = (sum(v["right"] for v in at.values()), -at["vitaminc"]["costly"])
        if score > best[0]:
            best = (score, ts, at)
    return best[1], best[2]


def strict(
    oof: np.ndarray, rows: Sequence[Row]
) -> tuple[tuple[float, float], dict[str, dict[str, float]]]:
    """The thresholds of the strict caution: the most verdicts right over both sets with
    VitaminC's costly errors at most STRICT_COSTLY and none on the tuned claims."""
    grid = [float(t) for t in np.round(np.arange(0.34, 0.99, 0.02), 2)]
    best: tuple[float, tuple[float, float], dict[str, dict[str, float]]] = (-1.0, (1.0, 1.0), {})
    for ts in itertools.product(grid, grid):
        at = report(decided(oof, ts), rows)
        if at["vitaminc"]["costly"] > STRICT_COSTLY or at["claims"]["costly"] > 0:
            continue
        score = sum(v["right"] for v in at.values())
        if score > best[0]:
            best = (score, ts, at)
    return best[1], best[2]


def fit_gate(rows: Sequence[Row]) -> dict[str, Any]:
    x = np.vstack([r.x for r in rows])
    y = np.array([CLASSES.index(r.want) for r in rows])
    w = weights(rows)
    mean, scale = x.mean(0), x.std(0) + 1e-6
    z = (x - mean) / scale
    folds = np.array([fold_of(r.group) for r in rows])
    oof = np.zeros((len(rows), len(CLASSES)))
    for k in range(FOLDS):
        m = fit(z[folds != k], y[folds != k], w[folds != k])
        oof[folds == k] = m.predict_proba(z[folds == k])
    default, at = choose(oof, rows)
    cautious, at_strict = strict(oof, rows)
    full = fit(z, y, w)
    return {
        "model": {
            "coef": full.coef_.round(6).tolist(),
            "intercept": full.intercept_.round(6).tolist(),
            "mean": mean.round(6).tolist(),
            "scale": scale.round(6).tolist(),
            "features": list(FEATURES),
            "classes": list(CLASSES),
        },
        "confident_above": {
            "rules": None if default is None else dict(zip(CLASSES[:2], default, strict=True)),
            "strict": dict(zip(CLASSES[:2], cautious, strict=True)),
        },
        "claims": {s: sum(r.set == s for r in rows) for s in sorted({r.set for r in rows})},
        "out_of_fold": {"rules": at, "strict": at_strict},
        "rules_alone": report([r.rules for r in rows], rows),
        "verifier_alone": report([r.verifier for r in rows], rows),
    }


SLICE_PER_CLASS = 3
SLICE_ATOL = 0.02  # a slice feature read again agrees with its recording within this


def slice_check(gate: dict[str, Any]) -> dict[str, Any]:
    """A few claims of the calibrate pages read again, with their features and the gate's
    probabilities, recorded for the test that reruns them."""
    rows = vitaminc_rows("calibrate", SLICE_PER_CLASS)
    x = np.vstack([r.x for r in rows])
    return {
        "per_class": SLICE_PER_CLASS,
        "claims": [r.claim for r in rows],
        "features": x.round(5).tolist(),
        "probs": claim_gate.Gate.of(gate).probs(x).round(5).tolist(),
    }


def recorded_slices(meta: dict[str, Any]) -> list[dict[str, Any]]:
    """The slice's features and probabilities as each kind of machine seen reads them:
    the int8 graphs' arithmetic differs a little from one CPU to another, and the slice
    claims pass through retrieval, the reader and the verifier (`--record-slice` adds
    this machine's)."""
    check = meta["slice_check"]
    return [check, *check.get("machines", [])]


def record_slice(path: Path, say: Callable[[str], None]) -> int:
    """Add this machine's reading of the slice beside the recorded ones, unless one of
    them already agrees (the gate itself is not refitted)."""
    meta: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    now = slice_check(meta)
    x = np.array(now["features"])
    if any(np.allclose(x, np.array(r["features"]), atol=SLICE_ATOL) for r in recorded_slices(meta)):
        say("this machine reads the slice as recorded: nothing to add")
        return 0
    machines = meta["slice_check"].setdefault("machines", [])
    machines.append({"features": now["features"], "probs": now["probs"]})
    path.write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    say(f"this machine's reading of the slice added ({len(machines) + 1} kinds of machine)")
    return 0


def committed() -> dict[str, Any]:
    meta: dict[str, Any] = json.loads(claim_gate.GATE_PATH.read_text(encoding="utf-8"))
    return meta


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m qa.desk.claim_gate_training", description=__doc__
    )
    parser.add_argument("--per-class", type=int, default=PER_CLASS)
    parser.add_argument("--out", type=Path, default=claim_gate.GATE_PATH)
    parser.add_argument("--rows", type=Path, help="keep the claims read here, or read them from it")
    parser.add_argument(
        "--record-slice",
        action="store_true",
        help="only add this machine's reading of the slice check to the gate at --out, "
        "which is not refitted (for a machine whose int8 arithmetic differs)",
    )
    args = parser.parse_args(argv)
    say: Callable[[str], None] = lambda msg: print(msg, file=sys.stderr, flush=True)  # noqa: E731
    if args.record_slice:
        return record_slice(args.out, say)
    t0 = time.perf_counter()
    if args.rows and args.rows.is_file():
        rows = [Row(**{**d, "x": np.array(d["x"])}) for d in json.loads(args.rows.read_text())]
    else:
        rows = vitaminc_rows("calibrate", args.per_class) + claims_rows("tuned")
        if args.rows:
            kept = [{**r.__dict__, "x": r.x.tolist()} for r in rows]
            args.rows.write_text(json.dumps(kept), encoding="utf-8")
    say(f"{len(rows)} claims read in {time.perf_counter() - t0:.0f} s")
    meta = fit_gate(rows)
    meta["slice_check"] = slice_check(meta)
    args.out.write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    say(json.dumps({k: v for k, v in meta.items() if k not in ("model", "slice_check")}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
