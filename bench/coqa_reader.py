"""The reader alone on CoQA's held-out stories (../shared/data/coqa/, not news): each
question's rationale sentence against the three sentences of its story most like the
question (the pairs `reader_training.coqa_pairs` builds, taken from the held-out stories,
which no model was fitted on), read with its neighbours and title. Follow-ups with a
pronoun are rewritten as a conversation rewrites them (the earlier turns' gold answers as
history) and counted apart from first and pronoun-free questions.

    .venv/bin/python bench/coqa_reader.py [READER.onnx ...]   # default: the committed one

Per reader and kind of question: how many questions, the AUC of its support logit over
all their pairs, and how often the rationale sentence is read first among its question's.
Nothing is written; a second path compares readers side by side (say, one kept aside).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

from qa.answering import reader, reader_training
from qa.answering.referents import coqa_path


def groups(pairs: list[reader_training.Pair]) -> list[list[int]]:
    """Each question's pairs: its positive first, then its negatives."""
    out: list[list[int]] = []
    for k, p in enumerate(pairs):
        if p.label:
            out.append([k])
        elif out and pairs[out[-1][0]].question == p.question:
            out[-1].append(k)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("readers", nargs="*", type=Path, default=[reader.ONNX_PATH])
    args = ap.parse_args(argv)
    stories = json.loads(coqa_path().read_text(encoding="utf-8"))["data"]
    first = reader_training.coqa_pairs(stories, followups=False, held=True)
    seen = {(p.question, p.sentence) for p in first}
    every = reader_training.coqa_pairs(stories, followups=True, held=True)
    follow = [p for p in every if (p.question, p.sentence) not in seen]
    rows = []
    for path in args.readers:
        read = reader.Reader(path, None)
        for kind, pairs in (("first and pronoun-free", first), ("follow-ups rewritten", follow)):
            windows = [
                reader_training.encode(p.question, p.sentence, p.previous, p.following, p.title)
                for p in pairs
            ]
            logit = read.raw(windows)[0]
            y = np.array([p.label for p in pairs])
            g = groups(pairs)
            top = np.mean([logit[q[0]] >= max(logit[j] for j in q) for q in g])
            rows.append(
                {
                    "reader": str(path),
                    "questions": kind,
                    "n": len(g),
                    "auc": round(float(roc_auc_score(y, logit)), 3),
                    "rationale_first": round(float(top), 3),
                }
            )
            print(json.dumps(rows[-1]), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
