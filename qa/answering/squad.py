"""The SQuAD benchmark as users meet it: articles written as files and ingested, questions
asked of the whole folder, with answerable, near-miss and out-of-corpus cases.

Both files of `../shared/data/squad/` are pooled and split by article (a hash of the
title), so no article of the held-out part was seen in fitting. Within each part:
- *in corpus*: the article is written as a file (title line, paragraphs between blank
  lines) and ingested, except one paragraph in five, which is deleted from it;
- *answerable*: a question on a kept paragraph; gold = that paragraph;
- *near miss*: a question on a deleted paragraph, kept only if none of its answers
  occurs anywhere in the ingested text (the article is on topic, the fact is gone);
- *out of corpus*: a question on an article of the part that was not ingested.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

SQUAD_FILES = ("squaddev_v1.1.json", "new_wiki_v1.0.json")
FIT, TEST = "fit", "test"
# Buckets of hash(title) % 20: which part an article belongs to and whether it is ingested.
_BUCKETS = {FIT: (range(0, 10), range(10, 12)), TEST: (range(12, 18), range(18, 20))}
DELETE_ONE_IN = 5
# Where the parts' article files, indexes and stock pipelines are kept (git-ignored).
CACHE = Path(__file__).resolve().parents[2] / "eval" / ".cache" / "squad"

ANSWERABLE, NEAR_MISS, OUT_OF_CORPUS = "answerable", "near_miss", "out_of_corpus"


def squad_dir() -> Path:
    """`../shared/data/squad/` beside the project (the repo's parent holds `shared/`)."""
    return Path(__file__).resolve().parents[3] / "shared" / "data" / "squad"


@dataclass
class Case:
    id: str
    kind: str
    question: str
    answers: list[str]
    source: str = ""  # the article file (answerable and near miss)
    paragraph: int = 0  # 1-based, as qa counts it in the written file (answerable only)
    text: str = ""  # the gold paragraph (answerable and near miss)
    extra: dict[str, object] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def _h(text: str) -> int:
    return int(hashlib.sha1(text.encode("utf-8")).hexdigest()[:8], 16)


def _clean(text: str) -> str:
    """A SQuAD paragraph as one block: no blank lines inside, no outer whitespace."""
    return re.sub(r"\s*\n\s*", " ", text).strip()


def _norm(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))


def load_articles(folder: Path | None = None) -> list[dict[str, Any]]:
    folder = folder or squad_dir()
    articles = []
    for name in SQUAD_FILES:
        for article in json.loads((folder / name).read_text(encoding="utf-8"))["data"]:
            article = dict(article)
            article["origin"] = name
            articles.append(article)
    return articles


def part_of(title: str) -> tuple[str, bool] | None:
    """(part, ingested) for an article title."""
    bucket = _h(title) % 20
    for part, (ingested, outside) in _BUCKETS.items():
        if bucket in ingested:
            return part, True
        if bucket in outside:
            return part, False
    return None


def file_name(title: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9]+", "_", title).strip("_")[:60]
    return f"{slug}_{_h(title) % 10**6:06d}.txt"


def build(part: str, folder: Path, data: Path | None = None) -> list[Case]:
    """Write the part's ingested articles into `folder` and return all its cases."""
    folder.mkdir(parents=True, exist_ok=True)
    cases: list[Case] = []
    deleted: list[tuple[str, dict[str, Any], str]] = []
    outside: list[dict[str, Any]] = []
    corpus_text: list[str] = []
    for article in load_articles(data):
        title = str(article["title"])
        where = part_of(title)
        if where is None or where[0] != part:
            continue
        if not where[1]:
            outside.append(article)
            continue
        name = file_name(title)
        blocks = [title.replace("_", " ")]
        for i, para in enumerate(article["paragraphs"]):
            text = _clean(para["context"])
            if not text:
                continue
            if _h(f"{title}#{i}") % DELETE_ONE_IN == 0:
                deleted.append((name, para, text))
                continue
            blocks.append(text)
            number = len(blocks)  # 1-based block number in the written file
            for qa in para["qas"]:
                answers = sorted({a["text"].strip() for a in qa["answers"] if a["text"].strip()})
                if answers:
                    cases.append(
                        Case(
                            qa["id"],
                            ANSWERABLE,
                            qa["question"].strip(),
                            answers,
                            name,
                            number,
                            text,
                        )
                    )
        (folder / name).write_text("\n\n".join(blocks) + "\n", encoding="utf-8")
        corpus_text.append(_norm("\n".join(blocks)))
    corpus = " \n ".join(corpus_text)
    for name, para, text in deleted:
        for qa in para["qas"]:
            answers = sorted({a["text"].strip() for a in qa["answers"] if a["text"].strip()})
            if answers and not any(f" {_norm(a)} " in f" {corpus} " for a in answers):
                cases.append(
                    Case(qa["id"], NEAR_MISS, qa["question"].strip(), answers, name, 0, text)
                )
    for article in outside:
        for para in article["paragraphs"]:
            for qa in para["qas"]:
                answers = sorted({a["text"].strip() for a in qa["answers"] if a["text"].strip()})
                cases.append(
                    Case(
                        qa["id"],
                        OUT_OF_CORPUS,
                        qa["question"].strip(),
                        answers,
                        file_name(str(article["title"])),
                    )
                )
    return cases


def count_paragraphs(folder: Path) -> int:
    """Body paragraphs written into the part's article files (title lines aside)."""
    return sum(
        max(len(p.read_text(encoding="utf-8").split("\n\n")) - 1, 0) for p in folder.iterdir()
    )


def sample(cases: list[Case], per_kind: dict[str, int], seed: int = 0) -> list[Case]:
    """A deterministic sample of at most `per_kind[kind]` cases of each kind."""
    out: list[Case] = []
    for kind, n in per_kind.items():
        pool = sorted((c for c in cases if c.kind == kind), key=lambda c: c.id)
        random.Random(f"{seed}:{kind}").shuffle(pool)
        out.extend(pool[:n])
    return out


def rates(best: Iterable[tuple[str, float, bool]], threshold: float) -> dict[str, float]:
    """Per kind of case, the share handled right at a threshold, from each case's (kind,
    best sentence's score, whether that sentence answers): an answerable case is answered
    by a right sentence, any other is abstained on."""
    tally: dict[str, list[bool]] = {}
    for kind, score, right in best:
        answers = score >= threshold
        tally.setdefault(kind, []).append(answers and right if kind == ANSWERABLE else not answers)
    return {k: sum(v) / len(v) for k, v in tally.items()}


def answer_holds(text: str, answers: list[str]) -> bool:
    """The answer text holds one of the gold answers (case, punctuation and spacing
    aside)."""
    hay = f" {_norm(text)} "
    return any(_norm(a) and f" {_norm(a)} " in hay for a in answers)


def iter_kinds(cases: list[Case]) -> Iterator[tuple[str, list[Case]]]:
    for kind in (ANSWERABLE, NEAR_MISS, OUT_OF_CORPUS):
        yield kind, [c for c in cases if c.kind == kind]
