"""Offline follow-up rewriting: make "he", "it", "that ministry", "How old?" stand on their
own, from the conversation's earlier questions and answers.

No model is needed for most of it: the referent of a pronoun in a short follow-up is
almost always a name in the last few turns, and most often the short answer of the last
one ("Who was named MVP?" -> "LeBron James" -> "How many points did he score?"). A bare
question ("Why?", "How old?", "Out of how many?") asks again about what the last turn was
about. We replace what we can resolve and append the earlier turn's words for what we
cannot, so retrieval still sees the topic.

Whether a name is a person is, where the caller knows it, the index's own knowledge (the
people the articles quote: `is_person`); otherwise the shape of the name, with the words
that make a name an organisation or an office. With the article's text, the names are
ranked by qa.answering.referents, which also reads the pronouns the article uses after
each name ("she" is not a Steve the article calls "he"). Only the pronouns of the first
one's gender are replaced, and a follow-up that names who its pronoun can be is left as
asked. The earlier question carried along as context is that question as it was itself
understood.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from .referents import (
    MARKER,
    NOT_PERSON,
    PERSONAL,
    candidates_of,
    entities,
    feminine,
    plausible,
    ranker,
)

Message = dict[str, str]

TURNS = 3  # question/answer pairs looked back over for a referent
_PERSONAL = {"he": "", "him": "", "she": "", "his": "'s", "her": ""}
_THING = {"it", "its", "they", "them", "their", "this", "that", "these", "those", "there"}
# The noun after it is lower-case: "the Inga" is no rewrite of "has that Inga thinks".
_DEMONSTRATIVE = re.compile(r"\b((?i:that|this|these|those|the same))\s+([a-z][a-z-]+)")
_FOLLOW_START = re.compile(r"^\s*(and|also|what about|how about|and what about|what else)\b", re.I)
# A question that is only a question word or phrase: "Why?", "How old?", "Out of how
# many?", "With what vehicle?", "Where to?", "Anything else?".
_BARE = re.compile(
    r"^\s*(?:(?:and|so|but)\s+)?(?:(?:out\s+of|with|from|for|to|in|on|at|by|since|until)\s+)?"
    r"(?:who|whom|whose|what|which|when|where|why|how)(?:\s+\w+){0,2}?\s*\??\s*$"
    r"|^\s*(?:anything|what)\s+else\s*\??\s*$",
    re.IGNORECASE,
)
ABSTAINED = "The articles don't"  # how an abstention opens (qa.answering.answer, qa.desk.said)
# Not "Who told her that?": in CoQA's one such question, who told her is in the sentence.
_WHO_SAID = re.compile(
    r"^\s*(?:and\s+|but\s+|so\s+)?(?:"
    r"who\s+(?:said|says|say|stated|claimed|claims)(?:\s+(?:that|so|this|it))?"
    r"|who\s+(?:made|makes)\s+(?:that|this|the)\s+(?:claim|statement|remark|comment)"
    r"|who\s+is\s+the\s+source(?:\s+of\s+(?:that|this|it))?"
    r"|whose\s+(?:words|claim|statement)\s+(?:is|are|was|were)\s+(?:that|this|it|those|these)"
    r"|according\s+to\s+(?:whom|who)|says\s+who|who\s+says\s+so"
    r")\s*[?.!]*\s*$",
    re.IGNORECASE,
)
# A whole sentence quoted as the answer ends as one ("One window was open.", "You buy books,
# don't you?"); a short answer is a name or a phrase ("LeBron James").
_SENTENCE = re.compile(r"[.!?][\"”’']?$")
_VERB = re.compile(
    r"\b(is|are|was|were|did|does|do|has|have|had|will|would|can|could|said|says|went|got)\b",
    re.I,
)


def _looks_like_person(name: str) -> bool:
    return 2 <= len(name.split()) <= 4 and not NOT_PERSON.search(name)


def turns(history: Sequence[Message]) -> list[tuple[str, str]]:
    """(question, answer) pairs, oldest first; an answer without its [n] markers."""
    pairs: list[tuple[str, str]] = []
    question = ""
    for m in history:
        if m.get("role") == "user":
            if question:
                pairs.append((question, ""))
            question = str(m.get("content", ""))
        elif m.get("role") == "assistant":
            pairs.append((question, MARKER.sub("", str(m.get("content", "")))))
            question = ""
    if question:
        pairs.append((question, ""))
    return pairs


def short_answer(answer: str) -> str:
    """The asked fact an answer opens with (`LeBron James [1]. "..."`), "" when none."""
    if not answer or answer.startswith(ABSTAINED):
        return ""
    parts = re.split(r'\.\s+"|\s*;\s+', answer, maxsplit=1)
    head = parts[0].strip()
    if len(parts) == 1 and _SENTENCE.search(head) and len(head.split()) > 2:
        return ""  # a quoted sentence alone ("One window was open."): no fact singled out
    head = head.rstrip(".")
    return head if head and len(head.split()) <= 6 and not head.startswith('"') else ""


def _flat(standalone: str, words: int = 24) -> str:
    """A condensed question's words with its "(context: ...)" opened, at most `words`."""
    text = standalone.replace("(context:", " ").replace(")", " ")
    return " ".join(text.replace("?", " ").split()[:words])


def needs_context(question: str) -> bool:
    words = re.findall(r"[A-Za-z’']+", question.lower())
    return bool(
        _FOLLOW_START.search(question)
        or is_bare(question)
        or any(w in _PERSONAL or w in _THING for w in words)
    )


def is_bare(question: str) -> bool:
    """A question word or phrase alone ("Why?", "How old?", "With what vehicle?")."""
    return bool(_BARE.match(question)) and not _VERB.search(question)


def asks_who_said(question: str) -> bool:
    """A follow-up asking whom what was just quoted is attributed to: "Who said that?",
    "According to whom?", "Who made that claim?"."""
    return bool(_WHO_SAID.match(question))


def condense(
    question: str,
    history: Sequence[Message] | None,
    is_person: Callable[[str], bool] | None = None,
    in_focus: Callable[[str], bool] | None = None,
    article: str = "",
) -> str:
    """A standalone version of `question` given earlier turns (unchanged if it already
    stands alone or there is no history). `is_person`: whether a name is a person, where
    the caller knows (the index's quoted people); `in_focus`: whether the article the
    conversation is about names it (a name only an answer that strayed gave is not
    who "he" is); `article`: that article's text, for the learned ranker
    (qa.answering.referents), which judges the one-word names the rule cannot."""
    # A turn that asked who said the last answer carries no topic of its own.
    pairs = [p for p in turns(history or []) if not asks_who_said(p[0])]
    return _condense(question, pairs, is_person, in_focus, article, 0)


def _condense(
    question: str,
    pairs: Sequence[tuple[str, str]],
    is_person: Callable[[str], bool] | None,
    in_focus: Callable[[str], bool] | None,
    article: str,
    depth: int,
) -> str:
    """condense() over (question, answer) pairs; `depth`: how many turns back this is."""
    if not pairs or not needs_context(question):
        return question
    recent = pairs[-TURNS:]
    prev_q, prev_a = recent[-1]
    short = short_answer(prev_a)
    # The last question as it was understood: "When was it created?" after "What
    # nationality is it?" after "What does CSPAN mean?" carries CSPAN along.
    if len(pairs) > 1 and depth < TURNS:
        prev_q = _flat(_condense(prev_q, pairs[:-1], is_person, in_focus, article, depth + 1))

    def person_of(names: list[str]) -> str | None:
        if in_focus is not None:
            names = [n for n in names if in_focus(n)] or names
        names = [n for n in names if plausible(n, article, question)]
        known = [n for n in names if is_person is not None and is_person(n)]
        shaped = [n for n in names if _looks_like_person(n)]
        return (known or shaped or [None])[0]  # type: ignore[list-item]

    # The last answer's fact first, then the last turn, then the turns before it.
    candidates: list[str] = entities(short)
    for q, a in reversed(recent):
        candidates += [c for c in entities(a) + entities(q) if c not in candidates]
    person = None
    # "What did Mrs. Wingfield say about her accounts?": the question names who "her" is.
    own = [
        n for n in entities(question)
        if n != "I" and not NOT_PERSON.search(n) and not question.lstrip().startswith(n)
        and (not article or n in article) and plausible(n, article, question)
    ]  # fmt: skip
    if not own:
        if article and PERSONAL.search(question):
            person = ranker().pick(candidates_of(recent), article, question)
        person = person or person_of(entities(short)) or person_of(candidates)

    if is_bare(question):
        # "How old?" after "Who was named the best player?" / "Maria Lopez": about her.
        if person and re.match(r"^\s*how old\b", question, re.I):
            return f"How old is {person}?"
        topic = " ".join(x for x in (prev_q.strip().rstrip("?"), short) if x)
        return f"{question.strip()} (context: {topic})" if topic else question

    rewritten = question
    resolved = bool(own)  # the question names who its pronoun is

    def sub_demonstrative(m: re.Match[str]) -> str:
        nonlocal resolved
        noun = m.group(2).lower().rstrip("s")
        for name in candidates:
            if noun in name.lower():
                resolved = True
                return "the " + name
        return m.group(0)

    rewritten = _DEMONSTRATIVE.sub(sub_demonstrative, rewritten)
    if person:
        # Only the pronouns of the first one's gender: in "Did she fire him?" "him" is
        # someone else; so is "him" beside "he" ("Where did he fly him to?": he would
        # have said "himself").
        gender = feminine(question)
        subject = re.search(r"\bhe\b", question, re.I) is not None

        def sub_person(m: re.Match[str]) -> str:
            nonlocal resolved
            if feminine(m.group(0)) != gender or (subject and m.group(0).lower() == "him"):
                return m.group(0)
            resolved = True
            return person + _PERSONAL[m.group(0).lower()]

        rewritten = PERSONAL.sub(sub_person, rewritten)
    words = set(re.findall(r"[a-z]+", rewritten.lower()))
    if not resolved or words & _THING or _FOLLOW_START.search(question):
        # Unresolved references: carry the previous question's topic along.
        context = prev_q.strip().rstrip("?")
        if context:
            rewritten = f"{rewritten.rstrip()} (context: {context})"
    return rewritten
