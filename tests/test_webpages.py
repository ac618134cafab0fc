"""Web pages through trafilatura: real saved news pages (tests/fixtures/pages, from
newspaper4k's test data) keep the article and drop the furniture, with their metadata;
pages in cp1252, ISO-8859-1 and UTF-16 read right; our boilerplate rules still run on
what trafilatura keeps; kept-text precision and recall stay above their floors."""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path

import pytest
from conftest import ROOT

from qa.reading.articles import BODY, BOILERPLATE, TITLE, read_article
from qa.reading.webpage import decode_html

sys.path.insert(0, str(ROOT / "bench"))  # bench/ holds scripts, not a package
from extraction import PAGES, measure  # noqa: E402

# Per page: metadata read, text that must be evidence, furniture that must not be.
EXPECTED = {
    "cnn_article": {
        "title": "After storm, forecasters see smooth sailing for Thanksgiving",
        "date": "2013-11-27",
        "site": "CNN",
        "url": "http://www.cnn.com/2013/11/27/travel/weather-thanksgiving/index.html",
        "author": "Dana A Ford",
        "keep": ['"We dodged a bullet," said Steve Cowan',
                 "Forecasters see mostly smooth sailing into Thanksgiving."],
        "drop": ["Updated 0203 GMT", "Police officers adjust a barricade"],
    },
    "time_001": {
        "title": "We Need Geoengineering to Stop Out of Control Warming Says James Hansen",
        "date": "2023-11-02",
        "site": "TIME",
        "author": "Alejandro de la Garza",
        "keep": ["James Hansen"],
        "drop": ["More Must-Reads From TIME", "The Struggle to Save Lives Inside Gaza",
                 "Sign Up for Worth Your Time", "Write to Alejandro de la Garza"],
    },
    "fox13now_001": {
        "title": "New Year, new laws: Obamacare, pot, guns and drones",
        "date": "2013-12-30",
        "site": "FOX 13 News Utah (KSTU)",
        "keep": ["contributed to this report"],
        "drop": ["weather alerts", "Quick links", "All rights reserved"],
    },
    "cleveland.com1": {
        "title": "Let me Google that for you: 2014's most popular food-related searches",
        "date": "2014-12-27",
        "site": "cleveland.com",
        "keep": ["Pizza was searched more than the World Cup.",
                 "The lesson, as always: you are what you search."],
        "drop": ["Follow @tdmrussell"],
    },
}  # fmt: skip


def saved_page(tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"{name}.html"
    path.write_bytes(gzip.decompress((PAGES / f"{name}.html.gz").read_bytes()))
    return path


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_real_pages_keep_the_article_and_read_its_metadata(tmp_path: Path, name: str) -> None:
    want = EXPECTED[name]
    article = read_article(saved_page(tmp_path, name))
    assert article.title == want["title"] and article.headline
    assert article.paragraphs[0].kind == TITLE and article.paragraphs[0].text == want["title"]
    assert article.date == want["date"] and article.site == want["site"]
    if "url" in want:
        assert article.url == want["url"]
    if "author" in want:
        assert str(want["author"]) in article.author
    evidence = "\n".join(p.text for p in article.evidence)
    for snippet in want["keep"]:
        assert snippet in evidence, snippet
    for snippet in want["drop"]:
        assert snippet not in evidence, snippet
    # Every block of the extracted text is numbered, and the evidence is verbatim.
    assert [p.number for p in article.paragraphs] == list(range(1, len(article.paragraphs) + 1))
    expected_text = (PAGES / f"{name}.expected.txt").read_text(encoding="utf-8")
    verbatim = [p for p in article.evidence if p.text in expected_text]
    assert len(verbatim) >= 0.8 * len(article.evidence)


def test_kept_text_stays_above_its_floors() -> None:
    """Word precision and recall over all saved pages (bench/extraction.py prints them);
    floors in tests/fixtures/pages/floors.json, which a change may raise, not lower."""
    floors = json.loads((PAGES / "floors.json").read_text(encoding="utf-8"))
    overall = measure()["overall"]
    assert isinstance(overall, dict)
    ours, alone = overall["qa"], overall["trafilatura"]
    assert ours["precision"] >= floors["precision"], ours
    assert ours["recall"] >= floors["recall"], ours
    assert ours["precision"] >= alone["precision"]  # our rules only take furniture away


# --- charsets ------------------------------------------------------------------------

LEGACY_PAGE = """<html><head>{meta}<title>Caf\u00e9 owners protest new \u20ac2 tax</title></head>
<body><article><h1>Caf\u00e9 owners protest new \u20ac2 tax</h1>
<p>\u201cWe cannot pay it,\u201d said Ren\u00e9e Lef\u00e8vre, who runs a caf\u00e9 in the old
town of Ostby \u2014 one of 140 that closed for an hour on Monday.</p>
<p>The council says the \u20ac2 levy on each terrace table will raise \u00a3 and \u20ac for
the harbour fund, about 90,000 euros a year, and that the na\u00efve objections will fade.</p>
<p>A vote on the tax is due in March, after a public hearing at the town hall.</p>
</article></body></html>"""


@pytest.mark.parametrize(
    ("encoding", "meta"),
    [
        ("cp1252", '<meta charset="windows-1252">'),
        ("cp1252", '<meta http-equiv="Content-Type" content="text/html; charset=windows-1252">'),
        # Labelled ISO-8859-1 but holding curly quotes and the euro sign from 0x80-0x9F:
        # browsers read it as windows-1252, and so must we.
        ("cp1252", '<meta charset="ISO-8859-1">'),
        ("latin-1", '<meta http-equiv="content-type" content="text/html;charset=iso-8859-1">'),
        ("cp1252", ""),  # no declaration: detected
        ("utf-16", ""),  # with a byte-order mark
    ],
)
def test_pages_in_other_charsets_are_read_right(tmp_path: Path, encoding: str, meta: str) -> None:
    text = LEGACY_PAGE.format(meta=meta)
    if encoding == "latin-1":  # Latin-1 has no curly quotes, dashes or euro sign
        for a, b in (("\u201c", '"'), ("\u201d", '"'), ("\u2014", "-"), ("\u20ac", "EUR ")):
            text = text.replace(a, b)
    data = text.encode(encoding)
    assert decode_html(data) == text
    path = tmp_path / "cafe.html"
    path.write_bytes(data)
    article = read_article(path)
    body = " ".join(p.text for p in article.evidence)
    assert "Ren\u00e9e Lef\u00e8vre" in body and "na\u00efve" in body
    if encoding != "latin-1":
        assert "\u201cWe cannot pay it,\u201d" in body and "\u20ac2" in article.title


def test_a_wrong_declaration_does_not_garble_the_page() -> None:
    # Declared UTF-8, written in cp1252: the declaration fails to decode, detection wins.
    data = LEGACY_PAGE.format(meta='<meta charset="utf-8">').encode("cp1252")
    assert "Ren\u00e9e Lef\u00e8vre" in decode_html(data)


# --- our rules after trafilatura -----------------------------------------------------

TEASERS_AND_BIO = """<html><head><title>Kelvik pier reopens</title>
<meta name="author" content="Ann Lee"></head><body><article>
<h1>Kelvik pier reopens</h1>
<p>The port of Kelvik reopened its pier on Friday after three weeks of repairs, the harbour
master said, and the first fishing boats returned the same evening.</p>
<p>The repairs cost 4.2 million kroner and were paid for by the regional government, which
also promised to deepen the channel next year.</p>
<p>Ann Lee</p>
<p>Ann Lee is a freelance reporter covering the fishing industry for regional papers.</p>
<p>Share this article</p>
<p>ALSO READ</p>
<p>Storm damage: ferry timetable cut for a week...</p>
<p>world | 2 hours ago</p>
</article></body></html>"""


def test_our_boilerplate_rules_run_on_what_trafilatura_keeps(tmp_path: Path) -> None:
    path = tmp_path / "pier.html"
    path.write_text(TEASERS_AND_BIO, encoding="utf-8")
    article = read_article(path)
    kinds = {p.text: (p.kind, p.why) for p in article.paragraphs}
    assert kinds["ALSO READ"] == (BOILERPLATE, "teaser list")
    assert kinds["world | 2 hours ago"] == (BOILERPLATE, "teaser list")
    bio = "Ann Lee is a freelance reporter covering the fishing industry for regional papers."
    assert kinds[bio] == (BOILERPLATE, "author bio")
    assert [p.kind for p in article.evidence] == [BODY, BODY]
    assert article.author == "Ann Lee"
