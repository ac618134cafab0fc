"""What a claim check returns (`Verdict`) and what it reads with (`Reader`), shared by
the offline check (qa.desk.claims) and the model's (qa.desk.claims_model)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from llama_index.core.schema import NodeWithScore

from ..answering import support
from ..answering.answer import Citation, Idf
from ..settings import Settings
from ..store.embedding import BundledEmbedding
from .claim_slots import ALIASES, Slot

SUPPORTED, CONTRADICTED, ABSENT = "supported", "contradicted", "not in the articles"
VERDICTS = (SUPPORTED, CONTRADICTED, ABSENT)


@dataclass
class Verdict:
    claim: str
    verdict: str  # one of VERDICTS
    explanation: str = ""
    supporting: list[Citation] = field(default_factory=list)
    contradicting: list[Citation] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    checker: str = "extractive"  # or the model's name
    fallback: bool = False  # a model was configured but its verdict was not used
    # A model's verdict whose citations do not hold, not shown as the verdict (see
    # qa.claims_model): each {"verdict", "explanation", "why"}.
    flags: list[dict[str, object]] = field(default_factory=list)
    slots: list[Slot] = field(default_factory=list)
    related: list[Citation] = field(default_factory=list)
    # The articles it was checked against (qa.scope); None: every article.
    scope: dict[str, object] | None = None
    # The checker's probability of this verdict (qa.desk.claim_gate); without the gate,
    # the claim verifier's of the verdict it leaned to; 0 without either.
    confidence: float = 0.0

    @property
    def citations(self) -> list[Citation]:
        return self.contradicting + self.supporting

    def as_dict(self) -> dict[str, object]:
        return {
            "claim": self.claim,
            "verdict": self.verdict,
            "explanation": self.explanation,
            "supporting": [c.as_dict() for c in self.supporting],
            "contradicting": [c.as_dict() for c in self.contradicting],
            "related": [c.as_dict() for c in self.related],
            "notes": self.notes,
            "checker": self.checker,
            "fallback": self.fallback,
            "flags": self.flags,
            "slots": [s.as_dict() for s in self.slots],
            "scope": self.scope,
            "confidence": round(self.confidence, 4),
        }


@dataclass
class Reader:
    """What the offline check reads with: the claim's retrieval and the answerer's parts."""

    claim: str
    q_vec: np.ndarray
    hits: list[NodeWithScore]
    embedder: BundledEmbedding
    idf: Idf
    retrieve: Callable[[str, np.ndarray], list[NodeWithScore]]
    settings: Settings

    @cached_property
    def scored(self) -> list[support.Candidate]:
        """The claim's sentences among its hits, scored by the support scorer, best first
        (read by the rules and by the verifier: scored once)."""
        rows = support.candidates(
            self.claim, self.q_vec, self.hits, self.embedder, self.idf, len(self.hits)
        )
        return support.score(rows)

    def common(self, word: str) -> bool:
        """A capitalised word the articles also write in lower case ("More", "The")."""
        low = word.lower()
        if low in ALIASES:
            return False
        pattern = re.compile(rf"\b{re.escape(low)}\b")
        return any(pattern.search(h.node.get_content()) for h in self.hits) or low in {
            "the",
            "a",
            "an",
            "in",
            "on",
            "over",
            "more",
            "after",
            "since",
        }
