"""Who a speaker is: names, titles, and the same person's name spelled several ways.

A speaker as written is a person's name (with or without a title before it:
"Homeland Security Secretary Alejandro Mayorkas"), a pronoun ("she"), a role ("the
official", "the Deputy Assistant Secretary of State") or a group ("they", "State
Department officials"). `kind_of` tells them apart; `split_title` separates a title
from a name; `Groups` puts the spellings of one person across articles together
("Jacobstein" / "Jocobstein", "Raúl José Mulino" / "José Raúl Mulino").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

# Words that make a capitalised phrase a title (or, after "the", a role).
TITLE_WORDS = set(
    "secretary president president-elect minister senator governor director ambassador "
    "spokesperson spokesman spokeswoman commissioner chairman chairwoman chair mayor "
    "coordinator deputy assistant chief officer official representative rep sen dr mr "
    "mrs ms judge justice king queen pope general adviser advisor envoy attorney "
    "prosecutor lawyer diplomat leader premier chancellor vice-president executive "
    "head manager analyst expert source spokespeople superintendent inspector captain "
    "lieutenant colonel sergeant detective commander professor producer treasurer coach "
    "boss editor founder economist lord sir dame prince princess mp".split()
)
# Capitalised words that make a phrase an organisation or a place, never a person.
ORG_WORDS = set(
    "department ministry agency office house committee council bureau government "
    "administration university party court news times post press association union "
    "commission service services police army navy force forces bank fund group "
    "company corporation inc ltd network institute foundation embassy congress "
    "senate parliament state states nations republic kingdom declaration jungle gap "
    "security".split()
)
PRONOUNS = {"he", "she"}
GROUP_PRONOUNS = {"they", "we"}
GROUP_NOUNS = (
    "officials spokespeople authorities leaders experts sources groups ministers "
    "lawmakers diplomats analysts organizations organisations agencies police "
    "residents witnesses critics activists officers representatives".split()
)
# "the union said": an institution speaking, kept as written.
INSTITUTIONS = set(
    "union ministry company government department agency police council court embassy "
    "committee campaign party office army navy military administration commission "
    "organisation organization group firm bank authority board spokesperson".split()
)
# "a crew member said": nouns for a person the article does not name.
SOMEONE = set(
    "member official spokesperson spokesman spokeswoman resident witness source worker "
    "passenger driver officer diplomat employee analyst expert lawyer doctor nurse "
    "teacher student parent neighbour neighbor survivor volunteer reviewer critic fan "
    "observer commentator viewer reader visitor customer".split()
)
PARTICLES = {"de", "da", "del", "della", "di", "van", "von", "der", "la", "le", "bin", "al"}
UPPER = "A-ZÁÉÍÓÚÑÀÈÌÒÙÂÊÎÔÛÄËÏÖÜÇØÅ"
# A capitalised word; a full stop only in an initial ("J."), an abbreviation ("Mr.",
# "U.S."), never at a sentence's end ("... Jack Straw. Africa ...").
WORD = (
    rf"(?:(?:Mr|Mrs|Ms|Dr|St|Jr|Sr|Gen|Gov|Sen|Rep|Lt|Col|Prof)\.|(?:[{UPPER}]\.)+"
    rf"|[{UPPER}][\w'’-]*)"
)
# A capitalised run: "José Raúl Mulino", "Homeland Security Secretary Alejandro Mayorkas".
NAME_RUN = rf"{WORD}(?:\s+(?:(?:{'|'.join(sorted(PARTICLES))})\s+)?{WORD}){{0,6}}"


@lru_cache(maxsize=65536)
def fold(text: str) -> str:
    """Lower case without accents: 'Raúl' -> 'raul'."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def _tokens(name: str) -> list[str]:
    return [t for t in re.split(r"\s+", fold(name).replace("’", "'")) if t]


def _capitalised(token: str) -> bool:
    return bool(re.match(rf"[{UPPER}]", token)) or token.lower() in PARTICLES


def split_title(run: str) -> tuple[str, str]:
    """'Homeland Security Secretary Alejandro Mayorkas' -> ('Homeland Security
    Secretary', 'Alejandro Mayorkas'): the name is what follows the last title word."""
    tokens = run.split()
    last = -1
    for i, token in enumerate(tokens):
        if token.lower().strip(".,") in TITLE_WORDS:
            last = i
    return " ".join(tokens[: last + 1]), " ".join(tokens[last + 1 :])


def is_person_name(name: str) -> bool:
    """A name as people are named: capitalised words, none of them an organisation's."""
    tokens = name.split()
    if not tokens or len(tokens) > 5 or not _capitalised(tokens[0]):
        return False
    if any(not _capitalised(t) for t in tokens):
        return False
    words = {re.sub(r"['’]s$", "", t.lower().strip(".,")) for t in tokens}
    return not (words & ORG_WORDS or words & TITLE_WORDS)


@dataclass(frozen=True)
class Said:
    """A speaker as the sentence names them."""

    written: str  # as written ("Jocobstein", "the official", "she", "they")
    kind: str  # "name", "pronoun", "role" or "group"
    name: str = ""  # for a name: the name without its title
    title: str = ""  # a title written before the name ("President-elect")


# Words that open a sentence without being part of its subject ("Earlier Conservative
# Graham Brady said ...", "But Mr Clarke said ...").
LEADING = set(
    "but and earlier later meanwhile however also still now then yesterday today until "
    "after before since on in last this".split()
)
NOT_NAMES = {"it", "this", "that", "there", "these", "those", "we", "i", "you"}


def kind_of(subject: str) -> Said | None:
    """What a subject phrase names, or None when it is no speaker (a thing, a plan)."""
    subject = subject.strip(" ,")
    while len(subject.split()) > 1 and subject.split()[0].lower() in LEADING:
        subject = subject.split(None, 1)[1]
    if subject.lower() in NOT_NAMES:
        return None
    if subject.endswith(".") and not re.search(r"(?:^|\s)\w\.$", subject):
        subject = subject[:-1]  # "said team manager Jo Maso." ends the sentence
    lower = subject.lower()
    if lower in PRONOUNS:
        return Said(subject, "pronoun")
    if lower in GROUP_PRONOUNS:
        return Said(subject, "group")
    words = lower.split()
    if not words or len(words) > 9:
        return None
    if words[0] in ("a", "an", "one") and 2 <= len(words) <= 4 and words[-1] in SOMEONE:
        return Said(subject, "group")  # "a crew member": someone, not named
    if words[0] == "the" and " of " in lower:  # "the insistence of State Department officials"
        inner = kind_of(subject[lower.rindex(" of ") + 4 :])
        if inner is not None and inner.kind != "pronoun":
            return inner
    if words[0] == "the":  # "the poll comes after Foreign Secretary Jack Straw"
        tail = re.search(rf"(?:{NAME_RUN})$", subject)
        inner = kind_of(tail.group(0)) if tail and tail.start() > 0 else None
        if inner is not None and inner.kind == "name" and inner.title:
            return inner
        rest = set(w.strip(".,") for w in words[1:])
        if rest & TITLE_WORDS:
            return Said(subject, "role")
        if words[-1] in GROUP_NOUNS or words[-1] in INSTITUTIONS:
            return Said(subject, "group")
        return None
    if words[-1] in GROUP_NOUNS and all(_capitalised(t) for t in subject.split()[:-1]):
        return Said(subject, "group")
    tokens = subject.split()
    lead = 0  # "harbour engineer Tomas Brandt": a description, then a name
    while lead < min(3, len(tokens) - 1) and re.fullmatch(r"[a-z][\w-]*", tokens[lead]):
        lead += 1
    inner = kind_of(" ".join(tokens[lead:])) if lead else None
    if inner is not None and inner.kind == "name":
        title = " ".join([*tokens[:lead], inner.title]).strip()
        return Said(subject, "name", inner.name, title)
    if not all(_capitalised(t) for t in tokens):
        return None
    title, name = split_title(subject)
    if name and is_person_name(name):
        return Said(subject, "name", name, title)
    return None


def _distance(a: str, b: str) -> int:
    """Levenshtein distance (names are short)."""
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i]
        for j, cb in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def near(a: str, b: str) -> bool:
    """Two spellings of one word: equal, or one edit apart when both are long enough."""
    a, b = fold(a), fold(b)
    if a == b:
        return True
    return min(len(a), len(b)) >= 5 and abs(len(a) - len(b)) <= 1 and _distance(a, b) <= 1


def same_person(a: str, b: str) -> bool:
    """Full names of one person: the same words in any order ('Raúl José Mulino' /
    'José Raúl Mulino'), or the same first name and a surname one edit apart
    ('Marcela Escobari' / 'Marcela Escobar'). A surname alone matches a full name with
    that surname ('Jocobstein' / 'Eric Jacobstein')."""
    ta, tb = _tokens(a), _tokens(b)
    if not ta or not tb:
        return False
    if sorted(ta) == sorted(tb):
        return True
    if len(ta) == 1 or len(tb) == 1:
        return near(ta[-1], tb[-1])
    return near(ta[-1], tb[-1]) and near(ta[0], tb[0])


def surname_match(surname: str, names: Iterable[str]) -> str:
    """The full name a surname alone refers to among `names` (the article's people): an
    exact surname first, else one a single edit away (after the same first letter:
    every sentence's first word is tried, so this must be cheap); "" when none or
    ambiguous."""
    first = fold(surname)[:1]
    full = [n for n in names if len(n.split()) > 1 and fold(n.split()[-1])[:1] == first]
    for test in (lambda s: fold(s) == fold(surname), lambda s: near(s, surname)):
        found = sorted({n for n in full if test(n.split()[-1])})
        if len(found) == 1:
            return found[0]
        if found:
            return ""
    return ""


@dataclass
class Group:
    """One person across the articles: every spelling, the name shown, their titles."""

    names: list[str] = field(default_factory=list)  # spellings, most used first
    titles: dict[str, str] = field(default_factory=dict)  # article source -> title

    @property
    def name(self) -> str:
        return self.names[0] if self.names else ""

    def matches(self, query: str) -> bool:
        return any(same_person(query, n) for n in self.names)


class Groups:
    """People named across the articles, spellings of one person put together."""

    def __init__(self, people: Iterable[tuple[str, str, str, int]]) -> None:
        """`people`: (name, article source, title, how often the name speaks)."""
        counts: dict[str, int] = {}
        titles: dict[str, dict[str, str]] = {}
        for name, source, title, uses in people:
            counts[name] = counts.get(name, 0) + uses
            if title:
                titles.setdefault(name, {}).setdefault(source, title)
        names = sorted(counts, key=lambda n: (len(n.split()) == 1, -counts[n], n))
        parent = {n: n for n in names}

        def root(n: str) -> str:
            while parent[n] != n:
                n = parent[n]
            return n

        full = [n for n in names if len(n.split()) > 1]
        for i, a in enumerate(full):
            for b in full[i + 1 :]:
                if same_person(a, b):
                    parent[root(b)] = root(a)
        for n in names:  # a surname alone joins the one person it can be
            if len(n.split()) == 1:
                roots = {root(f) for f in full if same_person(n, f)}
                if len(roots) == 1:
                    parent[n] = roots.pop()
        members: dict[str, list[str]] = {}
        for n in names:
            members.setdefault(root(n), []).append(n)
        self.groups: list[Group] = []
        self._of: dict[str, Group] = {}
        for group_names in members.values():
            # Shown as its most used full name (a surname alone only when that is all).
            group_names.sort(key=lambda n: (len(n.split()) == 1, -counts[n], n))
            group = Group(group_names)
            for n in group_names:
                for source, title in titles.get(n, {}).items():
                    group.titles.setdefault(source, title)
                self._of[n] = group
            self.groups.append(group)

    def of(self, name: str) -> Group | None:
        return self._of.get(name)

    def find(self, query: str) -> list[Group]:
        """The people a query names ('Jocobstein', 'Miranda', 'José Raúl Mulino')."""
        query = " ".join(query.split())
        exact = [g for g in self.groups if any(fold(n) == fold(query) for n in g.names)]
        return exact or [g for g in self.groups if g.matches(query)]
