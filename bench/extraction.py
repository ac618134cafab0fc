"""Kept text of web pages: what `qa` keeps as evidence (trafilatura, then our boilerplate
rules) beside trafilatura alone and beside the extractor `qa` used before trafilatura,
on the saved news pages in tests/fixtures/pages/ (each with the article text a person
expects, from newspaper4k's test data).

    .venv/bin/python bench/extraction.py [--json]

Scores are over words (lower-cased, counted with multiplicity): precision = words kept
that are in the expected text / words kept; recall = expected words kept / expected
words; micro-averaged over the pages. trafilatura alone runs with the options `qa`
gives it (comments left out), so the difference is our rules. tests/test_webpages.py
holds `qa` to the floors in tests/fixtures/pages/floors.json.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import tempfile
from collections import Counter
from pathlib import Path

PAGES = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "pages"
METHODS = ("qa", "trafilatura", "before")


def words(text: str) -> Counter[str]:
    return Counter(re.findall(r"\w+", text.lower()))


def fixtures() -> list[tuple[str, bytes, str]]:
    """(name, page bytes, expected text) for every saved page."""
    out = []
    for path in sorted(PAGES.glob("*.html.gz")):
        name = path.name.removesuffix(".html.gz")
        expected = (PAGES / f"{name}.expected.txt").read_text(encoding="utf-8")
        out.append((name, gzip.decompress(path.read_bytes()), expected))
    return out


def kept_text(method: str, name: str, page: bytes) -> str:
    """The text a method keeps from a page."""
    if method == "qa":
        from qa.reading.articles import read_article

        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"{name}.html"
            path.write_bytes(page)
            # A heading is shown (and embedded) with the paragraph it heads.
            return "\n".join(f"{p.heading}\n{p.text}" for p in read_article(path).evidence)
    from qa.reading.webpage import decode_html, plain_text

    html = decode_html(page)
    if method == "trafilatura":
        import trafilatura

        return str(trafilatura.extract(html, include_comments=False) or "")
    return "\n".join(plain_text(html).blocks)  # "before": every visible block


def score(kept: Counter[str], expected: Counter[str]) -> dict[str, float]:
    both = sum((kept & expected).values())
    precision = both / max(sum(kept.values()), 1)
    recall = both / max(sum(expected.values()), 1)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4)}


def measure() -> dict[str, object]:
    totals = {m: [Counter(), Counter()] for m in METHODS}  # kept, expected
    pages: dict[str, dict[str, dict[str, float]]] = {}
    for name, page, expected_text in fixtures():
        expected = words(expected_text)
        pages[name] = {}
        for method in METHODS:
            kept = words(kept_text(method, name, page))
            pages[name][method] = score(kept, expected)
            totals[method][0] += kept
            totals[method][1] += expected
    overall = {m: score(kept, expected) for m, (kept, expected) in totals.items()}
    return {"pages": pages, "overall": overall}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print the numbers as JSON")
    args = parser.parse_args()
    result = measure()
    if args.json:
        print(json.dumps(result, indent=1))
        return
    print(f"{'page':22s}" + "".join(f"{m:>22s}" for m in METHODS))
    rows = {**result["pages"], "ALL (micro)": result["overall"]}  # type: ignore[dict-item]
    for name, by_method in rows.items():
        cells = "".join(
            f"{by_method[m]['precision']:>10.3f} P {by_method[m]['recall']:>7.3f} R"
            for m in METHODS
        )
        print(f"{name:22s}{cells}")


if __name__ == "__main__":
    main()
