"""What else the stacker could weigh, measured on half B of the SQuAD fit part (the
articles the reader was not trained on; nothing here is held out, and nothing is fitted
for the product).

Each B question's eight best candidates by the trees (fitted without B's articles) are
read by the committed reader, as `reader_training.stack_rows` reads the best four. The
stacker is fitted out of fold (B's two halves by article, as `fit_stacker`), and each
variant's cut is chosen as the product's is (the highest with at most 10% of answerable
questions refused). Variants:

- the committed stacker (the trees' score and the reader's logit) over the best four;
- a second look: the trees' ranks 5 to 8 read only where the best four all fall under
  the cut;
- relative features: each candidate's logit and trees' score against the best of its
  question's, and whether the trees rank it first;
- the reader's span: its probability, the share of its words that are the question's,
  and whether the sentence holds a span of the asked kind.

    PYTHONHASHSEED=0 .venv/bin/python bench/reader_stacking.py   # about 10 minutes

Needs the fit part's rows (`python -m qa.answering.reader_training --rows-only`).
Prints, per variant, the cut and the shares of answerable questions answered right, of
near misses and out-of-corpus questions refused, and of answerable questions refused.
"""

from __future__ import annotations

import re
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression

from qa.answering import reader, squad, training
from qa.answering.qtype import question_type, typed_spans
from qa.answering.reader_training import (
    CACHE,
    READER_SAMPLE,
    article_half,
    rows_cached,
    tree_out_of_fold,
)

RANKS = 8
FIRST = reader.TOP_K


def say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def read_b() -> dict[str, Any]:
    """Every B question's RANKS best candidates by the trees, read by the reader: one
    entry per candidate under each key (numbers as arrays)."""
    settings, cases = training.prepare(squad.FIT, CACHE, None)
    data = rows_cached(settings, squad.sample(cases, READER_SAMPLE, seed=1), CACHE, say)
    rows = data.rows
    half = np.array([article_half(rows.cases[i].source or rows.cases[i].id) for i in rows.case])
    tree = tree_out_of_fold(rows, half)
    r = reader.Reader(reader.ONNX_PATH, None)
    out: dict[str, list[Any]] = defaultdict(list)
    t0 = time.perf_counter()
    for i, c in enumerate(rows.cases):
        idx = np.flatnonzero((rows.case == i) & (half == "B"))
        top = [int(j) for j in idx[np.argsort(-tree[idx], kind="stable")][:RANKS]]
        if not top:
            continue
        windows = [
            (data.sentence[j], data.previous[j], data.following[j], data.title[j]) for j in top
        ]
        for rank, (j, got) in enumerate(zip(top, r.read(c.question, windows), strict=True)):
            row = {
                "case": i,
                "rank": rank,
                "tree": tree[j],
                "y": rows.y[j],
                "logit": got.logit,
                "short_p": got.short_p,
                "short": got.short,
                "sentence": data.sentence[j],
                "question": c.question,
                "kind": c.kind,
                "source": c.source or c.id,
            }
            for key, value in row.items():
                out[key].append(value)
        if (i + 1) % 2000 == 0:
            say(f"  read {i + 1}/{len(rows.cases)} questions, {time.perf_counter() - t0:.0f} s")
    return {k: v if isinstance(v[0], str) else np.array(v) for k, v in out.items()}


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    out: np.ndarray = np.log(p / (1 - p))
    return out


def out_of_fold(x: np.ndarray, d: dict[str, Any], fitted_on: np.ndarray) -> np.ndarray:
    """Each row's stacked score from a stacker fitted on the other half of B's articles
    (on the rows `fitted_on` marks)."""
    fold = np.array([squad._h(s) % 2 for s in d["source"]])
    score = np.zeros(len(x))
    for k in (0, 1):
        fit = fitted_on & (fold != k)
        model = LogisticRegression(C=1.0, max_iter=2000).fit(x[fit], d["y"][fit])
        score[fold == k] = model.predict_proba(x[fold == k])[:, 1]
    return score


def rates(d: dict[str, Any], score: np.ndarray, pick: Callable[[list[int], float], int]) -> str:
    """The cut (highest with at most training.FALSE_ABSTENTION_CAP of answerable questions
    refused) and the rates there; `pick(rows, cut)` is the row a question answers from."""
    by: dict[int, list[int]] = defaultdict(list)
    for j, i in enumerate(d["case"]):
        by[int(i)].append(j)
    found = ""
    for cut in np.round(np.arange(0.01, 0.96, 0.01), 2):
        tally: dict[str, list[bool]] = defaultdict(list)
        for rows in by.values():
            j = pick(rows, cut)
            answers = score[j] >= cut
            kind = d["kind"][rows[0]]
            if kind == squad.ANSWERABLE:
                tally["right"].append(answers and d["y"][j] == 1)
                tally["refused"].append(not answers)
            else:
                tally[kind].append(not answers)
        if np.mean(tally["refused"]) > training.FALSE_ABSTENTION_CAP:
            break
        found = f"cut {cut:.2f} " + " ".join(f"{k} {np.mean(v):.3f}" for k, v in tally.items())
    return found


def main() -> int:
    d = read_b()
    first = d["rank"] < FIRST
    tree, logit = _logit(d["tree"]), np.clip(d["logit"], -10.5, 7.0)
    case = d["case"]
    top_logit: dict[int, float] = {}
    top_tree: dict[int, float] = {}
    for j in np.flatnonzero(first):
        i = int(case[j])
        top_logit[i] = max(top_logit.get(i, -np.inf), float(logit[j]))
        top_tree[i] = max(top_tree.get(i, -np.inf), float(tree[j]))
    best_logit = np.array([top_logit[int(i)] for i in case])
    best_tree = np.array([top_tree[int(i)] for i in case])
    words = [set(re.findall(r"\w+", q.lower())) for q in d["question"]]
    own = np.array([len(set(re.findall(r"\w+", s.lower())) & w) / max(len(s.split()), 1)
                    for s, w in zip(d["short"], words, strict=True)])  # fmt: skip
    asked = zip(d["sentence"], d["question"], words, strict=True)
    typed = np.array([float(bool(typed_spans(s, question_type(q), w))) for s, q, w in asked])

    def best_of(score: np.ndarray, second_look: bool = False) -> Callable[[list[int], float], int]:
        """The best of the four read; with `second_look`, where it falls under the cut,
        the best of the next four if that one clears it."""

        def pick(rows: list[int], cut: float) -> int:
            j = max((k for k in rows if first[k]), key=lambda k: score[k])
            later = [k for k in rows if not first[k]]
            if second_look and score[j] < cut and later:
                k = max(later, key=lambda m: score[m])
                return k if score[k] >= cut else j
            return j

        return pick

    plain = np.column_stack([tree, logit])
    committed = out_of_fold(plain, d, first)
    print("committed stacker, best four:", rates(d, committed, best_of(committed)))
    answerable: dict[int, list[int]] = defaultdict(list)
    for j in np.flatnonzero(first):
        if d["kind"][j] == squad.ANSWERABLE:
            answerable[int(case[j])].append(int(j))
    held = [rows for rows in answerable.values() if any(d["y"][j] for j in rows)]
    ranked = [d["y"][max(rows, key=lambda k: committed[k])] == 1 for rows in held]
    print(
        f"answerable questions with a right sentence among the four read: "
        f"{len(held) / len(answerable):.3f}; of those, stacked first: {np.mean(ranked):.3f}"
    )
    print("a second look at ranks 5-8:  ", rates(d, committed, best_of(committed, True)))
    variants = {
        "relative features:           ": np.column_stack(
            [plain, logit - best_logit, tree - best_tree, d["rank"] == 0]
        ),
        "the reader's span:           ": np.column_stack([plain, _logit(d["short_p"]), own, typed]),
    }
    for name, x in variants.items():
        score = out_of_fold(x, d, first)
        print(name, rates(d, score, best_of(score)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
