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
from collections import defaultdict
from collections.abc import Callable

import numpy as np
from sklearn.linear_model import LogisticRegression

from qa.answering import reader, squad, training
from qa.answering.qtype import question_type, typed_spans
from qa.answering.reader_training import (
    CACHE,
    READER_SAMPLE,
    Stack,
    _logit,
    article_half,
    rows_cached,
    stack_rows,
    tree_out_of_fold,
)

RANKS = 8
FIRST = reader.TOP_K


def say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def read_b() -> tuple[Stack, tuple[float, float]]:
    """Every B question's RANKS best candidates by the trees, read by the reader
    (`reader_training.stack_rows`), and the reader's recorded logit range."""
    settings, cases = training.prepare(squad.FIT, CACHE, None)
    data = rows_cached(settings, squad.sample(cases, READER_SAMPLE, seed=1), CACHE, say)
    rows = data.rows
    half = np.array([article_half(rows.cases[i].source or rows.cases[i].id) for i in rows.case])
    r = reader.Reader()
    assert r.logit_range is not None, "reader.json records no logit range"
    return stack_rows(data, tree_out_of_fold(rows, half), half, r.read, say, RANKS), r.logit_range


def out_of_fold(x: np.ndarray, st: Stack, fitted_on: np.ndarray) -> np.ndarray:
    """Each row's stacked score from a stacker fitted on the other half of B's articles
    (on the rows `fitted_on` marks), the halves as `reader_training.fit_stacker`'s."""
    fold = np.array([squad._h(st.cases[i].source or st.cases[i].id) % 2 for i in st.case])
    score = np.zeros(len(x))
    for k in (0, 1):
        fit = fitted_on & (fold != k)
        model = LogisticRegression(C=1.0, max_iter=2000).fit(x[fit], st.y[fit])
        score[fold == k] = model.predict_proba(x[fold == k])[:, 1]
    return score


def rates(st: Stack, score: np.ndarray, pick: Callable[[list[int], float], int]) -> str:
    """The cut (highest with at most training.FALSE_ABSTENTION_CAP of answerable questions
    refused) and the rates there (`squad.rates`); `pick(rows, cut)` is the row a question
    answers from."""
    by: dict[int, list[int]] = defaultdict(list)
    for j, i in enumerate(st.case):
        by[int(i)].append(j)
    found = ""
    for cut in np.round(np.arange(0.01, 0.96, 0.01), 2):
        picked = [(int(i), pick(rows, float(cut))) for i, rows in by.items()]
        kinds = [(st.cases[i].kind, float(score[j]), bool(st.y[j] == 1)) for i, j in picked]
        refused = np.mean([s < cut for k, s, _ in kinds if k == squad.ANSWERABLE])
        if refused > training.FALSE_ABSTENTION_CAP:
            break
        shares = " ".join(f"{k} {v:.3f}" for k, v in squad.rates(kinds, float(cut)).items())
        found = f"cut {cut:.2f} refused {refused:.3f} {shares}"
    return found


def main() -> int:
    st, (low, high) = read_b()
    rank = np.zeros(len(st.case), int)  # each question's rows come in the trees' order
    for n in range(1, len(st.case)):
        rank[n] = rank[n - 1] + 1 if st.case[n] == st.case[n - 1] else 0
    first = rank < FIRST
    tree, logit = _logit(st.tree), np.clip(st.reader, low, high)
    case = st.case
    top_logit: dict[int, float] = {}
    top_tree: dict[int, float] = {}
    for j in map(int, np.flatnonzero(first)):
        i = int(case[j])
        top_logit[i] = max(top_logit.get(i, -np.inf), float(logit[j]))
        top_tree[i] = max(top_tree.get(i, -np.inf), float(tree[j]))
    best_logit = np.array([top_logit[int(i)] for i in case])
    best_tree = np.array([top_tree[int(i)] for i in case])
    questions = [st.cases[i].question for i in case]
    words = [set(re.findall(r"\w+", q.lower())) for q in questions]
    own = np.array([len(set(re.findall(r"\w+", s.lower())) & w) / max(len(s.split()), 1)
                    for s, w in zip(st.short, words, strict=True)])  # fmt: skip
    asked = zip(st.sentence, questions, words, strict=True)
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
    committed = out_of_fold(plain, st, first)
    print("committed stacker, best four:", rates(st, committed, best_of(committed)))
    answerable: dict[int, list[int]] = defaultdict(list)
    for j in map(int, np.flatnonzero(first)):
        if st.cases[int(case[j])].kind == squad.ANSWERABLE:
            answerable[int(case[j])].append(j)
    held = [rows for rows in answerable.values() if any(st.y[j] for j in rows)]
    ranked = [st.y[max(rows, key=lambda k: committed[k])] == 1 for rows in held]
    print(
        f"answerable questions with a right sentence among the four read: "
        f"{len(held) / len(answerable):.3f}; of those, stacked first: {np.mean(ranked):.3f}"
    )
    print("a second look at ranks 5-8:  ", rates(st, committed, best_of(committed, True)))
    variants = {
        "relative features:           ": np.column_stack(
            [plain, logit - best_logit, tree - best_tree, rank == 0]
        ),
        "the reader's span:           ": np.column_stack([plain, _logit(st.short_p), own, typed]),
    }
    for name, x in variants.items():
        score = out_of_fold(x, st, first)
        print(name, rates(st, score, best_of(score)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
