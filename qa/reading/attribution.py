"""The shapes of sentences that say who said something: speech verbs, speaker phrases,
tags before and after a quotation, and the people an article names with a title. Rules
only; qa.quotes reads an article with them."""

from __future__ import annotations

import re
from collections.abc import Sequence

from .speakers import GROUP_NOUNS, NAME_RUN, TITLE_WORDS, is_person_name, split_title
from .text import split_sentences

VERBS = (
    "said|says|say|saying|added|adds|adding|stressed|stresses|clarified|explained|explains|"
    "insisted|insists|insisting|noted|notes|noting|told|tells|stated|states|recalled|"
    "reiterated|pointed out|points out|indicated|indicates|warned|warns|warning|argued|"
    "argues|claimed|claims|declared|announced|announces|emphasized|emphasised|emphasizes|"
    "acknowledged|admitted|asserted|confirmed|confirms|reported|wrote|writes|commented|"
    "remarked|replied|responded|answered|continued|urged|urging|vowed|vowing|promised|"
    "promising|pledged|pledging|suggested|maintained|observed|underlined|underscored|"
    "revealed|denied|assured|affirmed|predicted|cautioned|conceded|complained|contended|"
    "testified|mentioned|specified"
)
ADVERBS = r"(?:(?:also|further|later|then|again|first|once again|has|have|had|previously|" \
    r"repeatedly|recently|publicly|firmly)\s+)*"  # fmt: skip
GROUP = rf"(?:(?:{NAME_RUN}\s+)?(?:{'|'.join(GROUP_NOUNS)}))"
SUBJ = (  # "harbour engineer Tomas Brandt": a lower-case description before a name
    rf"(?:[Hh]e|[Ss]he|[Tt]hey|[Ww]e|[Tt]he\s+(?:[\w'’-]+\s+){{0,6}}?[\w.-]+|{GROUP}|"
    rf"(?:[Aa]n?|[Oo]ne)\s+(?:[\w-]+\s+){{0,2}}?[\w-]+|"
    rf"(?:[a-z][\w-]+\s+){{0,3}}{NAME_RUN})"
)
SUBJECT_VERB = re.compile(
    rf"^(?P<subj>{SUBJ})(?P<app>,\s+[^“”\"]{{3,250}}?,)?\s+{ADVERBS}(?P<verb>{VERBS})\b"
)
AFTER = [  # text right after a closing quotation mark
    re.compile(rf"^\s*,?\s*(?P<subj>{SUBJ})\s+{ADVERBS}(?P<verb>{VERBS})\b"),
    re.compile(rf"^\s*,?\s*(?P<verb>{VERBS})\s+(?P<subj>{SUBJ})"),
    re.compile(
        rf"^\s*,?\s*(?:is|was|are|were)\s+the\s+(?:insistence|message|view|words|position|"
        rf"argument|advice|warning|claim|promise|plea|call)\s+of\s+(?P<subj>{SUBJ})"
    ),
]
BEFORE = re.compile(  # text right before an opening mark: "..., he said: “"
    rf"(?:^|[,;]\s*)(?P<subj>{SUBJ})\s+{ADVERBS}(?P<verb>{VERBS})(?:\s+[\w.]+){{0,3}}?\s*[,:]?\s*$"
)
ACCORDING = re.compile(rf"\b[Aa]ccording to (?P<subj>{SUBJ})")
RELATIVE = re.compile(rf"(?P<subj>{SUBJ}),\s+who\s+{ADVERBS}(?P<verb>{VERBS})\s+that\s+")
TAG = re.compile(  # "..., they insisted." / "..., its director, Paula Serrano, announced."
    rf"^(?P<content>.+?[^”\"]),\s+(?:(?:its|his|her|their|our|the)\s+[^,“”\"]{{2,40}}?,\s+)?"
    rf"(?P<subj>{SUBJ}),?\s+{ADVERBS}(?P<verb>{VERBS})"
    r"(?:\s+in\s+a\s+statement)?(?:,[^“”\"]*)?[.!?]?$"
)
INSIDE = re.compile(  # "Passengers, she said, should check timetables ..."
    rf"^(?P<content>(?:[^\s,“”\"]+\s+){{0,4}}[^\s,“”\"]+,\s+(?P<subj>{SUBJ})\s+{ADVERBS}(?P<verb>{VERBS}),\s+[^“”\"]+)$"
)
INVERTED = re.compile(  # "..., reported Eric Jacobstein, deputy assistant secretary ..."
    rf"^(?P<content>.+[^”\"]),\s+(?P<verb>{VERBS})\s+(?P<subj>{SUBJ})(?:,[^“”\"]*)?[.!?]?$"
)
TOLD = {"told", "tells", "warned", "assured", "reminded", "informed"}
TOLD_CLAUSE = re.compile(
    r"^\s+(?:[\w'’-]+\s+){1,3}?(?=(?:the|a|an|it|he|she|they|we|there|this|his|her|their)\s)"
)
TOLD_THAT = r"^\s+(?:[\w'’-]+\s+){0,3}?that\s+"
THAT = r"^\s+(?:in\s+a\s+statement\s+)?that\s+"
SAID_CLAUSE = re.compile(
    r"^\s+(?:the|a|an|it|this|there|he|she|they|we|his|her|their|its|no)\b", re.IGNORECASE
)
APPOSITIVE = re.compile(rf"(?P<run>{NAME_RUN}),\s+(?P<title>[^,;“”\"]{{3,160}}?)(?=,|\.\s|\.$|;|$)")
NOT_TITLE = re.compile(r"\b(who|which|that|is|was|are|were|has|have|said|says)\b", re.I)
INTRO_WORDS = set(
    "meanwhile however also still later earlier separately moreover furthermore "
    "additionally finally then but and so yet instead nevertheless therefore thus "
    "indeed now today yesterday previously currently recently for in on at after before "
    "during with under by as while since despite in".split()
)


def strip_possessive(name: str) -> str:
    return re.sub(r"['’]s$", "", name)


def titled_people(paragraphs: Sequence[tuple[int, str]]) -> dict[str, str]:
    """People the article names with a title: "Homeland Security Secretary Alejandro
    Mayorkas", "Luis Miranda, principal deputy assistant secretary ..."."""
    people: dict[str, str] = {}
    for _, text in paragraphs:
        for m in APPOSITIVE.finditer(text):
            pre, name = split_title(m.group("run"))
            title = m.group("title").strip()
            head = {w.lower() for w in title.split()[:6]}
            if len(name.split()) < 2 or not is_person_name(name) or NOT_TITLE.search(title):
                continue
            if head & TITLE_WORDS:
                people.setdefault(name, title)
        for m in re.finditer(NAME_RUN, text):
            title, name = split_title(m.group(0))
            name = strip_possessive(name)
            if title and name and is_person_name(name) and not people.get(name):
                people[name] = title
    return people


def _straight_opens(text: str, i: int) -> bool:
    """A straight mark opens a quote where a word starts after it ('said: "We'), and
    closes one where a word ends before it ('it," he')."""
    before = text[i - 1] if i else " "
    after = text[i + 1] if i + 1 < len(text) else " "
    return (before.isspace() or before in "([{—–-:") and not after.isspace()


def quote_marks(text: str) -> list[tuple[int, int | None]]:
    """Quotation spans in a paragraph: (index of the opening mark, index of the closing
    mark or None when the paragraph ends inside the quote). A second opening mark
    before the closing one belongs to the same quote: it is how a quote running over
    paragraphs reads when they were joined ('"A. "B." he said')."""
    marks = [(i, c == "“" or (c == '"' and _straight_opens(text, i)), c in "“”")
             for i, c in enumerate(text) if c in "“”\""]  # fmt: skip
    spans: list[tuple[int, int | None]] = []
    k = 0
    while k < len(marks):
        i, opens, curly = marks[k]
        k += 1
        if not opens:
            continue  # a closing mark with no opening one: the quote began before
        close = next((n for n in range(k, len(marks))
                      if not marks[n][1] and marks[n][2] == curly), None)  # fmt: skip
        if close is None:
            spans.append((i, None))
            break
        spans.append((i, marks[close][0]))
        k = close + 1
    return spans


def sentences(text: str) -> list[tuple[int, str]]:
    """Sentences with their start offsets, a quote never split between two."""
    out: list[tuple[int, str]] = []
    pos = 0
    for piece in split_sentences(text):
        start = text.find(piece, pos)
        if start < 0:
            continue
        pos = start + len(piece)
        if out and open_quote(out[-1][1]):
            prev_start, _ = out[-1]
            out[-1] = (prev_start, text[prev_start:pos])
        else:
            out.append((start, piece))
    return out


def open_quote(sentence: str) -> bool:
    return sentence.count("“") > sentence.count("”") or sentence.count('"') % 2 == 1


def word_count(text: str) -> int:
    return len(re.findall(r"[\w$%’'-]+", text))


def main_clause(sentence: str) -> str:
    """The sentence without an opening phrase ("Meanwhile, ", "For her part, ")."""
    m = re.match(r"^([^,“”\"]{2,40}),\s+", sentence)
    if m and len(m.group(1).split()) <= 5 and m.group(1).split()[0].lower() in INTRO_WORDS:
        return sentence[m.end() :]
    return sentence
