"""How the chat page turns an Answer into a chat message (qa/web/render.py; the browser
tests show it rendered), and how app.py reads QA_AUTH."""

from __future__ import annotations

import sys

import pytest
from conftest import ROOT

sys.path.insert(0, str(ROOT))  # app.py is a script at the top of the checkout

from app import parse_auth  # noqa: E402
from qa.answering.answer import Answer, Citation  # noqa: E402
from qa.errors import QAError  # noqa: E402
from qa.web.render import answer_html, render, shown_question  # noqa: E402

PARAGRAPH = "First sentence <b>here</b> & more. The $6 million went to *training*."


def cited() -> Answer:
    citation = Citation(
        n=1,
        source="a.txt",
        paragraph=4,
        text=PARAGRAPH,
        score=0.8,
        title="A <title>",
        sentence="The $6 million went to *training*.",
    )
    answer = Answer(text="The $6 million went to *training*. [1]", abstained=False)
    answer.citations = [citation]
    answer.question = answer.standalone_question = "Where did the money go?"
    return answer


def test_markers_become_footnotes_and_html_is_escaped() -> None:
    assert answer_html("Six [1] and [12] <i>x</i>") == (
        'Six <sup class="qa-cite qa-cite-1" title="Source 1">[1]</sup> and '
        '<sup class="qa-cite qa-cite-12" title="Source 12">[12]</sup> &lt;i&gt;x&lt;/i&gt;'
    )


def test_sources_hold_the_verbatim_paragraph_with_the_sentence_marked() -> None:
    html = render(cited(), seconds=0.25)
    answer, sources, meta = html.split("\n\n")
    assert answer.startswith("The $6 million") and "qa-cite-1" in answer
    # One HTML block: a blank line inside would end it and Markdown would take over.
    assert sources.startswith('<div class="qa-sources">') and "\n" not in sources
    assert '<details class="qa-source-1"><summary>[1] ' in sources
    assert "A &lt;title&gt;" in sources and "a.txt, paragraph 4" in sources
    assert (
        "First sentence &lt;b&gt;here&lt;/b&gt; &amp; more. "
        "<mark>The $6 million went to *training*.</mark>"
    ) in sources
    assert meta == '<div class="qa-meta">answered by extractive in 0.2 s</div>'
    assert "Understood as" not in html


def test_abstention_lists_related_paragraphs_not_sources() -> None:
    related = cited().citations[0]
    answer = Answer(text="The articles don't answer this question.", abstained=True)
    answer.related = [related]
    html = render(answer)
    assert '<div class="qa-abstain">The articles don&#x27;t answer this question.</div>' in html
    assert "qa-related" in html and "Related" in html and "qa-sources" not in html
    assert "<mark>" not in html and "[1]" not in html  # related paragraphs are not evidence


def test_fallback_and_notes_and_rewritten_follow_up_are_shown() -> None:
    answer = cited()
    answer.fallback = True
    answer.answerer = "local-model"
    answer.notes = ["The model server did not answer within 10 s."]
    answer.question = "How much did he give?"
    answer.standalone_question = "How much did Mayorkas give?"
    html = render(answer)
    assert "The model could not be used" in html
    assert "did not answer within 10 s" in html
    assert "answered by extractive" in html and "local-model" not in html
    assert "Understood as: “How much did Mayorkas give?”" in html


def test_long_question_is_cut_in_its_bubble() -> None:
    shown = shown_question("<q> " + "x" * 1000)
    assert shown.startswith("&lt;q&gt; xxx") and shown.endswith("(1,004 characters)")
    assert len(shown) < 460


def test_auth_setting() -> None:
    assert parse_auth(None) is None
    assert parse_auth("ann:pa:ss") == ("ann", "pa:ss")
    for bad in ("ann", ":pw", "ann:"):
        with pytest.raises(QAError, match="user:password"):
            parse_auth(bad)


def test_short_answer_is_bold_and_an_unsupported_sentence_is_marked() -> None:
    text = (
        '$6,000,000 [1]. "MIAMI.- The amount ... is $6,000,000." [1] '
        "It bought 40 boats. ⚠️ (not found in [1])"
    )
    html = answer_html(text, short="$6,000,000")
    assert html.startswith('<strong class="qa-short">$6,000,000</strong> <sup')
    assert '<span class="qa-flag">⚠️ (not found in <sup' in html
    # a short answer the text does not start with is not highlighted
    assert "qa-short" not in answer_html("Six million [1].", short="$6,000,000")


def test_a_citation_with_copies_says_where_else_it_stands() -> None:
    answer = cited()
    answer.citations[0].also_in = [
        {"source": "b<x>.txt", "paragraph": 3, "date": "2024-03-05", "site": ""},
        {"source": "c.txt", "paragraph": 2, "date": "", "site": ""},
    ]
    html = render(answer)
    assert "also in 2 articles" in html
    assert "b&lt;x&gt;.txt, paragraph 3; c.txt, paragraph 2" in html  # the tooltip, escaped
    assert "also in" not in render(cited())
