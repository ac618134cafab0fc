"""The checker's confidence in its verdict, and the caution it calls for.

The rules (`qa.desk.claims.check_rules`: each figure, date and name compared, the whole
claim's words covered) and the claim verifier (`qa.answering.verifier`: the learned
supports / refutes / neither over the claim's best sentences) each read the claim. A
multinomial logistic model over what both found (`FEATURES`: the rules' verdict and its
slots, the verifier's probabilities on its deciding sentences and on the sentence the
rules cite) gives P(supported), P(contradicted), P(not in the articles). It is fitted by
`qa.desk.claim_gate_training` on claims whose evidence the verifier was not trained on
(VitaminC's calibrate pages and the tuned claims of eval/claims.jsonl) and stored in
`qa/answering/models/claim_gate.json` with its threshold.

Its probability of the verdict shown is the verdict's confidence. With
`QA_CLAIM_CAUTION=strict` the verdict is the likelier of supported and contradicted when
its probability reaches its threshold (chosen out of fold so that costly errors, a wrong
"supported" or a wrong "contradicted", stay under STRICT_COSTLY of VitaminC's claims);
otherwise it is "not in the articles", with the sentences the rules rested on shown as
related. By default (`rules`) no thresholds were found that keep the tuned news claims as
right as the rules alone get them without adding costly errors, so the rules' verdict
stands, with the gate's confidence in it (`qa.desk.claim_gate_training`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from ..answering.reader import MODEL_DIR
from .verdict import ABSENT, CONTRADICTED, SUPPORTED, Verdict

GATE_PATH = MODEL_DIR / "claim_gate.json"
CLASSES = (SUPPORTED, CONTRADICTED, ABSENT)
FEATURES = (
    "rules_supported",
    "rules_contradicted",
    "rules_misattributed",
    "slots",
    "slots_supported",
    "slots_contradicted",
    "max_supports",
    "max_refutes",
    "min_neither",
    "cited_supports",
    "cited_refutes",
    "cited_neither",
    "verifier_supported",
    "verifier_contradicted",
    "name_contradicted",
    "figure_contradicted",
    "name_contradicted_x_cited_supports",
    "figure_contradicted_x_cited_supports",
    "rules_supported_x_cited_refutes",
    "rules_supported_x_max_refutes",
)


@dataclass
class Read:
    """What the verifier made of the claim: per text it read, P(supports), P(refutes),
    P(neither); its own verdict; and its probabilities on the sentence the rules cite
    (or on its deciding text where the rules cite none)."""

    probs: np.ndarray
    label: str  # SUPPORTED, CONTRADICTED or ABSENT
    cited: np.ndarray  # (3,)


def features(rules: Verdict, read: Read) -> np.ndarray:
    slots = rules.slots
    against = sum(s.status == CONTRADICTED for s in slots)
    probs = read.probs if len(read.probs) else np.array([[0.0, 0.0, 1.0]])
    row = [
        rules.verdict == SUPPORTED,
        rules.verdict == CONTRADICTED,
        rules.verdict == CONTRADICTED and not against,
        len(slots),
        sum(s.status == SUPPORTED for s in slots),
        against,
        probs[:, 0].max(),
        probs[:, 1].max(),
        probs[:, 2].min(),
        *read.cited,
        read.label == SUPPORTED,
        read.label == CONTRADICTED,
    ]
    name = any(s.status == CONTRADICTED and s.kind == "name" for s in slots)
    figure = any(s.status == CONTRADICTED and s.kind != "name" for s in slots)
    supported = rules.verdict == SUPPORTED
    row += [
        name,
        figure,
        name * read.cited[0],
        figure * read.cited[0],
        supported * read.cited[1],
        supported * probs[:, 1].max(),
    ]
    return np.array(row, np.float64)


@dataclass
class Gate:
    coef: np.ndarray
    intercept: np.ndarray
    mean: np.ndarray
    scale: np.ndarray
    # Per caution (`Settings.claim_caution`): the thresholds for supported and for
    # contradicted, or None where the rules' verdict stands.
    thresholds: dict[str, tuple[float, float] | None]

    @classmethod
    def of(cls, meta: dict[str, Any]) -> Gate:
        m = meta["model"]
        thresholds: dict[str, tuple[float, float] | None] = {}
        for caution, t in meta["confident_above"].items():
            thresholds[caution] = (
                None if t is None else (float(t[SUPPORTED]), float(t[CONTRADICTED]))
            )
        return cls(
            np.array(m["coef"]),
            np.array(m["intercept"]),
            np.array(m["mean"]),
            np.array(m["scale"]),
            thresholds,
        )

    def probs(self, x: np.ndarray) -> np.ndarray:
        """P(supported), P(contradicted), P(not in the articles) per row of features."""
        z = ((np.atleast_2d(x) - self.mean) / self.scale) @ self.coef.T + self.intercept
        z = z - z.max(axis=-1, keepdims=True)
        e = np.exp(z)
        out: np.ndarray = e / e.sum(axis=-1, keepdims=True)
        return out

    def decide(self, x: np.ndarray, rules: str, caution: str) -> tuple[str, float, str]:
        """The verdict, its probability, and the likelier of supported and contradicted.
        Where the caution has thresholds: the likelier where it reaches its threshold,
        else not in the articles; where it has none, the rules' verdict."""
        p = self.probs(x)[0]
        k = 0 if p[0] >= p[1] else 1
        thresholds = self.thresholds.get(caution)
        verdict = rules
        if thresholds is not None:
            verdict = CLASSES[k] if p[k] >= thresholds[k] else ABSENT
        return verdict, float(p[CLASSES.index(verdict)]), CLASSES[k]

    def threshold_for(self, verdict: str, caution: str) -> float:
        thresholds = self.thresholds.get(caution)
        return 0.0 if thresholds is None else thresholds[CLASSES.index(verdict)]


def load(path: Path = GATE_PATH) -> Gate | None:
    if not path.is_file():
        return None
    return Gate.of(json.loads(path.read_text(encoding="utf-8")))


@lru_cache(maxsize=1)
def gate() -> Gate | None:
    """The committed gate, or None where it is missing (the rules decide alone)."""
    return load()
