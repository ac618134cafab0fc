"""Who "he" or "she" is in a follow-up: the names of the last turns ranked by a small
logistic model fitted on CoQA's conversations (`../shared/data/coqa/`), for the names a
rule cannot judge. Most people in a story are named by one word ("Duane", "Euchre"),
which the name-shaped rule of qa.answering.followup never takes for a person.

Each candidate (a capitalised name in one of the last three turns) is described by its
shape (words in it, an organisation or place word), where it stands (how many turns
back, in a question or an answer, first in its text, how often the turns name it) and
how the article the conversation is about writes it (how often capitalised, whether
more often in lower case, which marks a common word; the "he" and "she" that follow it
there, against the follow-up's pronoun). Names the article rules out (`plausible`: the
other gender's pronouns, a title, a sentence-opening common word) are not ranked. The
model is fitted on the stories of the fit part (split by story: sha256 of its id, first
hex digit even), its threshold chosen there by 5-fold cross-validation for 0.8
precision; the held-out stories are only measured on: `python -m qa.answering.referents`
(make train-referents).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

MODEL_PATH = Path(__file__).parent / "models" / "referents.json"
PRECISION = 0.8
FEATURES = ("one_word", "two_words", "more_words", "last_turn", "two_back", "in_answer",
            "first_in_text", "share", "capitalised_in_article", "mostly_lower_case",
            "organisation_word", "pronoun_agrees", "pronouns_after",
            "opens_sentences")  # fmt: skip
PERSONAL = re.compile(r"\b(he|him|his|she|her)\b", re.I)
# Subject pronouns: "her" and "his" are as often about someone else ("Steve was her brother").
_MASCULINE = re.compile(r"\b(he)\b", re.I)
_FEMININE = re.compile(r"\b(she)\b", re.I)
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"”’']?\s+")
_POSSESSIVE = re.compile(r"[’']s?$")
# English titles that say a name's gender: "Ms. Reyes" is not "his".
_TITLE = re.compile(
    r"(Mr|Mrs|Ms|Miss|Mister|Madam|Sir|Lady|Lord|King|Queen|Prince|Princess|Uncle|Aunt)\b"
)
_FEMININE_TITLES = {"mrs", "ms", "miss", "madam", "lady", "queen", "princess", "aunt"}

# Capitalised phrases, allowing "of", "the", "for", "and" inside: "Ministry of Security of Panama".
_ENTITY = re.compile(r"\b[A-Z][\w’'.-]*(?:\s+(?:(?:of|the|for|and|de|del)\s+)*[A-Z][\w’'.-]*)*")
# Words that make a capitalised phrase an organisation, an office, a place or a document
# rather than a person: English, not any article's.
NOT_PERSON = re.compile(
    r"\b(Ministry|Department|Bureau|Office|Agency|Council|Committee|Commission|Court|House|"
    r"Party|Union|Association|Company|Corporation|Group|Bank|University|School|College|"
    r"Hospital|Police|Army|Navy|Force|Government|Parliament|Senate|Congress|Secretary|"
    r"Security|Declaration|Agreement|Act|Initiative|News|Times|Post|Street|Road|River|"
    r"Mountain|Lake|Sea|Ocean|Island|Gap|Park|City|County|State|States|Republic|Kingdom|"
    r"North|South|East|West|Northern|Southern|Eastern|Western|Day|Monday|Tuesday|Wednesday|"
    r"Thursday|Friday|Saturday|Sunday|January|February|March|April|May|June|July|August|"
    r"September|October|November|December|U\.S\.|US|UK|UN|EU)\b"
)
# Capitalised words that open a sentence but name no one: question words, auxiliaries,
# articles, pronouns, conjunctions, quantifiers, number words and adverbs of time ("He
# walked over ..." names no "He"; "Some examples are ...", "One window was open" no one).
_NOT_NAMES = {"Who", "What", "Which", "How", "When", "Where", "Why", "Whose", "Did", "Does",
                   "Do", "Is", "Are", "Was", "Were", "The", "A", "An", "In", "On", "At", "And",
                   "But", "So", "Or", "If", "Then", "Yes", "No", "Not", "He", "She", "It",
                   "They", "We", "You", "His", "Her", "Its", "Their", "Our", "My", "Your", "Him",
                   "Them", "This", "That", "These", "Those", "There", "Here", "I", "I'm", "I'd",
                   "I've", "I'll", "Can", "Could", "Would", "Should", "Shall", "Must", "Might",
                   "Has", "Have", "Had", "All", "Some", "Any", "Every", "Each", "Other",
                   "Another", "Both", "Many", "Most", "Much", "Few", "Several", "One", "Two",
                   "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine", "Ten", "After",
                   "Before", "Now", "Today", "Yesterday", "Tomorrow", "Once", "Also", "Still",
                   "Later", "Soon", "Even", "Just", "Only", "As", "For", "From", "To", "With",
                   "Without", "By", "Of", "About", "Since", "Because", "While", "Although",
                   "Though", "However", "Meanwhile", "Instead"}  # fmt: skip
# Abbreviations of three letters or more that do not end a sentence before a name.
_ABBREVIATIONS = {"Mrs", "Messrs", "Prof", "Capt", "Gen", "Gov", "Sen", "Rep", "Col", "Sgt",
                  "Rev", "Hon", "Lieut", "Cmdr", "Supt", "Insp", "Det", "Adm", "Maj"}  # fmt: skip
# Before a sentence's first word: an opening quote or bracket ("\"Come with me," he said).
_OPENING = re.compile(r"^[\"“‘'(\[\s]*")
MARKER = re.compile(r"\s*\[\d+\]")


def _sentence_parts(words: list[str]) -> list[list[str]]:
    """A capitalised run cut where a sentence ends inside it ("India. Visiting ..."), not
    after an initial or an abbreviation ("Mr. Brown", "U.S. Navy", "Capt. Vane")."""
    parts: list[list[str]] = [[]]
    for word in words:
        parts[-1].append(word)
        stem = word[:-1]
        if word.endswith(".") and len(stem) >= 3 and "." not in stem and stem not in _ABBREVIATIONS:
            parts.append([])
    return [p for p in parts if p]


def entities(text: str) -> list[str]:
    found = []
    for m in _ENTITY.finditer(MARKER.sub("", text)):
        for words in _sentence_parts(m.group(0).split()):
            while words and _POSSESSIVE.sub("", words[0]) in _NOT_NAMES:
                words = words[1:]
            if not words or (len(words) > 1 and all(w.isupper() for w in words)):
                continue  # none left, or set in capitals throughout: a sign or a heading
            name = _POSSESSIVE.sub("", " ".join(words).rstrip(".,;:"))  # "Jamie Oliver's"
            if name:
                found.append(name)
    return found


@dataclass(frozen=True)
class Candidate:
    name: str
    back: int  # turns back: 1 is the last turn
    in_answer: bool
    first: bool  # the first name of its text


# candidates, which are right, the article, the follow-up
Example = tuple[list[Candidate], list[bool], str, str]


def feminine(question: str) -> bool | None:
    """Whether the first he/him/his/she/her of `question` is feminine (None: there is none)."""
    m = PERSONAL.search(question)
    return None if m is None else m.group(0).lower() in ("she", "her")


@lru_cache(maxsize=8)
def _sentences(text: str) -> tuple[str, ...]:
    """The article's sentences, split once for every name and follow-up asked of it."""
    return tuple(_SENTENCE_END.split(text))


def _pronouns_after(name: str, sentences: Sequence[str]) -> tuple[int, int, int, int]:
    """Over the article's sentences naming `name`: the "he" and "she" after it in that
    sentence and in the next one (how the article goes on to refer to it), how many
    such sentences, and how many of them it opens."""
    he = she = named = opens = 0
    pattern = re.compile(rf"\b{re.escape(name)}\b")
    for i, sentence in enumerate(sentences):
        m = pattern.search(sentence)
        if m is None:
            continue
        named += 1
        opens += m.start() == _OPENING.match(sentence).end()  # type: ignore[union-attr]
        after = sentence[m.end() :] + " " + (sentences[i + 1] if i + 1 < len(sentences) else "")
        he += len(_MASCULINE.findall(after))
        she += len(_FEMININE.findall(after))
    return he, she, named, opens


def plausible(name: str, text: str, question: str) -> bool:
    """Whether `name` can be who the pronoun of `question` is, by how the article writes
    it (or by its title: "Ms. Reyes" is not "his"): not a word it capitalises only to
    open a sentence, and writes in lower case elsewhere ("After", "Five"), and not one
    the article goes on to call by the other gender's pronouns ("Steve ... he" is not
    "she"). True when the article does not say."""
    wants_feminine = feminine(question)
    title = _TITLE.match(name)
    if title and wants_feminine is not None:
        return (title.group(1).lower() in _FEMININE_TITLES) == wants_feminine
    if not text:
        return True
    he, she, named, opens = _pronouns_after(name, _sentences(text))
    lower_case = re.search(rf"\b{re.escape(name.lower())}\b", text)
    if len(name.split()) == 1 and named and opens == named and lower_case:
        return False
    if wants_feminine is None or he + she < 3:
        return True
    return (she if wants_feminine else he) / (he + she) > 0.2


def features(candidates: Sequence[Candidate], text: str, question: str = "") -> list[list[float]]:
    """A row of FEATURES per candidate; `text` is the article the conversation is about,
    `question` the follow-up (whose pronoun's gender the article's own pronouns after a
    name agree with or not: "Lucy ... she", not "Steve ... she")."""
    names = [c.name for c in candidates]
    sentences = _sentences(text)
    wants_feminine = feminine(question)
    rows = []
    for c in candidates:
        words = len(c.name.split())
        capital = len(re.findall(rf"\b{re.escape(c.name)}\b", text))
        lower = len(re.findall(rf"\b{re.escape(c.name.lower())}\b", text))
        he, she, named, opens = _pronouns_after(c.name, sentences)
        agree = she if wants_feminine else he
        rows.append([
            float(words == 1), float(words == 2), float(words >= 3), float(c.back == 1),
            float(c.back == 2), float(c.in_answer), float(c.first),
            names.count(c.name) / len(names), math.log1p(capital), float(lower > capital),
            float(bool(NOT_PERSON.search(c.name))),
            0.5 if wants_feminine is None else (agree + 0.5) / (he + she + 1.0),
            math.log1p(he + she), opens / named if named else 0.0,
        ])  # fmt: skip
    return rows


@dataclass(frozen=True)
class Ranker:
    weights: tuple[float, ...]
    bias: float
    threshold: float

    @classmethod
    def load(cls, path: Path = MODEL_PATH) -> Ranker:
        data = json.loads(path.read_text(encoding="utf-8"))
        assert tuple(data["features"]) == FEATURES, "referents.json is of other features"
        return cls(tuple(data["weights"]), float(data["bias"]), float(data["threshold"]))

    def scores(self, candidates: Sequence[Candidate], text: str, question: str = "") -> list[float]:
        out = []
        for row in features(candidates, text, question):
            z = self.bias + sum(w * x for w, x in zip(self.weights, row, strict=True))
            out.append(1.0 / (1.0 + math.exp(-z)))
        return out

    def pick(self, candidates: Sequence[Candidate], text: str, question: str = "") -> str | None:
        """The name "he"/"she" of `question` most likely refers to, or None when no
        candidate is likely enough."""
        candidates = [c for c in candidates if plausible(c.name, text, question)]
        if not candidates:
            return None
        scores = self.scores(candidates, text, question)
        best = max(range(len(scores)), key=lambda i: (scores[i], -i))
        return candidates[best].name if scores[best] >= self.threshold else None


_RANKER: list[Ranker] = []


def ranker() -> Ranker:
    if not _RANKER:
        _RANKER.append(Ranker.load())
    return _RANKER[0]


# --- fitting -----------------------------------------------------------------------------


def coqa_path() -> Path:
    data = Path(__file__).resolve().parents[3] / "shared" / "data"
    return data / "coqa" / "coqa_dev_noncnn.json"


def held_out(story_id: str) -> bool:
    """The story split shared with bench/coqa_conversations.py."""
    return int(hashlib.sha256(story_id.encode()).hexdigest()[0], 16) % 2 == 1


def write_stories(stories: Sequence[dict[str, object]], folder: Path) -> None:
    """Each story as an article `<id>.txt` of `folder`, titled by its file name; other
    stories a larger run left there are removed (they are not this run's index)."""
    folder.mkdir(parents=True, exist_ok=True)
    chosen = {f"{s['id']}.txt" for s in stories}
    for stale in folder.glob("*.txt"):
        if stale.name not in chosen:
            stale.unlink()
    for s in stories:
        title = str(s.get("filename") or s["id"])
        (folder / f"{s['id']}.txt").write_text(
            f"---\ntitle: {title}\n---\n\n{s['story']}\n", encoding="utf-8"
        )


_ARTICLES = re.compile(r"\b(a|an|the)\b")


def coqa_norm(text: str) -> str:
    """CoQA's answers compared as bench/coqa_conversations.py does: lower case, without
    [n] markers, punctuation and articles."""
    text = re.sub(r"\[\d+\]", " ", text.lower())
    text = re.sub(r"[^\w\s]", " ", text)
    return " ".join(_ARTICLES.sub(" ", text).split())


def coqa_answer_in(gold: str, text: str) -> bool:
    """The gold answer, normalised, is inside `text`."""
    g = coqa_norm(gold)
    return bool(g) and f" {g} " in f" {coqa_norm(text)} "


def coqa_scored(gold: str) -> bool:
    """Answers an extractive answerer can quote: not "yes", "no" or "unknown"."""
    return coqa_norm(gold) not in ("yes", "no", "unknown", "")


def candidates_of(turns: Sequence[tuple[str, str]]) -> list[Candidate]:
    """The names of the last three (question, answer) turns, the last first; not those
    an organisation, office or place word marks ("United States"): "he" is no one of them."""
    out = []
    for back, (question, answer) in enumerate(reversed(turns[-3:]), start=1):
        for in_answer, text in ((True, answer), (False, question)):
            names = [n for n in entities(text) if n != "I" and not NOT_PERSON.search(n)]
            for i, name in enumerate(names):
                out.append(Candidate(name, back, in_answer, i == 0))
    return out


def examples(stories: Sequence[dict[str, object]]) -> list[Example]:
    """Follow-ups with he/she/him/his/her, their candidates from the earlier turns (with
    CoQA's gold answers), and which candidates the turn's own evidence names."""
    out = []
    for s in stories:
        questions = [q["input_text"] for q in s["questions"]]  # type: ignore[attr-defined]
        answers = s["answers"]
        for t in range(1, len(questions)):
            if not PERSONAL.search(questions[t]):
                continue
            turns = [(questions[k], answers[k]["input_text"]) for k in range(t)]  # type: ignore[index]
            cands = candidates_of(turns)
            said = (answers[t]["span_text"] + " " + answers[t]["input_text"]).lower()  # type: ignore[index]
            labels = [c.name.lower() in said for c in cands]
            if cands and any(labels):
                out.append((cands, labels, str(s["story"]), questions[t]))
    return out


def _plausible(row: Example) -> Example:
    """The example with only the candidates `plausible` lets `Ranker.pick` see."""
    cands, labels, text, question = row
    kept = [i for i, c in enumerate(cands) if plausible(c.name, text, question)]
    return [cands[i] for i in kept], [labels[i] for i in kept], text, question


def _fit(rows: list[Example]) -> tuple[list[float], float]:
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    rows = [_plausible(r) for r in rows]
    x = np.array([r for cands, _, text, q in rows for r in features(cands, text, q)])
    y = np.array([label for _, labels, _, _ in rows for label in labels])
    model = LogisticRegression(C=1.0, max_iter=2000).fit(x, y)
    return [float(w) for w in model.coef_[0]], float(model.intercept_[0])


def _picks(rows: list[Example], r: Ranker) -> list[tuple[float, bool]]:
    out = []
    for cands, labels, text, question in map(_plausible, rows):
        if not cands:  # none left: nothing picked
            out.append((0.0, False))
            continue
        scores = r.scores(cands, text, question)
        best = max(range(len(scores)), key=lambda i: (scores[i], -i))
        out.append((scores[best], labels[best]))
    return out


def fit(stories: Sequence[dict[str, object]]) -> dict[str, object]:
    """Weights on every fit example; the threshold from 5-fold cross-validation: the
    lowest at which the picks of the held-back folds are right PRECISION of the time."""
    rows = examples(stories)
    out_of_fold: list[tuple[float, bool]] = []
    for fold in range(5):
        train = [r for i, r in enumerate(rows) if i % 5 != fold]
        weights, bias = _fit(train)
        held_back = [r for i, r in enumerate(rows) if i % 5 == fold]
        out_of_fold += _picks(held_back, Ranker(tuple(weights), bias, 0.0))
    threshold = 1.0
    for t in (x / 100 for x in range(5, 96)):
        chosen = [right for score, right in out_of_fold if score >= t]
        if chosen and sum(chosen) / len(chosen) >= PRECISION:
            threshold = t
            break
    weights, bias = _fit(rows)
    return {"features": list(FEATURES), "weights": weights, "bias": bias,
            "threshold": threshold, "fit_examples": len(rows)}  # fmt: skip


def measure(model: Ranker, stories: Sequence[dict[str, object]]) -> dict[str, float]:
    picks = _picks(examples(stories), model)
    taken = [right for score, right in picks if score >= model.threshold]
    return {"examples": len(picks), "picked": len(taken) / max(len(picks), 1),
            "right_of_picked": sum(taken) / max(len(taken), 1),
            "right_of_all": sum(taken) / max(len(picks), 1)}  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m qa.answering.referents", description=__doc__)
    parser.add_argument("--out", type=Path, default=MODEL_PATH)
    args = parser.parse_args(argv)
    stories = json.loads(coqa_path().read_text(encoding="utf-8"))["data"]
    model = fit([s for s in stories if not held_out(s["id"])])
    model["held_out"] = measure(Ranker(tuple(model["weights"]), float(model["bias"]),  # type: ignore[arg-type]
                                       float(model["threshold"])),  # type: ignore[arg-type]
                                [s for s in stories if held_out(s["id"])])  # fmt: skip
    args.out.write_text(json.dumps(model, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(model, indent=1), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
