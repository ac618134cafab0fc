"""Reading article files: numbering, boilerplate, headings, HTML and unreadable files."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import SEED_000, SEED_002, SEEDS, reader_blocks

from qa.reading.articles import (
    BODY,
    BOILERPLATE,
    HEADING,
    TITLE,
    ArticleError,
    classify,
    find_articles,
    html_to_text,
    read_article,
    split_blocks,
)

# --- numbering -----------------------------------------------------------------------


def test_blocks_are_separated_by_one_or_more_blank_lines(tmp_path: Path) -> None:
    text = (
        "The Title\n"
        "\n"
        "First paragraph,\nwhich has two lines.\n"
        "\n\n\n"
        "Second paragraph after three blank lines.\n"
        "   \t \n"
        "Third paragraph after a whitespace-only line.\n"
        " \n\t\n  \n"
        "Fourth paragraph after several whitespace-only lines.\r\n"
        "\r\n"
        "Fifth paragraph after a Windows blank line.\n"
    )
    path = tmp_path / "numbering.txt"
    path.write_text(text, encoding="utf-8")

    article = read_article(path)

    assert [p.number for p in article.paragraphs] == [1, 2, 3, 4, 5, 6]
    assert article.paragraphs[0].kind == TITLE
    assert article.title == "The Title"
    assert article.paragraphs[1].text == "First paragraph,\nwhich has two lines."
    assert article.paragraphs[2].text.startswith("Second paragraph")
    assert article.paragraphs[3].text.startswith("Third paragraph")
    assert article.paragraphs[4].text.startswith("Fourth paragraph")
    assert article.paragraphs[5].text == "Fifth paragraph after a Windows blank line."
    assert [p.text for p in article.paragraphs] == reader_blocks(text)


def test_a_line_of_zero_width_spaces_is_blank() -> None:
    # The blank-line pattern treats U+200B as blank; a run of such lines must not
    # leave an invisible block that shifts every later paragraph number.
    assert split_blocks("Title\n\n\u200b\n\nBody one.\n\u200b\nBody two.") == [
        "Title",
        "Body one.",
        "Body two.",
    ]


@pytest.mark.parametrize("name", [SEED_000, SEED_002])
def test_seed_numbering_matches_what_a_reader_counts(name: str) -> None:
    text = (SEEDS / name).read_text(encoding="utf-8")
    article = read_article(SEEDS / name)
    assert [p.text for p in article.paragraphs] == reader_blocks(text)
    assert [p.number for p in article.paragraphs] == list(range(1, len(article.paragraphs) + 1))
    assert article.paragraphs[0].kind == TITLE
    assert article.source == name


def test_seed_000_paragraphs() -> None:
    article = read_article(SEEDS / SEED_000)
    by_number = {p.number: p for p in article.paragraphs}
    assert article.title == "US grants Panama $6 million for repatriation of illegal immigrants"
    assert by_number[2].text.startswith("MIAMI.- The amount")
    assert "$6,000,000" in by_number[2].text
    assert by_number[2].kind == BODY
    assert by_number[8].text.startswith("In this regard, he reiterated")


def test_seed_002_title_followed_by_two_blank_lines() -> None:
    article = read_article(SEEDS / SEED_002)
    assert article.title == "U.S. agrees to help Panama deport migrants crossing Darién Gap"
    assert article.paragraphs[1].number == 2
    assert article.paragraphs[1].text.startswith("The U.S. and Panama signed an agreement")
    assert "half a million in 2023" in article.paragraphs[2].text


# --- boilerplate and headings --------------------------------------------------------


def test_seed_000_boilerplate_tail() -> None:
    article = read_article(SEEDS / SEED_000)
    by_number = {p.number: p for p in article.paragraphs}
    assert "protected" in by_number[24].text
    assert by_number[26].text == "Tarun Kumar"
    assert by_number[27].text.startswith("I'm Tarun Kumar")
    assert by_number[28].text == "Leave a Reply"
    for n in (24, 26, 27, 28):
        assert by_number[n].kind == BOILERPLATE, (n, by_number[n].text)
        assert by_number[n].why
    assert by_number[26].why == by_number[27].why == "author bio"
    evidence = {p.number for p in article.evidence}
    assert evidence.isdisjoint({1, 10, 16, 20, 24, 26, 27, 28})
    body = set(range(2, 10)) | set(range(11, 16)) | {17, 18, 19, 21, 22, 23}
    assert body <= evidence
    assert all("Tarun" not in p.text and "Leave a Reply" not in p.text for p in article.evidence)


def test_seed_002_boilerplate_tail() -> None:
    article = read_article(SEEDS / SEED_002)
    by_number = {p.number: p for p in article.paragraphs}
    assert by_number[12].text.startswith("Disclaimer:")
    assert by_number[13].text == "ALSO READ"
    assert by_number[16].text == "world | 2 hours ago"
    assert by_number[12].kind == BOILERPLATE
    # ALSO READ starts a teaser list that runs to the end of the file.
    for p in article.paragraphs[12:]:
        assert p.kind == BOILERPLATE, (p.number, p.text)
        assert p.why == "teaser list"
    assert [p.number for p in article.evidence] == list(range(2, 12))
    evidence_text = " ".join(p.text for p in article.evidence)
    for junk in ("Disclaimer", "ALSO READ", "hours ago", "Saudi", "Perplexity", "iPhone"):
        assert junk not in evidence_text


def test_seed_000_headings_attach_to_the_next_paragraph() -> None:
    article = read_article(SEEDS / SEED_000)
    by_number = {p.number: p for p in article.paragraphs}
    for heading_n, heading in (
        (10, "Border Security"),
        (16, "Safe conduct for those who require it"),
        (20, "Safe Mobility"),
    ):
        assert by_number[heading_n].kind == HEADING
        assert by_number[heading_n].text == heading
        nxt = by_number[heading_n + 1]
        assert nxt.kind == BODY
        assert nxt.heading == heading
        assert by_number[heading_n] not in article.evidence
    assert by_number[2].heading == ""
    assert by_number[12].heading == ""


def test_classify_page_furniture_and_bios() -> None:
    blocks = [
        "Local council approves new bridge",
        "The council voted on Tuesday to approve a new bridge over the river, officials said.",
        "Copyright © 2024 Example Media. All rights reserved.",
        "(email\u00a0protected)",
        "Share this article",
        "Jane Doe",
        "Jane Doe is a freelance reporter covering city politics.",
    ]
    kinds = [p.kind for p in classify(blocks)]
    assert kinds == [TITLE, BODY] + [BOILERPLATE] * 5


def test_first_person_quote_is_not_an_author_bio() -> None:
    # "I am" followed by a lower-case word is a quote, not "I'm <Name>, a writer".
    blocks = [
        "Mayor defends budget",
        "City Hall",
        "I am told the writing is on the wall for the old budget, and the content of the "
        "new one is final, the mayor said on Monday.",
    ]
    paragraphs = classify(blocks)
    assert paragraphs[2].kind == BODY
    assert paragraphs[1].kind != BOILERPLATE


# --- HTML ----------------------------------------------------------------------------

HTML = """<!DOCTYPE html>
<html>
<head>
  <title>Port strike ends after three days</title>
  <style>body { color: red; }</style>
  <script>var tracking = "<p>not text</p>";</script>
</head>
<body>
  <nav><a href="/">Home</a> | <a href="/world">World</a></nav>
  <div class="wrap"><div class="inner"><div>
    <h1>Port strike ends after three days</h1>
    <p>Dock workers returned on <b>Thursday</b> after a deal on
       pay &amp; hours.</p>
    <div><div><p>The union said 4,000 members voted.</p></div></div>
    <script>document.write("hidden");</script>
    <p>Ships waited <i>offshore</i> for days.</p>
  </div></div></div>
</body>
</html>
"""


def test_html_is_stripped_to_blocks() -> None:
    assert split_blocks(html_to_text(HTML)) == [
        "Port strike ends after three days",
        "Dock workers returned on Thursday after a deal on pay & hours.",
        "The union said 4,000 members voted.",
        "Ships waited offshore for days.",
    ]


def test_html_file_is_read_as_an_article(tmp_path: Path) -> None:
    path = tmp_path / "strike.html"
    path.write_text(HTML, encoding="utf-8")
    article = read_article(path)
    assert article.title == "Port strike ends after three days"
    assert [p.number for p in article.evidence] == [2, 3, 4]
    assert article.paragraphs[2].text == "The union said 4,000 members voted."
    text = " ".join(p.text for p in article.paragraphs)
    for hidden in ("tracking", "hidden", "color", "Home", "<", ">"):
        assert hidden not in text


def test_html_without_a_closing_head_tag_keeps_its_body() -> None:
    # </head> is optional in HTML; leaving it out must not hide the article.
    html = "<html><head><title>Short</title><body><p>Para one.</p><p>Para two.</p></body>"
    assert split_blocks(html_to_text(html)) == ["Short", "Para one.", "Para two."]


def test_svg_title_is_not_the_page_title() -> None:
    html = (
        "<html><head><title>Real title</title></head><body>"
        "<button><svg><title>Close</title><path d='M0 0'/></svg></button>"
        "<p>Body text here.</p></body></html>"
    )
    assert split_blocks(html_to_text(html)) == ["Real title", "Body text here."]


def test_deeply_nested_html_parses(tmp_path: Path) -> None:
    html = "<html><body>" + "<div>" * 5000 + "<p>Deep text.</p>" + "</div>" * 5000
    path = tmp_path / "deep.html"
    path.write_text("<title>Deep page</title>" + html + "</body></html>", encoding="utf-8")
    article = read_article(path)
    assert [p.text for p in article.paragraphs] == ["Deep page", "Deep text."]


# --- unreadable files ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        pytest.param("empty.txt", b"", "empty", id="empty"),
        pytest.param("blank.txt", b"  \n\n\t \r\n  ", "empty", id="whitespace-only"),
        pytest.param("binary.txt", b"GIF89a\x00\x01\x02\x00title\n\nbody", "binary", id="binary"),
        pytest.param("latin1.txt", b"Le caf\xe9\n\nUn article.", "UTF-8", id="not-utf8"),
    ],
)
def test_unreadable_files_raise_with_the_file_name(
    tmp_path: Path, name: str, data: bytes, reason: str
) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(ArticleError) as info:
        read_article(path)
    assert name in str(info.value)
    assert reason in str(info.value)


def test_find_articles_filters_and_warns(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("A\n\nB", encoding="utf-8")
    (tmp_path / "b.md").write_text("A\n\nB", encoding="utf-8")
    (tmp_path / "c.html").write_text("<p>A</p>", encoding="utf-8")
    (tmp_path / "notes.xlsx").write_bytes(b"PK\x03\x04")
    (tmp_path / ".hidden.txt").write_text("A\n\nB", encoding="utf-8")
    found, warnings = find_articles([tmp_path, tmp_path / "notes.xlsx", tmp_path / "gone.txt"])
    assert [p.name for p in found] == ["a.txt", "b.md", "c.html"]
    assert len(warnings) == 2
    assert "notes.xlsx" in warnings[0]
    assert "gone.txt" in warnings[1]


# --- titles --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("block", "title"),
    [
        ("US grants Panama $6 million for repatriation of illegal immigrants", True),
        ("iTunes now selling Band Aid song", True),
        ("$1m payoff for former Shell boss", True),
        ("Is this the end of cash?", True),
        ("# Solar ferry enters service", True),
        ("The city council approved a budget of 42 million dollars on Tuesday.", False),
        ("the council met on Tuesday", False),
        ("Two lines\nare a paragraph", False),
        ("Talks resumed on Monday, the ministry said,", False),
    ],
)
def test_the_first_block_is_a_title_only_when_it_looks_like_one(block: str, title: bool) -> None:
    paragraphs = classify([block, "A body paragraph follows it, ending in a full stop."])
    assert (paragraphs[0].kind == TITLE) is title
