"""Who said what in one article, by rule: quotations and reported speech with their
speakers, read from the article's paragraphs in order.

Direct quotes (kind "direct", verbatim) are the text between quotation marks (“...”
or "...") that a speaker is attributed to: after the quote ("“...,” Miranda said",
"“...,” said Jacobstein", "“...” is the insistence of State Department officials"),
before it in the same sentence ("Marcela Escobar said that “...”", "Mulino has vowed
..., pledging to “close” ...", "he said: “...”"), or "according to X". A quote whose
paragraph ends inside it continues into the next paragraph when that one opens with a
quotation mark. A one- or two-word quote with no speech verb just before it is a scare
quote (the “non-refoulement” rule) and is skipped; a longer quote no one is named for
is left out rather than guessed.

Reported speech (kind "reported") is a clause a sentence marks as someone's: "X
stressed that ...", "X said the ...", "..., X added", "..., said X", "X, who recalled
that ...". Its text is the clause, verbatim.

Speakers: a name is kept as the article gives it in full ("Jocobstein" -> "Eric
Jacobstein", by surname); a pronoun or role ("he", "the official", "the Deputy
Assistant Secretary of State") is resolved to the person the article was last about
(or whose title the role names) and marked `resolved`; a group ("they", "State
Department officials") stays as written. Titles come from the article: "Eric
Jacobstein, deputy assistant secretary ..." and "Homeland Security Secretary Alejandro
Mayorkas".
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from .attribution import (  # fmt: skip
    ACCORDING,
    AFTER,
    BEFORE,
    INSIDE,
    INTRO_WORDS,
    INVERTED,
    RELATIVE,
    SAID_CLAUSE,
    SUBJECT_VERB,
    TAG,
    THAT,
    TOLD,
    TOLD_CLAUSE,
    TOLD_THAT,
    VERBS,
    main_clause,
    quote_marks,
    sentences,
    strip_possessive,
    titled_people,
    word_count,
)
from .speakers import (
    GROUP_PRONOUNS,
    NAME_RUN,
    Said,
    fold,
    is_person_name,
    kind_of,
    same_person,
    split_title,
    surname_match,
)

RULES_VERSION = "3"  # stored with each article's quotes; a change re-extracts them
SCARE_WORDS = 2  # a quote this short needs a speech verb right before it
REPORTED_MIN_WORDS = 5  # words of a reported clause outside the quotes it holds


@dataclass(frozen=True)
class Quote:
    """One quotation or reported statement, with who said it and where."""

    text: str  # verbatim; a quote over several paragraphs has its parts joined by a space
    kind: str  # "direct" or "reported"
    speaker: str  # the person's full name as the article gives it, or a group as written
    said_as: str  # the speaker as this sentence writes it ("Jocobstein", "the official")
    resolved: bool  # the speaker was a pronoun or a role, resolved to a named person
    title: str  # the speaker's title in this article ("" when it gives none)
    paragraphs: tuple[int, ...]  # the paragraph(s) it is from
    parts: tuple[str, ...]  # the verbatim text in each of those paragraphs

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["paragraphs"] = list(self.paragraphs)
        out["parts"] = list(self.parts)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Quote:
        return cls(**(data | {"paragraphs": tuple(data["paragraphs"]),
                              "parts": tuple(data["parts"])}))  # fmt: skip


@dataclass
class ArticleQuotes:
    """What one article says who said: its quotes, and the people it names with titles."""

    quotes: list[Quote] = field(default_factory=list)
    people: dict[str, str] = field(default_factory=dict)  # full name -> title ("" if none)

    def as_dict(self) -> dict[str, Any]:
        return {"quotes": [q.as_dict() for q in self.quotes], "people": self.people}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ArticleQuotes:
        return cls([Quote.from_dict(q) for q in data["quotes"]], dict(data["people"]))


class _Reader:
    """Reads an article's sentences in order, remembering who it is about."""

    def __init__(self, people: dict[str, str], mentioned: set[str]) -> None:
        self.people = people
        self.names = set(people)  # full names the article gives, titled or speaking
        self.mentioned = mentioned  # every name-like run: what a surname alone may be
        self.last = ""  # the person the article was last about

    def full(self, name: str) -> str:
        name = strip_possessive(name)
        if len(name.split()) == 1:
            return surname_match(name, self.names) or surname_match(name, self.mentioned) or name
        return name

    def speaker(self, subject: str) -> tuple[str, str, bool, str] | None:
        """(speaker, as written, resolved, title) for a subject phrase, or None."""
        said = kind_of(subject)
        if said is None or (said.kind == "name" and not self._known_or_speaking(said)):
            return None
        if said.kind == "name":
            name = self.full(said.name)
            if len(name.split()) > 1:
                self.names.add(name)
                if said.title and not self.people.get(name):
                    self.people[name] = said.title
            return name, said.written, False, self.title(name) or said.title
        if said.kind == "group":  # "They" and "they" are one unnamed group
            shown = said.written.lower() if said.written.lower() in GROUP_PRONOUNS else said.written
            return shown, said.written, False, ""
        person = self._role(said) or self.last
        if not person:
            return None if said.kind == "pronoun" else (said.written, said.written, False, "")
        return person, said.written, True, self.title(person)

    def title(self, name: str) -> str:
        """The person's title in this article, under this spelling or another one."""
        if self.people.get(name):
            return self.people[name]
        return next((t for n, t in self.people.items() if t and same_person(n, name)), "")

    def _known_or_speaking(self, said: Said) -> bool:
        return said.name.lower() not in INTRO_WORDS

    def _role(self, said: Said) -> str:
        if said.kind != "role":
            return ""
        role = fold(re.sub(r"^the\s+", "", said.written, flags=re.I))
        found = [n for n, t in self.people.items() if t and role in fold(t)]
        return self.last if self.last in found else (found[0] if len(found) == 1 else "")

    def about(self, sentence: str) -> None:
        """A sentence opening with a known person's name makes them the one it is about."""
        m = re.match(NAME_RUN, main_clause(sentence))
        if not m:
            return
        _, name = split_title(m.group(0))
        name = self.full(name)
        if name in self.names and len(name.split()) > 1:
            self.last = name


def extract(paragraphs: Sequence[tuple[int, str]]) -> ArticleQuotes:
    """Every quote and reported statement of an article, given its paragraphs (number,
    verbatim text) in order."""
    people = titled_people(paragraphs)
    mentioned = {
        m.group(0)
        for _, text in paragraphs
        for m in re.finditer(NAME_RUN, text)
        if 2 <= len(m.group(0).split()) <= 3 and is_person_name(m.group(0))
    }
    reader = _Reader(people, mentioned)
    quotes: list[Quote] = []
    pending: dict[str, Any] | None = None  # a quote running on into the next paragraph
    for index, (number, text) in enumerate(paragraphs):
        spans = quote_marks(text)
        if pending is not None:
            if spans and spans[0][0] == 0:
                start, end = spans.pop(0)
                pending["parts"].append(text[1:end] if end is not None else text[1:])
                pending["paragraphs"].append(number)
                if end is None:
                    continue
                who = _after(text, end, reader)
                quotes.extend(_finish(pending, who))
            else:
                quotes.extend(_finish(pending, None))
            pending = None
        last_direct: tuple[str, str, bool, str] | None = None  # in this paragraph
        for start, sentence in sentences(text):
            stop = start + len(sentence)
            reader.about(sentence)  # "Serrano rejected that view: “...,” she said"
            mine = [(s, e) for s, e in spans if start <= s < stop]
            body = main_clause(sentence)
            subject = SUBJECT_VERB.match(body)
            owner = reader.speaker(subject.group("subj")) if subject else None
            if owner is not None and owner[2] and subject is not None and subject.group("app"):
                # "The company's chief executive, Mirja Lund, said ...": the name it gives
                named = reader.speaker(subject.group("app").strip(" ,"))
                if named is not None and not named[2] and len(named[0].split()) > 1:
                    role = re.sub(r"^the\s+", "", owner[1], flags=re.I)
                    owner = (named[0], named[1], False, named[3] or role)
                    reader.people[named[0]] = owner[3]
            verb_at = (stop - len(body) + subject.end("verb")) if subject and owner else -1
            sentence_start = len(quotes)
            for s, e in mine:
                who = (_after(text, e, reader) if e is not None else None) or _before(
                    text[start:s], reader
                )
                if who is None and owner is not None and verb_at <= s:
                    who = owner
                if who is None:
                    m = ACCORDING.search(sentence)
                    who = reader.speaker(m.group("subj")) if m else None
                if who is None and (e is None or s == start):
                    who = last_direct  # '“A,” she said. “B.”': B is hers too
                part = text[s + 1 : e] if e is not None else text[s + 1 :]
                if e is None and index + 1 < len(paragraphs):
                    pending = {"parts": [part], "paragraphs": [number], "who": who}
                    continue
                if word_count(part) <= SCARE_WORDS and not re.search(
                    rf"\b(?:{VERBS})\b(?:\s+\w+){{0,2}}\s*[,:]?\s*$", text[start:s]
                ):
                    continue
                if who is not None:
                    quotes.append(_quote(part, "direct", who, [number], [part]))
                    last_direct = who
            before = sentence_start
            quotes.extend(_reported(sentence, body, subject, owner, number, reader))
            spoke = [q.speaker for q in quotes[before:] if q.speaker in reader.names]
            if owner is not None and owner[0] in reader.names:
                spoke.append(owner[0])
            if spoke:
                reader.last = spoke[-1]
            else:
                reader.about(sentence)
    if pending is not None:
        quotes.extend(_finish(pending, None))
    return ArticleQuotes(quotes, people)


def _after(text: str, end: int, reader: _Reader) -> tuple[str, str, bool, str] | None:
    """The speaker named right after a closing mark, in the same sentence."""
    inside = text[:end].rstrip()
    if inside.endswith("."):
        return None  # the sentence ended inside the quote
    tail = re.split(r"(?<=[.!?])\s", text[end + 1 :], maxsplit=1)[0]
    for pattern in AFTER:
        m = pattern.match(tail)
        if m:
            who = reader.speaker(m.group("subj"))
            if who is not None:
                return who
    return None


def _before(head: str, reader: _Reader) -> tuple[str, str, bool, str] | None:
    m = BEFORE.search(head)
    return reader.speaker(m.group("subj")) if m else None


def _finish(pending: dict[str, Any], who: tuple[str, str, bool, str] | None) -> list[Quote]:
    who = who or pending["who"]
    if who is None:
        return []
    parts = [p.strip() for p in pending["parts"]]
    return [_quote(" ".join(parts), "direct", who, pending["paragraphs"], parts)]


def _quote(
    text: str, kind: str, who: tuple[str, str, bool, str], numbers: list[int], parts: list[str]
) -> Quote:
    speaker, said_as, resolved, title = who
    clean = [p.strip().rstrip(",").strip() for p in parts]
    return Quote(
        " ".join(clean), kind, speaker, said_as, resolved, title, tuple(numbers), tuple(clean)
    )


def _reported(
    sentence: str,
    body: str,
    subject: re.Match[str] | None,
    owner: tuple[str, str, bool, str] | None,
    number: int,
    reader: _Reader,
) -> list[Quote]:
    """The sentence's reported statement, if it marks one."""
    content = ""
    who = owner
    if subject is not None and owner is not None:
        rest = body[subject.end("verb") :]
        told = subject.group("verb") in TOLD  # "told the council that ..."
        m = re.match(TOLD_THAT if told else THAT, rest)
        if m:
            content = rest[m.end() :]
        elif subject.group("verb") in ("said", "says") and SAID_CLAUSE.match(rest):
            content = rest.lstrip()
        elif told and (m := TOLD_CLAUSE.match(rest)):  # "told the crowd the wing cost ..."
            content = rest[m.end() :]
    if not content and ", who " in sentence:
        m = RELATIVE.search(sentence)
        if m:
            who = reader.speaker(m.group("subj"))
            content = sentence[m.end() :]
    if not content:
        for pattern in (INSIDE, TAG, INVERTED):
            m = pattern.match(body)
            if m:
                who = reader.speaker(m.group("subj"))
                content = m.group("content")
                if who is not None:
                    break
    content = content.strip().rstrip(".").strip()
    if not content or who is None:
        return []
    outside = re.sub(r"“[^”]*”?|\"[^\"]*\"?", " ", content)
    if word_count(outside) < REPORTED_MIN_WORDS:
        return []
    return [_quote(content, "reported", who, [number], [content])]
