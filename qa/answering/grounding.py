"""Check a model's answer sentence by sentence against the paragraphs it cites: a
sentence whose citations do not state it, one they contradict, or a factual sentence with
no citation, is flagged, so it is never shown as if grounded.

Each cited sentence is checked in turn: its figures and names must be in its passages
(`lacking`); a sentence of theirs that states it reversed ("younger" for "older",
"approved" for "did not approve": `qa.answering.compare.reversal`) flags it as
contradicted by the passage that holds that sentence; then the claim verifier
(`qa.answering.verifier`) reads it against each sentence of those passages: a confident
"refutes" flags it as contradicted likewise, a confident "supports" clears it; otherwise
the support scorer and the IDF cover decide, with the cut-offs below."""

from __future__ import annotations

import re
from dataclasses import dataclass

from llama_index.core.schema import NodeWithScore

from ..reading.text import split_sentences, terms
from ..store.embedding import BundledEmbedding
from . import compare, reader, support, verifier
from .answer import Idf, coverage

_MARK = re.compile(r"\s*\[(\d+)\]")
# A number not part of a name ("COVID-19"), with its scale word ("$5m", not "1.80 m").
_VALUE = re.compile(
    r"(?<![A-Za-z]-)(?<!\d)(\d[\d,]*(?:\.\d+)?)"
    r"(?:\s*(million|billion|trillion|thousand|bn)\b|(m)\b)?",
    re.I,
)
_SCALE = {"thousand": 1e3, "million": 1e6, "m": 1e6, "billion": 1e9, "bn": 1e9, "trillion": 1e12}
# A cited sentence is flagged when its best supporting sentence scores below CLAIM_BELOW
# and the cited paragraphs hold less than COVER_BELOW of its words (IDF-weighted). The
# scorer was fitted on questions, not claims: a claim that restates its sentence in other
# words scores under the answer threshold (0.57 for "The US gave Panama's security
# ministry $6 million", 0.24 for "Panama received $6 million for flights", which joins two
# sentences), one that its paragraph does not state near 0 (0.007 for "The grant also
# paid for 40 new patrol boats"). Set by hand on such pairs from the seeds; the check of
# numbers and names before it is what catches a changed figure or name.
CLAIM_BELOW = 0.1
COVER_BELOW = 0.5
_NAME = re.compile(r"(?<!^)\b[A-Z][\w'’-]+(?:\s+[A-Z][\w'’-]+)*")


@dataclass
class Flag:
    """A sentence of the answer that its citations do not support."""

    sentence: str  # without its [n] markers
    cited: list[int]  # answer citation numbers; empty: the sentence cites nothing
    why: str
    raw: str = ""  # as it stands in the answer
    contradicted: bool = False  # `cited` holds the passage that states otherwise

    @property
    def kind(self) -> str:
        if self.contradicted:
            return "contradicted"
        return "not found" if self.cited else "no citation"

    def as_dict(self) -> dict[str, object]:
        return {"sentence": self.sentence, "cited": self.cited, "why": self.why, "kind": self.kind}

    def _head(self) -> str:
        where = ", ".join(f"[{n}]" for n in self.cited)
        return f"{self.kind} by {where}" if self.contradicted else f"{self.kind} in {where}"

    @property
    def note(self) -> str:
        head = self._head() if self.cited else self.kind
        return f'{head[0].upper()}{head[1:]}: "{self.sentence}" ({self.why})'

    @property
    def marker(self) -> str:
        return f"({self._head()})" if self.cited else "(no citation)"


def values(text: str) -> set[float]:
    """The numbers a text states, with scale words applied ("$6 million" = 6,000,000)."""
    out = set()
    for m in _VALUE.finditer(text):
        try:
            number = float(m.group(1).replace(",", ""))
        except ValueError:
            continue
        out.add(round(number * _SCALE.get((m.group(2) or m.group(3) or "").lower(), 1.0), 6))
    return out


def lacking(claim: str, evidence: str) -> list[str]:
    """The claim's numbers and names that the evidence does not hold."""
    missing = [f"{v:g}" for v in values(claim) - values(evidence)]
    lowered = evidence.lower()
    for m in _NAME.finditer(claim):
        words = [re.sub(r"[’']s$", "", w) for w in m.group(0).split()]
        words = [w for w in words if len(w) > 2]
        if words and not any(w.lower() in lowered for w in words):
            missing.append(m.group(0))
    return missing


def cover(claim: str, evidence: str, idf: Idf) -> float:
    """The IDF-weighted share of the claim's words that the evidence holds."""
    weights = {t: idf(t) for t in set(terms(claim))}
    return coverage(weights, set(terms(evidence)))[0]


Passage = tuple[int, str]  # a cited text: its citation number, and the text


def sentences_of(cited: list[tuple[int, NodeWithScore]]) -> tuple[list[Passage], list[Passage]]:
    """The sentences of the cited passages, and what the verifier reads of them: those
    sentences and each short passage whole (`verifier.read_whole`)."""
    sentences: list[Passage] = []
    read: list[Passage] = []
    for n, hit in cited:
        content = hit.node.get_content().strip()
        own = split_sentences(content)
        sentences += [(n, s) for s in own]
        read += [(n, s) for s in own]
        if verifier.read_whole(content, own):
            read.append((n, content))
    return sentences, read


def verified(
    claim: str, read: list[Passage], titles: dict[int, str] | None = None
) -> tuple[str, int, str, float]:
    """The verifier's reading of the claim against the cited texts (`sentences_of`; each
    read with its article's title, `titles` by citation number): its label
    (`verifier.LABELS`), the citation number and text that decide it, its confidence;
    NEITHER with number 0 where there is no verifier."""
    v = verifier.verifier()
    if v is None or not read:
        return verifier.NEITHER, 0, "", 0.0
    named = titles or {}
    judged = v.judge(claim, [t for _, t in read], [named.get(n, "") for n, _ in read])
    n, sentence = read[judged.index]
    return judged.label, n, sentence, judged.confidence


REVERSED_COVER = 0.6  # of the claim's words in the sentence that reverses it


def reversed_by(claim: str, sentences: list[Passage], idf: Idf) -> tuple[int, str, str] | None:
    """The cited sentence that states the claim reversed (`compare.reversal`: "younger"
    for "older", no "not" for "did not"), holding REVERSED_COVER of its other words: its
    citation number, the sentence, and how; None where none does."""
    best: tuple[float, int, str, str] | None = None
    for n, sentence in sentences:
        turned = compare.reversal(claim, sentence)
        if turned is None:
            continue
        share = cover(turned.applied(claim), sentence, idf)
        if share >= REVERSED_COVER and (best is None or share > best[0]):
            best = (share, n, sentence, turned.how)
    return None if best is None else best[1:]


def check(
    text: str,
    cited: dict[int, NodeWithScore],
    embedder: BundledEmbedding,
    idf: Idf,
    *,
    verify: bool = True,
) -> list[Flag]:
    """The sentences of `text` (with [n] markers numbered as in `cited`) that their
    citations do not support or contradict. verify=False: as before the claim verifier
    and the reversals, the cut-offs alone (bench/grounding_flags.py compares the two)."""
    model = support.forest()
    flags: list[Flag] = []
    for raw in split_sentences(text):
        numbers = [int(n) for n in _MARK.findall(raw)]
        claim = _MARK.sub("", raw).strip()
        content = terms(claim)
        if len(content) < 3 and not values(claim):
            continue  # "Here is what the articles say:" states nothing to check
        hits = [cited[n] for n in dict.fromkeys(numbers) if n in cited]
        if not hits:
            if values(claim) or len(content) >= 4:
                flags.append(Flag(claim, [], "it cites no passage", raw))
            continue
        evidence = " ".join(h.node.get_content() for h in hits)
        missing = lacking(claim, evidence)
        if missing:
            why = f"the passage does not say {', '.join(missing)}"
            flags.append(Flag(claim, numbers, why, raw))
            continue
        if len(content) < 3:
            continue  # "Then $6 million [2]." says too little for the scorer; its figure held
        own = [(n, cited[n]) for n in dict.fromkeys(numbers) if n in cited]
        sentences, read = sentences_of(own)
        titles = {n: reader.hit_title(hit) for n, hit in own}
        turned = reversed_by(claim, sentences, idf) if verify else None
        if turned is not None:
            n, sentence, how = turned
            flags.append(Flag(claim, [n], f"{how}: {sentence!r}", raw, contradicted=True))
            continue
        label, n, sentence, p = (
            verified(claim, read, titles) if verify else (verifier.NEITHER, 0, "", 0.0)
        )
        if label == verifier.REFUTES:
            why = f"it states {sentence!r}; verifier {p:.2f}"
            flags.append(Flag(claim, [n], why, raw, contradicted=True))
            continue
        if label == verifier.SUPPORTS:
            continue
        vec = embedder.embed_queries([claim])[0]
        rows = support.score(support.candidates(claim, vec, hits, embedder, idf, len(hits)), model)
        best = rows[0].score if rows else 0.0
        if best < CLAIM_BELOW and cover(claim, evidence, idf) < COVER_BELOW:
            flags.append(Flag(claim, numbers, f"support {best:.2f}", raw))
    return flags


def mark(text: str, flags: list[Flag]) -> str:
    """The answer text with each flagged sentence followed by its marker."""
    for flag in flags:
        if flag.raw and flag.raw in text:
            text = text.replace(flag.raw, f"{flag.raw} ⚠️ {flag.marker}", 1)
    return text
