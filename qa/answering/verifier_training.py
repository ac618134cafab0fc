"""Fit the claim verifier (`qa/answering/models/verifier.onnx` and `verifier.json`) offline
and deterministically: `make train-verifier` (python -m qa.answering.verifier_training).

1. Data: `../shared/data/vitaminc/` (claim, evidence, supports / refutes / not enough
   info), Wikipedia's tokenisation undone ("-LRB-" is "(", " , " is ", "). Split by page
   (a hash of its title; the revisions of one sentence stay on one side): *train* (8 of
   16 parts) fits the model, *calibrate* (4) the stacker and the threshold, *report* (4)
   is only measured. Each part adds "neither" pairs the way the checker meets them: the
   claim against another sentence of its own page (one that shares little with its
   evidence), so that a sentence about the same subject that does not bear on the claim
   is read as neither. The train part adds claims made from SQuAD's fit part, a year, a
   figure or a name kept or swapped (`squad_claims`), and claims against their own
   evidence read under another page's title, where the evidence does not name their
   page (`other_page_neither`): neither. Every sentence is read with its page's title.
2. The model: the bundled MiniLM with a three-way head over [CLS] and the mean of the
   sentence's tokens, trained as the reading model is (`qa.answering.reader_training`):
   every layer, embeddings included.
3. Export: int8 ONNX, checked against the torch model on recorded windows.
4. Stacker: multinomial logistic regression on the calibrate part over the model's
   logits and the value comparisons (`qa.answering.compare`).
5. Threshold: the verdict's confidence under which the answer is "neither", chosen on
   the calibrate part out of fold (by page), weighted to one third per class as the
   product's check is: the most verdicts right with costly errors (a wrong supports or a
   wrong refutes) at most COSTLY_CAP.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..reading.text import split_sentences
from . import compare, reader_training, squad, verifier
from .verifier import LABELS, NEITHER, REFUTES, SUPPORTS

SEED = 0
EPOCHS = 2
# Every layer trained (`reader_training.build_model(frozen=0)`, embeddings included); the first
# verifier kept the lower four as bundled and trained the top two at 3e-4 (heads 3e-3):
# report pairs 0.45 right at 0.03 costly.
FROZEN = 0
LR = (1e-4, 1e-3)  # encoder, head
COSTLY_CAP = 0.04
NEITHER_PER_PAGE = 3  # made "neither" pairs per page and part
OTHER_PAGE_PER_PAGE = 2  # ... their evidence under another page's title, per page
OTHER_PAGE_POOL = 200  # pages the likest title is chosen from
_LABEL = {"SUPPORTS": SUPPORTS, "REFUTES": REFUTES, "NOT ENOUGH INFO": NEITHER}
SLICE_PAIRS = 96
PROBES = 32


def data_path() -> Path:
    return (
        Path(__file__).resolve().parents[3] / "shared" / "data" / "vitaminc" / "vitaminc_fit.jsonl"
    )


_DETOK = [
    (r"-LRB-", "("),
    (r"-RRB-", ")"),
    (r"-LSB-", "["),
    (r"-RSB-", "]"),
    (r"-COLON-", ":"),
    (r"``|''", '"'),
    (r"\ufffd|\u00a0", " "),
    (r"\(\s+", "("),
    (r"\s+\)", ")"),
    (r"\s+([,.;:!?%])", r"\1"),
    (r"\s+(n't|'s|'re|'ve|'ll|'d|'m)\b", r"\1"),
    (r"\$\s+(?=\d)", "$"),
    (r'"\s+([^"]*?)\s+"', r'"\1"'),
    (r"\s{2,}", " "),
]


def clean(text: str) -> str:
    """Wikipedia's tokenisation undone: "( BPI ) , 9.8 million" is "(BPI), 9.8 million"."""
    for pattern, repl in _DETOK:
        text = re.sub(pattern, repl, text)
    return text.strip()


def part(page: str) -> str:
    """ "train", "calibrate" or "report", by page."""
    k = int(hashlib.sha256(page.encode()).hexdigest()[0], 16)
    return "train" if k < 8 else "calibrate" if k < 12 else "report"


@dataclass
class Pair:
    page: str
    claim: str
    evidence: str
    label: str  # one of LABELS
    made: bool = False  # a "neither" made: another sentence of the page, or another title

    @property
    def title(self) -> str:
        """The page's title, as an article's title is read (`verifier.window`)."""
        return clean(self.page.removeprefix("squad:").replace("_", " "))


def load(path: Path | None = None) -> list[Pair]:
    rows = [json.loads(line) for line in (path or data_path()).read_text("utf-8").splitlines()]
    return [
        Pair(str(r["page"]), clean(str(r["claim"])), clean(str(r["evidence"])), _LABEL[r["label"]])
        for r in rows
    ]


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", text.lower()))


def made_neither(pairs: Sequence[Pair], per_page: int = NEITHER_PER_PAGE) -> list[Pair]:
    """Claims against another evidence sentence of their own page, one that shares at
    most a third of its words with the claim's own evidence (not a revision of it)."""
    rng = random.Random(SEED)
    by_page: dict[str, list[Pair]] = {}
    for p in pairs:
        by_page.setdefault(p.page, []).append(p)
    out: list[Pair] = []
    for page in sorted(by_page):
        group = by_page[page]
        evidences = sorted({p.evidence for p in group})
        if len(evidences) < 2:
            continue
        for p in rng.sample(group, min(per_page, len(group))):
            own = _words(p.evidence)
            others = [
                e for e in evidences if len(_words(e) & own) / max(len(_words(e) | own), 1) < 1 / 3
            ]
            if others:
                out.append(Pair(page, p.claim, rng.choice(others), NEITHER, made=True))
    return out


def other_page_neither(pairs: Sequence[Pair], per_page: int = OTHER_PAGE_PER_PAGE) -> list[Pair]:
    """A claim and its own evidence read under another page's title, where the evidence
    does not name the claim's page ("The series premiered in 2014" under "Smallville"
    for "Gotham premiered in 2014"): neither, the sentence being about another subject.
    The other page is the likest by title words of OTHER_PAGE_POOL drawn at random from
    the same part ("... pandemic in Bulgaria" for "... pandemic in Germany").

    "Does not name" is read strictly: the evidence shares no word at all with the title,
    short words such as "in" or "the" included, so the pages whose titles hold them give
    fewer such pairs than they could; the committed verifier was trained so."""
    rng = random.Random(SEED)
    by_page: dict[str, list[Pair]] = {}
    for p in pairs:
        if not p.made and not p.page.startswith("squad:"):
            by_page.setdefault(p.page, []).append(p)
    pages = sorted(by_page)
    out: list[Pair] = []
    for page in pages:
        named = _words(by_page[page][0].title)
        unnamed = [p for p in by_page[page] if not named & _words(p.evidence)]
        for p in rng.sample(unnamed, min(per_page, len(unnamed))):
            pool = [o for o in rng.sample(pages, min(OTHER_PAGE_POOL, len(pages))) if o != page]
            if not pool:
                continue
            other = max(pool, key=lambda o: len(_words(by_page[o][0].title) & named))
            out.append(Pair(other, p.claim, p.evidence, NEITHER, made=True))
    return out


# --- claims made from SQuAD's answers -----------------------------------------------------

SQUAD_CLAIMS = 2500  # SQuAD fit-part answers made into claims (train part only)
CLAIM_WORDS = 9  # words kept each side of the answer in a made claim
_YEAR = re.compile(r"^(1[0-9]|20)\d\d$")
_FIGURE = re.compile(r"^(?:about |over |nearly |some )?[$£€]?\d[\d,.]*%?(?: [a-z]+){0,2}$")
_NAME = re.compile(r"^(?:[A-Z][\w.'’-]*)(?: (?:of |de |the |and )?[A-Z][\w.'’-]*){0,3}$")


def answer_kind(answer: str) -> str | None:
    """ "year", "figure" or "name" for an answer that is one, else None."""
    if _YEAR.match(answer):
        return "year"
    if _FIGURE.match(answer):
        return "figure"
    if _NAME.match(answer) and not answer.startswith("The "):
        return "name"
    return None


def around(sentence: str, answer: str, at: int) -> str:
    """The text of `sentence` within CLAIM_WORDS words of the answer found at `at`."""
    starts = [m.start() for m in re.finditer(r"\S+", sentence[:at])][-CLAIM_WORDS:]
    ends = [m.end() for m in re.finditer(r"\S+", sentence[at + len(answer) :])]
    first = starts[0] if starts else at
    last = at + len(answer) + (ends[:CLAIM_WORDS][-1] if ends else 0)
    return sentence[first:last].strip(" ,;:").rstrip(".") + "."


def squad_claims(limit: int = SQUAD_CLAIMS) -> list[Pair]:
    """Claims made from answers of SQuAD's fit part (never its held-out part), of the
    kinds a newsroom's claims get wrong: a year, a figure or a name. For an answer found
    once in its paragraph: the words around it in its sentence *supported* by that
    sentence; the same words with the answer swapped for another answer of its article
    of the same kind *refuted* by it; the first against another sentence of the
    paragraph that lacks the answer, *neither*. Seeded, `limit` answers."""
    made: list[list[Pair]] = []
    for article in squad.load_articles():
        title = str(article["title"])
        placed = squad.part_of(title)
        if placed is None or placed[0] != squad.FIT:
            continue
        found: list[tuple[str, list[str], str, int, str]] = []
        for paragraph in article["paragraphs"]:
            sentences = split_sentences(" ".join(str(paragraph["context"]).split()))
            for qa in paragraph["qas"]:
                answer = " ".join(str(qa["answers"][0]["text"]).split()).strip(" .,")
                kind = answer_kind(answer) if answer else None
                pattern = re.compile(rf"(?<![\w$]){re.escape(answer)}(?!\w)")
                hits = [(t, m.start()) for t in sentences for m in pattern.finditer(t)]
                if kind and len(hits) == 1:
                    found.append((hits[0][0], sentences, answer, hits[0][1], kind))
        for sentence, sentences, answer, at, kind in found:
            # answers of its kind the sentence does not hold (nor, then, the answer itself)
            others = sorted({a for _, _, a, _, k in found if k == kind and a not in sentence})
            if not others:
                continue
            rng = random.Random(f"{SEED}:{title}:{sentence}:{answer}")
            claim = around(sentence, answer, at)
            swapped = claim.replace(answer, rng.choice(others), 1)
            page = f"squad:{title}"
            group = [Pair(page, claim, sentence, SUPPORTS), Pair(page, swapped, sentence, REFUTES)]
            lacking = [t for t in sentences if t != sentence and answer not in t]
            if lacking:
                group.append(Pair(page, claim, rng.choice(lacking), NEITHER, made=True))
            made.append(group)
    random.Random(SEED).shuffle(made)
    return [p for group in made[:limit] for p in group]


def split(pairs: Sequence[Pair]) -> dict[str, list[Pair]]:
    out: dict[str, list[Pair]] = {"train": [], "calibrate": [], "report": []}
    for p in pairs:
        out[part(p.page)].append(p)
    for name in out:
        out[name] += made_neither(out[name])
    return out


# --- the model -------------------------------------------------------------------------


def train(pairs: list[Pair], say: Callable[[str], None], epochs: int = EPOCHS) -> Any:
    import torch

    torch.manual_seed(SEED)
    torch.use_deterministic_algorithms(True)
    model = reader_training.build_model(classes=len(LABELS), frozen=FROZEN)
    windows = [verifier.window(p.claim, p.evidence, p.title) for p in pairs]
    ce = torch.nn.CrossEntropyLoss()

    def loss_of(out: tuple[Any, Any, Any], b: list[int]) -> Any:
        y = torch.tensor([LABELS.index(pairs[k].label) for k in b])
        return ce(out[0], y)

    return reader_training.train_top(model, windows, loss_of, say, epochs, LR)


def torch_logits(model: Any, pairs: Sequence[Pair]) -> np.ndarray:
    windows = [verifier.window(p.claim, p.evidence, p.title) for p in pairs]
    import torch

    outs = []
    with torch.no_grad():
        for k in range(0, len(windows), 64):
            t = reader_training._tensors(windows[k : k + 64])
            outs.append(model(**t)[0].numpy())
    return np.concatenate(outs) if outs else np.zeros((0, 3), np.float32)


def onnx_logits(v: verifier.Verifier, pairs: Sequence[Pair]) -> np.ndarray:
    out = [
        v.raw_logits([verifier.window(p.claim, p.evidence, p.title) for p in pairs[k : k + 64]])
        for k in range(0, len(pairs), 64)
    ]
    return np.concatenate(out) if out else np.zeros((0, 3), np.float32)


# --- stacker and threshold -------------------------------------------------------------


def _fit(x: np.ndarray, y: np.ndarray) -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=1.0, max_iter=2000).fit(x, y)


def _balanced(y: np.ndarray) -> np.ndarray:
    """Weights making each class a third."""
    w = np.zeros(len(y))
    for k in range(len(LABELS)):
        if (y == k).any():
            w[y == k] = len(y) / (len(LABELS) * (y == k).sum())
    return w


def rates(probs: np.ndarray, y: np.ndarray, threshold: float) -> dict[str, float]:
    """Verdicts right, per class, and costly errors, one third per class, each pair
    judged alone."""
    w = _balanced(y)
    got = []
    for p in probs:
        got.append(LABELS.index(verifier.aggregate(p[None, :], threshold).label))
    got_a = np.array(got)
    right = got_a == y
    costly = (got_a != 2) & ~right
    out = {
        "right": float((w * right).sum() / w.sum()),
        "costly": float((w * costly).sum() / w.sum()),
    }
    for k, name in enumerate(LABELS):
        out[f"right_{name}"] = float(right[y == k].mean()) if (y == k).any() else 0.0
    return out


def judged_alone(
    v: verifier.Verifier, meta: dict[str, Any], pairs: Sequence[Pair]
) -> dict[str, float]:
    """`rates` of the pairs, each judged alone by the model and `meta`'s stacker at its
    threshold."""
    logits = onnx_logits(v, pairs)
    probs = np.vstack(
        [
            verifier.stacked(meta, logits[k : k + 1], p.claim, [p.evidence])
            for k, p in enumerate(pairs)
        ]
    )
    y = np.array([LABELS.index(p.label) for p in pairs])
    return rates(probs, y, meta["confident_above"])


def choose_threshold(probs: np.ndarray, y: np.ndarray) -> tuple[float, dict[str, float]]:
    best: tuple[float, float, dict[str, float]] = (-1.0, 1.0, {})
    for t in np.round(np.arange(0.34, 0.99, 0.01), 2):
        r = rates(probs, y, float(t))
        if r["costly"] <= COSTLY_CAP and r["right"] > best[0]:
            best = (r["right"], float(t), r)
    return best[1], best[2]


def fit_stacker(pairs: list[Pair], logits: np.ndarray) -> dict[str, Any]:
    """The stacker on the calibrate part, its threshold out of fold (two halves by page)."""
    x = np.vstack(
        [
            verifier.stack_features(logits[k : k + 1], p.claim, [p.evidence])
            for k, p in enumerate(pairs)
        ]
    )
    y = np.array([LABELS.index(p.label) for p in pairs])
    mean, scale = x.mean(0), x.std(0) + 1e-6
    z = (x - mean) / scale
    fold = np.array([int(hashlib.sha256(p.page.encode()).hexdigest()[1], 16) % 2 for p in pairs])
    oof = np.zeros((len(y), 3))
    model_only = np.zeros((len(y), 3))
    for k in (0, 1):
        m = _fit(z[fold != k], y[fold != k])
        oof[fold == k] = m.predict_proba(z[fold == k])
        m3 = _fit(z[fold != k][:, :3], y[fold != k])
        model_only[fold == k] = m3.predict_proba(z[fold == k][:, :3])
    threshold, at = choose_threshold(oof, y)
    t3, at3 = choose_threshold(model_only, y)
    full = _fit(z, y)
    return {
        "stacker": {
            "coef": full.coef_.round(6).tolist(),
            "intercept": full.intercept_.round(6).tolist(),
            "mean": mean.round(6).tolist(),
            "scale": scale.round(6).tolist(),
            "features": [
                "logit_supports",
                "logit_refutes",
                "logit_neither",
                *compare.NAMES,
            ],
        },
        "confident_above": threshold,
        "out_of_fold_calibrate": {
            "stacked": {"threshold": threshold, **at},
            "model_only": {"threshold": t3, **at3},
        },
    }


def slice_pairs(pairs: Sequence[Pair]) -> list[Pair]:
    return sorted(pairs, key=lambda p: (p.page, p.claim, p.evidence))[:SLICE_PAIRS]


def slice_run(say: Callable[[str], None] = lambda _: None) -> list[int]:
    """The training step on a small slice of the train part (one epoch), and its
    decisions (the argmax of its logits) on that slice."""
    pairs = slice_pairs([p for p in load() if part(p.page) == "train"])
    model = train(pairs, say, epochs=1)
    return [int(k) for k in torch_logits(model, pairs).argmax(1)]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m qa.answering.verifier_training", description=__doc__
    )
    parser.add_argument("--out", type=Path, default=verifier.ONNX_PATH)
    parser.add_argument("--limit", type=int, help="a quick run: at most N training pairs")
    parser.add_argument(
        "--stack-only", action="store_true", help="keep the model at --out; refit the stacker"
    )
    args = parser.parse_args(argv)

    def say(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    t0 = time.perf_counter()
    parts = split(load())
    say(", ".join(f"{k}: {len(v)} pairs" for k, v in parts.items()))
    meta: dict[str, Any] = {}
    if args.stack_only:
        meta = json.loads(verifier.META_PATH.read_text(encoding="utf-8"))
    else:
        pairs = parts["train"] + other_page_neither(parts["train"]) + squad_claims()
        if args.limit:
            pairs = random.Random(SEED).sample(pairs, min(args.limit, len(pairs)))
        t1 = time.perf_counter()
        model = train(pairs, say)
        train_s = time.perf_counter() - t1
        info = reader_training.export(model, args.out)
        say(f"exported {args.out} ({info['bytes'] / 1e6:.1f} MB)")
        probe = pairs[:: max(len(pairs) // PROBES, 1)][:PROBES]
        meta = {
            "epochs": EPOCHS,
            "frozen_layers": FROZEN,
            "learning_rates": list(LR),
            "pairs": len(pairs),
            "squad_claims": SQUAD_CLAIMS,
            "per_label": {k: sum(p.label == k for p in pairs) for k in LABELS},
            "train_seconds": round(train_s),
            "bytes": info["bytes"],
            "probes": {
                "windows": [[p.claim, p.evidence, p.title] for p in probe],
                "logits": torch_logits(model, probe).round(5).tolist(),
            },
        }
    v = verifier.Verifier(args.out, None)
    cal = parts["calibrate"]
    meta.update(fit_stacker(cal, onnx_logits(v, cal)))
    if not args.stack_only:
        meta["slice_check"] = {"pairs": SLICE_PAIRS, "decisions": slice_run(say)}
    # The report part, each pair judged alone (the checker's end-to-end numbers are
    # bench/vitaminc_claims.py's).
    rep = parts["report"]
    meta["report_pairs"] = judged_alone(v, meta, rep)
    # Claims against their own evidence under another page's title (not in report_pairs):
    # the share judged neither.
    other = other_page_neither(rep)
    neither = judged_alone(v, meta, other)["right"]
    meta["report_other_page"] = {"pairs": len(other), "neither": neither}
    verifier.META_PATH.write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    say(json.dumps({k: v for k, v in meta.items() if k not in ("probes", "slice_check")}, indent=1))
    say(f"done in {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
