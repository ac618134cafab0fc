"""The sentences and words of a paragraph: sentences split as a reader splits them
(never after "Mr." or an initial), and the stemmed content words every scorer, the
quote reader and the claim checker compare."""

from __future__ import annotations

import re

_ABBREV = set(
    "mr mrs ms dr st jr sr gen gov sen rep lt col sgt capt prof inc corp ltd co no vs "
    "jan feb mar apr jun jul aug sep sept oct nov dec approx est".split()
)
_SPLIT = re.compile(r"(?<=[.!?])([”\"’')\]]*)\s+(?=[“\"‘'(\[]?[A-Z0-9¿¡])")


def split_sentences(text: str) -> list[str]:
    """Sentences of a paragraph, verbatim; no split after abbreviations or initials."""
    pieces: list[str] = []
    start = 0
    for m in _SPLIT.finditer(text):
        head = text[start : m.start()]
        last = re.findall(r"([\w.]+)\.$", head)
        word = last[0].lower() if last else ""
        if word and (word in _ABBREV or len(word) == 1 or re.fullmatch(r"(\w\.)+\w", word)):
            continue
        pieces.append(text[start : m.start() + len(m.group(1))].strip())
        start = m.end()
    pieces.append(text[start:].strip())
    return [p for p in pieces if p]


_STOP = set(
    [
        "a",
        "an",
        "the",
        "of",
        "to",
        "in",
        "on",
        "for",
        "and",
        "or",
        "but",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "by",
        "with",
        "at",
        "from",
        "as",
        "that",
        "this",
        "these",
        "those",
        "it",
        "its",
        "he",
        "she",
        "they",
        "them",
        "his",
        "her",
        "their",
        "what",
        "which",
        "who",
        "whom",
        "whose",
        "how",
        "when",
        "where",
        "why",
        "did",
        "does",
        "do",
        "done",
        "has",
        "have",
        "had",
        "will",
        "would",
        "can",
        "could",
        "should",
        "may",
        "might",
        "about",
        "into",
        "than",
        "then",
        "there",
        "here",
        "so",
        "such",
        "not",
        "no",
        "any",
        "some",
        "much",
        "many",
        "more",
        "most",
        "also",
        "just",
        "us",
        "me",
        "my",
        "we",
        "our",
        "you",
        "your",
        "i",
        "said",
        "say",
        "says",
        "according",
    ]
)
_WORD = re.compile(r"[\w$€£%’'-]+", re.UNICODE)


def _stemmer():  # type: ignore[no-untyped-def]
    import Stemmer

    return Stemmer.Stemmer("english")


_STEM = _stemmer()


def terms(text: str) -> list[str]:
    words = [w.strip("'’-").lower() for w in _WORD.findall(text)]
    words = [w for w in words if w and w not in _STOP and not w.startswith("$")]
    return list(_STEM.stemWords(words))
