"""Fit the support scorer (`qa/answering/models/support.npz`) on the SQuAD benchmark's fit part,
offline and deterministically: `make train-answerer` (python -m qa.answering.training).

The fit part's articles are written as files and ingested with qa's own ingest; each
question is retrieved for with qa's own hybrid retriever, and every sentence of the
paragraphs the answerer looks at becomes a training row: positive when it is in the
gold paragraph and holds a gold answer, negative otherwise (a sentence elsewhere that
happens to hold the answer string is left out, neither). Near misses and out-of-corpus
questions give only negatives: those are the on-topic sentences the answerer must not
quote. The abstention threshold is chosen on out-of-fold scores (two folds by article),
then the model is refitted on all rows.
"""

from __future__ import annotations

import argparse
import hashlib
import inspect
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..reading import articles, text
from ..reading.text import split_sentences
from ..search import retrieve
from ..search.retrieve import hybrid_retriever
from ..settings import Settings
from ..store import embedding, index
from ..store import ingest as ingest_module
from ..store.ingest import ingest
from . import answer, qtype, squad, support
from .answer import idf_for
from .spans import SPAN_FEATURES, span_matches, span_rows
from .support import FEATURES, MODEL_PATH, Candidate, Forest, candidates, matrix

CACHE = squad.CACHE
# How many fit-part cases of each kind train the model (a fixed, seeded sample).
FIT_SAMPLE = {squad.ANSWERABLE: 5000, squad.NEAR_MISS: 2000, squad.OUT_OF_CORPUS: 1500}
PARAMS = dict(
    max_iter=400,
    learning_rate=0.06,
    max_leaf_nodes=40,
    min_samples_leaf=40,
    l2_regularization=1.0,
    random_state=0,
)


def part_settings(part: str, cache: Path = CACHE, articles: int | None = None) -> Settings:
    folder = cache / (part if articles is None else f"{part}-slice{articles}")
    return Settings(index_dir=folder / "index", seeds_dir=folder / "articles")


def prepare(
    part: str, cache: Path = CACHE, articles: int | None = None
) -> tuple[Settings, list[squad.Case]]:
    """Write and ingest the part (from scratch); its cases.
    `articles`: only the first N ingested articles (and their near misses), for a quick
    slice; out-of-corpus cases stay."""
    settings = part_settings(part, cache, articles)
    cases = squad.build(part, settings.seeds_dir)
    if articles is not None:
        files = sorted(settings.seeds_dir.iterdir())
        keep = {p.name for p in files[:articles]}
        for p in files[articles:]:
            p.unlink()
        cases = [c for c in cases if c.kind == squad.OUT_OF_CORPUS or c.source in keep]
    # Built afresh each time: an index made by an earlier version and upgraded in place
    # retrieves a little differently, and the rows must not depend on what was cached.
    ingest([settings.seeds_dir], settings, quiet=True, rebuild=True)
    return settings, cases


def label(case: squad.Case, c: Candidate) -> float | None:
    """1: the sentence states the answer; 0: it does not; None: unclear, left out."""
    if case.kind != squad.ANSWERABLE:
        return 0.0
    holds = squad.answer_holds(c.sentence, case.answers)
    meta = c.hit.node.metadata
    in_gold = meta.get("source") == case.source and int(meta.get("paragraph", 0)) == case.paragraph
    if in_gold:
        return 1.0 if holds else 0.0
    return None if holds else 0.0


@dataclass
class Rows:
    x: np.ndarray
    y: np.ndarray
    case: np.ndarray  # row -> case index
    cases: list[squad.Case]


def collect(
    settings: Settings,
    cases: Sequence[squad.Case],
    say: object = None,
    kept: Callable[[Candidate], None] | None = None,
) -> Rows:
    """Features and labels for every candidate sentence of every case; `kept(c)` is
    called for each row's candidate, in order."""
    retriever = hybrid_retriever(settings, mode=settings.retrieval)
    idf = idf_for(retriever)
    vectors = retriever.embedder.embed_queries([c.question for c in cases])
    xs: list[np.ndarray] = []
    ys: list[float] = []
    owner: list[int] = []
    started = time.perf_counter()
    for i, (case, q_vec) in enumerate(zip(cases, vectors, strict=True)):
        hits = retriever.retrieve_vec(case.question, q_vec)
        rows = candidates(case.question, q_vec, hits, retriever.embedder, idf)
        keep = [(c, lab) for c in rows if (lab := label(case, c)) is not None]
        if keep:
            xs.append(matrix([c for c, _ in keep]))
            ys.extend(lab for _, lab in keep)
            owner.extend([i] * len(keep))
            for c, _ in keep:
                if kept is not None:
                    kept(c)
        if callable(say) and (i + 1) % 500 == 0:
            say(f"  {i + 1}/{len(cases)} questions, {time.perf_counter() - started:.0f} s")
    x = np.vstack(xs) if xs else np.zeros((0, len(FEATURES)))
    return Rows(x, np.array(ys), np.array(owner), list(cases))


# Word-overlap features that paraphrase shrinks. SQuAD's crowd workers wrote each
# question looking at its paragraph, so its questions share far more words with the
# answering sentence than a reader's question about the news does; fitted as they are,
# the model learns to trust overlap and refuses paraphrased questions. So for half the
# questions (chosen by a fixed seed) these features are scaled by one factor drawn in
# [0.3, 1] per question, as if the question had been asked in other words: the model
# learns to lean on meaning (the embedder's similarity) and on which sentence leads.
PARAPHRASED = (
    "cover", "cover_gap", "cover_ctx", "cover_prev", "cover_para", "cover_rare",
    "cover_title", "bigram", "bigram_gap",
)  # fmt: skip
PARAPHRASE_SHARE = 0.5


def paraphrase(x: np.ndarray, case: np.ndarray, seed: int = 0) -> np.ndarray:
    """The rows with the word-overlap features of a seeded half of the questions shrunk."""
    rng = np.random.default_rng(seed)
    n = int(case.max()) + 1 if len(case) else 0
    chosen = rng.random(n) < PARAPHRASE_SHARE
    factor = np.where(chosen, rng.uniform(0.3, 1.0, n), 1.0)[case]
    out = x.copy()
    for name in PARAPHRASED:
        out[:, FEATURES.index(name)] *= factor
    return out


def fit(x: np.ndarray, y: np.ndarray):  # type: ignore[no-untyped-def]
    from sklearn.ensemble import HistGradientBoostingClassifier

    model = HistGradientBoostingClassifier(**PARAMS)  # type: ignore[arg-type]
    model.fit(x, y)
    return model


def export(model, meta: dict[str, object]) -> dict[str, np.ndarray]:  # type: ignore[no-untyped-def]
    """The fitted trees as padded arrays for `qa.answering.support.Forest`."""
    predictors = [p[0] for p in model._predictors]
    width = max(len(p.nodes) for p in predictors)
    n = len(predictors)
    arrays = {
        "feature": np.zeros((n, width), np.int64),
        "threshold": np.zeros((n, width), np.float64),
        "left": np.zeros((n, width), np.int64),
        "right": np.zeros((n, width), np.int64),
        "leaf": np.ones((n, width), bool),
        "value": np.zeros((n, width), np.float64),
        "missing_left": np.zeros((n, width), bool),
    }
    for t, p in enumerate(predictors):
        nodes = p.nodes
        k = len(nodes)
        arrays["feature"][t, :k] = nodes["feature_idx"]
        arrays["threshold"][t, :k] = nodes["num_threshold"]
        arrays["left"][t, :k] = nodes["left"]
        arrays["right"][t, :k] = nodes["right"]
        arrays["leaf"][t, :k] = nodes["is_leaf"].astype(bool)
        arrays["value"][t, :k] = nodes["value"]
        arrays["missing_left"][t, :k] = nodes["missing_go_to_left"].astype(bool)
    arrays["baseline"] = np.array(float(np.ravel(model._baseline_prediction)[0]))
    arrays["meta"] = np.array(json.dumps(meta))
    return arrays


def best_rows(rows: Rows, scores: np.ndarray) -> list[int]:
    """For each case, the row of its best-scored sentence (-1: it has none)."""
    out = []
    for i in range(len(rows.cases)):
        idx = np.flatnonzero(rows.case == i)
        out.append(int(idx[np.argmax(scores[idx])]) if len(idx) else -1)
    return out


def best_per_case(rows: Rows, scores: np.ndarray) -> list[tuple[float, bool]]:
    """For each case: its best sentence's score, and whether that sentence answers."""
    return [
        (float(scores[j]), bool(rows.y[j] == 1)) if j >= 0 else (0.0, False)
        for j in best_rows(rows, scores)
    ]


def outcomes(rows: Rows, best: list[tuple[float, bool]], threshold: float) -> dict[str, float]:
    """Accuracy on answerable cases and abstention on the others, at a threshold."""
    kinds = [c.kind for c in rows.cases]
    return squad.rates(((k, s, r) for k, (s, r) in zip(kinds, best, strict=True)), threshold)


# The answerer abstains as much as it can while refusing at most this share of answerable
# questions (out-of-fold, fit part). Today's hand-set answerer refuses 16% on a news set;
# the scorer's scores run lower on news questions, which share fewer words with their
# sentence than SQuAD's, so the cap is set under that.
FALSE_ABSTENTION_CAP = 0.10


def choose_threshold(rows: Rows, oof: np.ndarray) -> tuple[float, dict[str, float]]:
    """The highest threshold at which out-of-fold false abstentions on answerable
    questions stay within FALSE_ABSTENTION_CAP: every near miss it can refuse, without
    refusing more answerable questions than that."""
    best = best_per_case(rows, oof)
    answerable = [
        s for c, (s, _) in zip(rows.cases, best, strict=True) if c.kind == squad.ANSWERABLE
    ]
    threshold = 0.0
    for t in np.round(np.arange(0.01, 0.96, 0.01), 2):
        if np.mean([s < t for s in answerable]) > FALSE_ABSTENTION_CAP:
            break
        threshold = float(t)
    return threshold, outcomes(rows, best, threshold)


def folds(rows: Rows) -> np.ndarray:
    """Fold (0 or 1) of every row, by article, so no article is in both."""
    keys = [c.source for c in rows.cases]
    fold = np.array([squad._h(k) % 2 for k in keys])[rows.case]
    if any(rows.y[fold == k].sum() == 0 for k in (0, 1)):  # a slice of few articles
        fold = rows.case % 2
    out: np.ndarray = fold
    return out


def train(rows: Rows, extra: dict[str, object]) -> dict[str, np.ndarray]:
    fold = folds(rows)
    oof = np.zeros(len(rows.y))
    x = paraphrase(rows.x, rows.case)
    for k in (0, 1):
        model = fit(x[fold != k], rows.y[fold != k])
        oof[fold == k] = model.predict_proba(rows.x[fold == k])[:, 1]  # scored as asked
    threshold, at = choose_threshold(rows, oof)
    model = fit(x, rows.y)
    meta = {
        "features": FEATURES,
        "abstain_below": threshold,
        "out_of_fold": at,
        "rows": int(len(rows.y)),
        "positives": int(rows.y.sum()),
        "cases": {k: len(v) for k, v in squad.iter_kinds(rows.cases)},
        "params": PARAMS,
        "paraphrase_share": PARAPHRASE_SHARE,
        **extra,
    }
    return export(model, meta)


def span_data(cases: Sequence[squad.Case]) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """Span rows from the gold sentences (those holding an answer) of answerable cases."""
    xs: list[np.ndarray] = []
    ys: list[float] = []
    owner: list[int] = []
    for i, case in enumerate(cases):
        if case.kind != squad.ANSWERABLE:
            continue
        for sentence in split_sentences(case.text):
            if not squad.answer_holds(sentence, case.answers):
                continue
            spans, x = span_rows(case.question, sentence)
            if not spans:
                continue
            xs.append(x)
            ys.extend(float(span_matches(s.text, case.answers)) for s in spans)
            owner.extend([i] * len(spans))
            break
    x = np.vstack(xs) if xs else np.zeros((0, len(SPAN_FEATURES)))
    return x, np.array(ys), owner


SPAN_PRECISION = 0.75  # a short answer is shown only where picks are right this often


def train_spans(cases: Sequence[squad.Case]) -> dict[str, object]:
    """Logistic weights for the span picker and the lowest threshold at which its picks
    (on out-of-fold scores) are right SPAN_PRECISION of the time."""
    from sklearn.linear_model import LogisticRegression

    x, y, owner = span_data(cases)
    fold = np.array([squad._h(cases[i].source) % 2 for i in owner])
    oof = np.zeros(len(y))
    for k in (0, 1):
        m = LogisticRegression(C=1.0, max_iter=2000).fit(x[fold != k], y[fold != k])
        oof[fold == k] = m.predict_proba(x[fold == k])[:, 1]
    picks: dict[int, tuple[float, float]] = {}
    for j, i in enumerate(owner):
        if i not in picks or oof[j] > picks[i][0]:
            picks[i] = (float(oof[j]), float(y[j]))
    best = sorted(picks.values(), reverse=True)
    threshold, shown = 1.0, 0
    for t in np.round(np.arange(0.05, 0.95, 0.01), 2):
        chosen = [right for p, right in best if p >= t]
        if chosen and np.mean(chosen) >= SPAN_PRECISION:
            threshold, shown = float(t), len(chosen)
            break
    model = LogisticRegression(C=1.0, max_iter=2000).fit(x, y)
    right = [r for p, r in best if p >= threshold]
    return {
        "span_features": list(SPAN_FEATURES),
        "span_weights": [float(w) for w in model.coef_[0]],
        "span_bias": float(model.intercept_[0]),
        "span_threshold": threshold,
        "span_out_of_fold": {
            "questions": len(best),
            "shown": shown,
            "precision": float(np.mean(right)) if right else 0.0,
            "top_right": float(np.mean([r for _, r in best])) if best else 0.0,
        },
    }


# The modules whose code makes the rows: a change to any of them makes new rows.
_ROW_MAKERS = (answer, text, qtype, articles, ingest_module, embedding, index, retrieve)


def rows_key(cases: Sequence[squad.Case], settings: Settings) -> str:
    """What the rows depend on: the code that makes them, the cases and the index."""
    code = [inspect.getsource(m) for m in _ROW_MAKERS]
    code += [inspect.getsource(support.candidates), *FEATURES]
    return hashlib.sha256(
        json.dumps([code, [c.id for c in cases], str(settings.index_dir)]).encode()
    ).hexdigest()[:16]


def rows_cached(settings: Settings, cases: Sequence[squad.Case], cache: Path, say: object) -> Rows:
    """`collect`, kept on disk keyed by the code that makes the rows (reading, embedding,
    retrieving, the features), the cases and the index."""
    path = cache / f"rows-{rows_key(cases, settings)}.npz"
    if path.exists():
        with np.load(path) as d:
            return Rows(d["x"], d["y"], d["case"], list(cases))
    rows = collect(settings, cases, say)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, x=rows.x, y=rows.y, case=rows.case)
    return rows


SLICE_ARTICLES = 2
SLICE_SAMPLE = {squad.ANSWERABLE: 60, squad.NEAR_MISS: 20, squad.OUT_OF_CORPUS: 20}


def decisions(model: Forest, rows: Rows) -> list[int]:
    """Per case, the row of the sentence the model would quote, or -1 to abstain."""
    scores = model.predict(rows.x)
    return [
        j if j >= 0 and scores[j] >= model.threshold_answer else -1 for j in best_rows(rows, scores)
    ]


def slice_run(cache: Path) -> tuple[Rows, Forest]:
    """The whole script on a small slice (the first SLICE_ARTICLES fit articles): its
    rows and the model fitted on them. Recorded in the full model's metadata so a test
    can rerun it and compare."""
    settings, cases = prepare(squad.FIT, cache, SLICE_ARTICLES)
    rows = collect(settings, squad.sample(cases, SLICE_SAMPLE, seed=3))
    arrays = train(rows, {})
    meta = json.loads(str(arrays.pop("meta")))
    return rows, Forest(arrays, meta)


def recorded_slices(meta: dict[str, object]) -> list[list[int]]:
    """The slice decisions recorded with a model: the fitting machine's, then any other
    kind of machine's that `record_slice` added."""
    check = meta.get("slice_check", {})
    assert isinstance(check, dict)
    return [check.get("decisions", []), *check.get("machines", [])]


def record_slice(path: Path, cache: Path, say: Callable[[str], None]) -> int:
    """Record what the slice's model decides on this machine, in the model at `path`,
    leaving its trees and span picker as they are. The slice's features depend a little
    on the machine (a paragraph more or less among a question's candidates), so a model
    fitted elsewhere carries decisions this machine does not reproduce: this machine's
    are added beside the others (kept), unless one of them already agrees."""
    with np.load(path, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    meta = json.loads(str(arrays["meta"]))
    slice_rows, slice_model = slice_run(cache)
    now = decisions(slice_model, slice_rows)
    known = [r for r in recorded_slices(meta) if r]
    same = max((np.mean([a == b for a, b in zip(r, now, strict=False)]) for r in known), default=0)
    check = meta.setdefault("slice_check", {"articles": SLICE_ARTICLES, "decisions": now})
    if same < 0.95 and known:
        check.setdefault("machines", []).append(now)
    arrays["meta"] = np.array(json.dumps(meta))
    np.savez_compressed(path, **arrays)  # type: ignore[arg-type]
    Forest.load(path)  # it loads
    say(f"slice check in {path}: {same:.2f} of this machine's decisions were as recorded")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m qa.answering.training", description=__doc__)
    parser.add_argument("--out", type=Path, default=MODEL_PATH)
    parser.add_argument("--cache", type=Path, default=CACHE)
    parser.add_argument("--articles", type=int, help="a quick slice: the first N fit articles")
    parser.add_argument(
        "--record-slice",
        action="store_true",
        help="only re-record the slice check in the model at --out, which is not refitted "
        "(for a machine whose features differ from the one that recorded it)",
    )
    args = parser.parse_args(argv)

    def say(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    t0 = time.perf_counter()
    if args.record_slice:
        return record_slice(args.out, args.cache, say)
    settings, cases = prepare(squad.FIT, args.cache, args.articles)
    say(f"fit part ingested into {settings.index_dir} ({time.perf_counter() - t0:.0f} s)")
    chosen = squad.sample(cases, FIT_SAMPLE, seed=1)
    rows = rows_cached(settings, chosen, args.cache, say)
    say(f"{len(rows.y)} rows from {len(chosen)} questions ({time.perf_counter() - t0:.0f} s)")
    slice_rows, slice_model = slice_run(args.cache)
    check = {"articles": SLICE_ARTICLES, "decisions": decisions(slice_model, slice_rows)}
    arrays = train(rows, {**train_spans(chosen), "slice_check": check})
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out, **arrays)  # type: ignore[arg-type]
    meta = json.loads(str(arrays["meta"]))
    Forest.load(args.out)  # it loads
    size = args.out.stat().st_size / 1024
    say(f"wrote {args.out} ({size:.0f} KiB) in {time.perf_counter() - t0:.0f} s")
    say(f"threshold {meta['abstain_below']}, out of fold: {meta['out_of_fold']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
