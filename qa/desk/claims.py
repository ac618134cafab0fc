"""Check a claim against the articles: supported, contradicted, or not in the articles,
with the sentences for and against, each cited.

Offline, with the answerer's own parts (no second pipeline): the claim is retrieved as a
question is (hybrid retrieval, in the scope asked for: `qa.search.scope`); each figure, date and
name in it (a slot, `qa.desk.claim_slots`) becomes the question that asks for it ("The US
gave Panama how much for deportation flights?"), answered by the answerer's scorer and
span picker. When the answering sentence is about the claim's subject and states a
different value of the same kind, the slot is contradicted. The whole claim is supported
by a sentence (or two adjacent ones) that holds its figures, names and most of its other
words. With a model configured, `qa.desk.claims_model` asks it and checks its verdict against
the passages it cites.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from llama_index.core.schema import NodeWithScore

from ..answering import compare, grounding, verifier
from ..answering.answer import (
    Idf,
    Numbering,
    check_question,
    idf_for,
    related_citations,
)
from ..answering.extractive import SCORERS, Asked, Pick
from ..answering.llm import llm_for
from ..answering.qtype import typed_spans
from ..answering.reader import hit_title
from ..reading.text import split_sentences, terms
from ..search.scope import Resolved, Scope, resolve, scoped_retriever
from ..settings import Settings
from . import claim_gate
from .claim_said import misattributed, quoted_in
from .claim_slots import (
    DATE_WORD,
    YEAR,
    Slot,
    amounts,
    apart,
    as_claimed,
    bound,
    bound_held,
    bound_text,
    counted_unit,
    figures_in,
    holds,
    name_words,
    names_in,
    relation_held,
    same,
    same_place,
    slots,
    swapped_roles,
    without,
)
from .claims_model import judge
from .verdict import ABSENT, CONTRADICTED, SUPPORTED, Reader, Verdict

# A sentence (or two adjacent ones) supports the claim when it holds every figure and
# name of the claim and at least SUPPORT_COVER of its other words (IDF-weighted), or
# SUPPORT_SCORE by the support scorer. Set by hand on the "tuned" claims of
# eval/claims.jsonl (bench/claims_accuracy.py).
SUPPORT_COVER = 0.6
SUPPORT_SCORE = 0.5
# A slot's answer is about the claim's subject when its paragraph holds the claim's
# other names and its sentence with its neighbours SUBJECT_COVER of the claim's other
# words.
SUBJECT_COVER = 0.4
CANDIDATES = 12  # sentences, best first, tried as support
SURE = 0.8  # the answerer's score for its answer to a slot's question


# --- the offline check ---------------------------------------------------------------


def _context_of(hit: NodeWithScore, sentence: str) -> tuple[str, str]:
    """The sentence with its neighbours, and the paragraph with its title."""
    text = hit.node.get_content()
    sentences = split_sentences(text)
    i = sentences.index(sentence) if sentence in sentences else -1
    near = " ".join(sentences[max(i - 1, 0) : i + 2]) if i >= 0 else sentence
    title = str(hit.node.metadata.get("title", ""))
    return near, f"{title}\n{text}"


def _about(rest: str, names: str, pick: Pick, idf: Idf) -> bool:
    """Whether the answering sentence is about the claim's subject: the claim's names in
    its paragraph, SUBJECT_COVER of its other words near it, or half that where the
    answerer is sure of it (a paraphrase: "24 deaths" for "people died")."""
    near, paragraph = _context_of(pick.hit, pick.sentence)
    if grounding.lacking(names, paragraph):
        return False
    cover = grounding.cover(rest, near, idf)
    return cover >= SUBJECT_COVER or (pick.score >= SURE and cover >= SUBJECT_COVER / 2)


def _settle(slot: Slot, figure_slots: list[Slot], r: Reader) -> None:
    """Answer the slot's question; compare what its sentence states with the claim."""
    vec = r.embedder.embed_queries([slot.question])[0]
    hits = r.retrieve(slot.question, vec) or r.hits
    # One question (not split into parts: "X, Y and how many others ...?" is one). A slot's
    # question is the claim with a wh-word in the slot's place ("The US gave Panama how much
    # for deportation flights?"), a form the reading model never read: the trees answer it.
    # With the reader trained whole it left the seed's "$8 million for deportation flights"
    # unanswered; over eval/claims.jsonl's 206 claims, reader 186 right and 4 costly
    # errors, trees 185 and 3 (the gate refitted on the trees' readings).
    scorer = "learned" if r.settings.scorer == "reader" else r.settings.scorer
    picks = SCORERS[scorer](Asked(slot.question, vec, hits, r.embedder, r.idf)).picks
    if not picks:
        return
    pick = picks[0]
    others = [f for f in figure_slots if f.text != slot.text and amounts(f.text)]
    # The claim's other words and names: not its figures with their comparisons ("more
    # than" of "more than 20", nor "over" of another figure's "over 370").
    rest = without(r.claim, [bound_text(r.claim, f) for f in [slot, *others]])
    if not _about(rest, rest, pick, r.idf):
        return
    if slot.kind == "name" and not all(
        same("name", n.text, pick.sentence) for n in names_in(rest, r.common)
    ):
        return  # a name changed: the rest of the claim's names are in the same sentence
    stated = [pick.short] if pick.short else []
    if slot.kind == "number" and typed_spans(pick.short, "money", set()):
        stated = []  # an amount of money is not a count
    if not stated:
        spans = (
            names_in(pick.sentence, r.common)
            if slot.kind == "name"
            else figures_in(pick.sentence, slot.kind)
        )
        unit = counted_unit(r.claim[r.claim.find(slot.text) + len(slot.text) :])
        counted = [s for s in spans if unit and counted_unit(pick.sentence[s.end :]) == unit]
        stated = [
            s.text for s in (counted if slot.kind in ("money", "number") and counted else spans)
        ]
    if slot.kind == "name":
        # Not a name the claim also gives, nor a date written with a capital.
        claimed = name_words(without(r.claim, [slot.text]))
        stated = [
            s
            for s in stated
            if not name_words(s) & claimed
            and not DATE_WORD.search(s)
            and same_place(r.claim, slot.text, pick.sentence, s)
        ]
    if slot.kind in ("money", "number") and not YEAR.fullmatch(slot.text):
        stated = [s for s in stated if not YEAR.fullmatch(s.strip())]  # a year is not a count
    b = bound(r.claim, slot)
    if b is not None:
        # "more than 20" is held by 24 and ruled out by 18, not compared for equality.
        held = [(bound_held(b, pick.sentence, s), s) for s in stated]
        # Held by the stated figure nearest the claim's ("over 1.81 meters" against
        # "6'0 (1.80 m)" is about 1.80, not 6).
        nearest = min(held, key=lambda h: apart(b.value, amounts(h[1])), default=None)
        if nearest is not None and nearest[0] is True:
            slot.status, slot.stated, slot.pick = SUPPORTED, nearest[1], pick
        elif held and all(h is False for h, _ in held) and (pick.short or len(held) == 1):
            slot.status, slot.stated, slot.pick = CONTRADICTED, held[0][1], pick
        return
    verdicts = [(same(slot.kind, slot.text, s), s) for s in stated]
    if any(v is True for v, _ in verdicts) or same(slot.kind, slot.text, pick.sentence) is True:
        slot.status, slot.stated, slot.pick = SUPPORTED, slot.text, pick
        return
    if slot.kind == "name" and same("name", slot.text, pick.sentence):
        return  # the sentence names it too: another name was picked, not a different one
    differing = [s for v, s in verdicts if v is False]
    meta = pick.hit.node.metadata
    where = (str(meta.get("source", "")), int(meta.get("paragraph", 0)))
    if slot.kind == "name" and quoted_in(slot.text, *where, r.settings):
        return  # the paragraph quotes that very person, named by a role or a pronoun
    if slot.kind == "name" and not relation_held(r.claim, slot.text, pick.sentence):
        return  # another name in another relation ("operates in", not "based in")
    if differing and (pick.short or len(differing) == 1):
        slot.status, slot.stated, slot.pick = CONTRADICTED, differing[0], pick


def _verbatim(hit: NodeWithScore, first: str, second: str) -> str:
    """Two adjacent sentences as the paragraph writes them, from the first to the second."""
    text = hit.node.get_content()
    start = text.find(first)
    end = text.find(second, start + len(first))
    return text[start : end + len(second)] if start >= 0 and end >= 0 else first


Supports = list[tuple[NodeWithScore, str, float]]


def _supporting(
    r: Reader, found: list[Slot]
) -> tuple[Supports, list[tuple[NodeWithScore, str, str]]]:
    """Sentences (or two adjacent ones) that state the whole claim, best first: its
    names in the sentence itself, its figures and dates there or in the one beside it,
    and most of its other words. Apart, those that would, but reverse it
    (`compare.reversal`: "the younger brother" for "the older brother", "approved" for
    "did not approve"), each with how."""
    rows = r.scored
    figures = [s for s in found if s.kind != "name"]
    names = [s.text for s in found if s.kind == "name"]
    # The claim's other words: not its figures, nor their comparisons ("lower than" of
    # "lower than 7/10", which a sentence stating 6/10 does not write).
    rest = without(r.claim, [bound_text(r.claim, f) for f in figures])
    words = without(rest, names)  # names are checked apart: they must not make up the cover
    out: Supports = []
    reversed_: list[tuple[NodeWithScore, str, str]] = []
    for c in rows[:CANDIDATES]:
        # The claim as this sentence would state it if it reverses it: the checks below
        # then find the reversed claim stated, and the claim contradicted.
        turned = compare.reversal(words, c.sentence)
        words_c = turned.applied(words) if turned else words
        rarest = max(terms(words_c), key=r.idf, default="")
        if grounding.lacking(rest, c.hit.node.get_content()):
            continue
        _, paragraph = _context_of(c.hit, c.sentence)
        if any(not same("name", n, paragraph) for n in names):
            continue
        if names and not any(same("name", n, c.sentence) for n in names):
            continue
        if c.score < SUPPORT_SCORE and grounding.cover(words_c, c.sentence, r.idf) < SUBJECT_COVER:
            continue  # the sentence with the names must say much of it itself
        sentences = split_sentences(c.hit.node.get_content())
        options = [c.sentence]
        if c.index + 1 < len(sentences):
            options.append(_verbatim(c.hit, c.sentence, sentences[c.index + 1]))
        if c.index > 0:
            options.append(_verbatim(c.hit, sentences[c.index - 1], c.sentence))
        for text in options:
            if any(not holds(r.claim, f, text) for f in figures):
                continue
            # One sentence holding all the claim's figures and names needs fewer of its
            # other words than two.
            enough = SUBJECT_COVER if text == c.sentence else SUPPORT_COVER
            if rarest and rarest not in terms(text):
                continue  # the claim's most specific word must be there ("embassy")
            if swapped_roles(r.claim, names, text):
                continue  # who does what to whom, the other way round
            if c.score >= SUPPORT_SCORE or grounding.cover(words_c, text, r.idf) >= enough:
                if turned:
                    reversed_.append((c.hit, text, turned.how))
                else:
                    out.append((c.hit, text, c.score))
                break
    return out, reversed_


# --- the learned verdict ----------------------------------------------------------------

VERIFIED = 8  # sentences, best first by the support scorer, read by the verifier


def _verifier_texts(r: Reader) -> list[tuple[NodeWithScore, str, float]]:
    """What the verifier reads: the claim's best sentences by the support scorer, and
    each short paragraph among theirs whole (a claim may join two of its sentences)."""
    rows = r.scored[:VERIFIED]
    out: list[tuple[NodeWithScore, str, float]] = [(c.hit, c.sentence, c.score) for c in rows]
    seen: set[str] = set()
    for c in rows:
        text = c.hit.node.get_content().strip()
        if c.hit.node.node_id in seen:
            continue
        seen.add(c.hit.node.node_id)
        if verifier.read_whole(text, split_sentences(text)):
            out.append((c.hit, text, c.score))
    return out


Texts = list[tuple[NodeWithScore, str, float]]


def read_learned(r: Reader, rules: Verdict) -> tuple[claim_gate.Read, Texts] | None:
    """The verifier's reading of the claim: its probabilities on the texts it read, its
    own verdict, and its probabilities on the sentence the rules cite; with the texts,
    the deciding one first. None where there is no verifier."""
    v = verifier.verifier()
    if v is None:
        return None
    texts = _verifier_texts(r)
    cited = rules.citations[0].sentence if rules.citations else ""
    sentences = [t for _, t, _ in texts] + ([cited] if cited else [])
    titles = [hit_title(hit) for hit, _, _ in texts]
    titles += [rules.citations[0].title] if cited else []
    probs = v.probs(r.claim, sentences, titles)
    own = probs[: len(texts)]
    judged = verifier.aggregate(own, v.threshold)
    label = {verifier.SUPPORTS: SUPPORTED, verifier.REFUTES: CONTRADICTED}.get(judged.label, ABSENT)
    at_cited = probs[-1] if cited else (own[judged.index] if len(own) else np.array([0, 0, 1.0]))
    order = [judged.index] + sorted(
        (k for k in range(len(texts)) if k != judged.index), key=lambda k: float(own[k, 2])
    )
    if not texts:
        return claim_gate.Read(own, label, np.asarray(at_cited, np.float64)), []
    read = claim_gate.Read(own[order], label, np.asarray(at_cited, np.float64))
    return read, [texts[k] for k in order]


def check_learned(r: Reader) -> tuple[str, float, Texts]:
    """The verifier's verdict alone (SUPPORTED, CONTRADICTED or ABSENT), its confidence and
    the texts it read, the deciding one first; ABSENT with no texts where there is no
    verifier."""
    got = read_learned(r, Verdict(r.claim, ABSENT))
    if got is None or not got[1]:
        return ABSENT, 0.0, []
    read, texts = got
    return read.label, float(read.probs[:, :2].max()), texts


def _gated(r: Reader, rules: Verdict, read: claim_gate.Read, texts: Texts) -> Verdict:
    """The verdict the gate decides over the rules' and the verifier's readings."""
    g = claim_gate.gate()
    assert g is not None
    caution = r.settings.claim_caution
    x = claim_gate.features(rules, read)
    label, p, likelier = g.decide(x, rules.verdict, caution)
    rules.confidence = p
    if label == rules.verdict or (label != ABSENT and not texts):
        return rules  # (a verdict of the gate's own needs a text the verifier read)
    numbers = Numbering()
    out = Verdict(r.claim, label, slots=rules.slots, notes=list(rules.notes), confidence=p)
    if label == ABSENT:
        out.explanation = "The articles neither clearly state nor contradict this claim."
        out.related = rules.citations
        sure = g.probs(x)[0][claim_gate.CLASSES.index(likelier)]
        out.notes.append(
            f"The rules read the claim as {rules.verdict} ({rules.explanation}), but the "
            f"checker is not sure enough of it: {likelier} at {sure:.2f}, under "
            f"{g.threshold_for(likelier, caution):.2f} (QA_CLAIM_CAUTION={caution}). The "
            "sentences the rules rested on are listed as related."
        )
        return out
    column = 0 if label == SUPPORTED else 1
    k = int(np.argmax(read.probs[:, column]))
    hit, text, score = texts[k]
    c = numbers.cite(hit, score, text)
    (out.supporting if label == SUPPORTED else out.contradicting).append(c)
    word = "states" if label == SUPPORTED else "contradicts"
    out.explanation = f"The claim verifier reads [{c.n}] as the passage that {word} this."
    out.related = rules.citations
    out.notes.append(
        f"The rules read the claim as {rules.verdict}; the verdict is the checker's "
        f"({p:.2f}), from the claim verifier's reading of [{c.n}] "
        f"({float(read.probs[k, column]):.2f})."
    )
    return out


def _combined(r: Reader, rules: Verdict) -> Verdict:
    """The verdict from the rules' and the verifier's readings (`qa.desk.claim_gate`);
    where the gate is missing, the rules' verdict with the verifier's confidence and a
    note where it confidently reads the claim otherwise; where the verifier is missing,
    the rules' alone."""
    got = read_learned(r, rules)
    if got is None:
        return rules
    read, texts = got
    if claim_gate.gate() is not None:
        return _gated(r, rules, read, texts)
    label, confidence, texts = check_learned(r)
    rules.confidence = confidence
    if texts and label != ABSENT and label != rules.verdict:
        _, text, _ = texts[0]
        rules.notes.append(
            f"The claim verifier reads the claim as {label} ({confidence:.2f}) from "
            f"{text!r}; the verdict is the rules' (figures, dates and names compared)."
        )
    return rules


def check_offline(r: Reader) -> Verdict:
    """The verdict from the articles alone: the rules (`check_rules`) and the claim
    verifier read the claim, and the gate (`qa.desk.claim_gate`) decides between them
    with a confidence, "not in the articles" where it is low."""
    return _combined(r, check_rules(r))


def check_rules(r: Reader) -> Verdict:
    """The verdict from the articles alone, by the rules: each figure, date and name
    compared, the whole claim's words covered."""
    found = slots(r.claim, r.common)
    figures = [s for s in found if s.kind != "name"]  # a name may hold a number word
    for slot in found:
        _settle(slot, figures, r)
    named = [s.text for s in found if s.kind == "name"]
    support_for, reversing = _supporting(r, found)
    # A sentence that states the whole claim contradicts none of it (a name slot's
    # question may have picked another name from it).
    against = [
        s
        for s in found
        if s.status == CONTRADICTED
        and s.pick is not None
        and not any(s.pick.sentence in text for _, text, _ in support_for)
    ]
    numbers = Numbering()
    verdict = Verdict(r.claim, ABSENT, slots=found)
    parts = []
    for s in against:
        assert s.pick is not None
        c = numbers.cite(s.pick.hit, s.pick.score, s.pick.sentence)
        if all(o.sentence != c.sentence for o in verdict.contradicting):
            verdict.contradicting.append(c)
        parts.append(f"{s.stated}, not {as_claimed(r.claim, s)} [{c.n}]")
    if support_for:
        hit, text, score = support_for[0]
        verdict.supporting.append(numbers.cite(hit, score, text))
    elif not against and not reversing:
        # The answerer, asked for the claim's figure, date or name, gave the claim's own
        # from a sentence about the same subject, whose paragraph holds all the claim's
        # figures and names.
        for s in found:
            if s.status == SUPPORTED and s.pick is not None:
                _, paragraph = _context_of(s.pick.hit, s.pick.sentence)
                figures = [f for f in found if f.kind != "name"]
                if (
                    all(same("name", n, paragraph) for n in named)
                    and all(holds(r.claim, f, paragraph) for f in figures)
                    and not swapped_roles(r.claim, named, s.pick.sentence)
                ):
                    verdict.supporting.append(
                        numbers.cite(s.pick.hit, s.pick.score, s.pick.sentence)
                    )
                    break
    paths = {str(h.node.metadata.get("path", "")) for h in r.hits}
    wrong = None if against else misattributed(r.claim, found, paths, r.settings, r.idf)
    if wrong is not None:
        verdict.verdict = CONTRADICTED
        verdict.contradicting, verdict.supporting = [wrong.citation], []
        verdict.explanation = (
            f"The articles attribute this to {wrong.speaker}, not {wrong.claimed} [1]."
        )
    elif against:
        verdict.verdict = CONTRADICTED
        verdict.explanation = f"The articles state {'; '.join(parts)}."
        if verdict.supporting:
            verdict.notes.append(
                "The articles also hold a sentence with the claim's figures and names; "
                "it is listed as supporting."
            )
    elif reversing and not verdict.supporting:
        hit, text, how = reversing[0]
        c = numbers.cite(hit, 0.0, text)
        verdict.verdict = CONTRADICTED
        verdict.contradicting.append(c)
        verdict.explanation = f"The articles state the claim reversed: {how} [{c.n}]."
    elif verdict.supporting:
        verdict.verdict = SUPPORTED
        marks = "".join(f"[{c.n}]" for c in verdict.supporting)
        verdict.explanation = f"The articles state this {marks}."
    else:
        verdict.explanation = "The articles neither state nor contradict this claim."
    return verdict


def reader(claim: str, settings: Settings, scope: Resolved | None = None) -> Reader:
    """The claim retrieved as a question is (hybrid retrieval, restricted to `scope`),
    with the answerer's parts."""
    retriever = scoped_retriever(settings, scope, mode=settings.retrieval)
    q_vec = retriever.embedder.embed_queries([claim])[0]
    hits = retriever.retrieve_vec(claim, q_vec)
    return Reader(
        claim,
        q_vec,
        hits,
        retriever.embedder,
        idf_for(retriever),
        retriever.retrieve_vec,
        settings,
    )


def check(
    claim: str,
    settings: Settings | None = None,
    *,
    sources: Sequence[str] | str | None = None,
    since: str | None = None,
    until: str | None = None,
    site: str | None = None,
) -> Verdict:
    """Whether the articles support the claim, contradict it, or do not address it; the
    sentences for and against, each cited. With a model configured (QA_LLM=openai) the
    model judges and its verdict is checked against the passages it cites.

    sources, since, until and site restrict the articles it is checked against, as for
    `ask` (`qa.search.scope`); the verdict's `scope` and a note say which were used."""
    settings = settings or Settings.from_env()
    scope = Scope.of(sources, since, until, site)  # checked before anything else runs
    claim = check_question(claim, noun="claim")
    resolved = resolve(scope, settings)
    r = reader(claim, settings, resolved)
    offline = check_offline(r)
    if not offline.citations and not offline.related:
        offline.related = related_citations(r.hits)
    llm = llm_for(settings)
    verdict = offline
    if llm is not None:
        verdict = judge(r, offline, llm)
    if resolved is not None:
        verdict.scope = resolved.as_dict()
        verdict.notes.append(resolved.describe())
    return verdict
