"""E-mail, written here with the standard library: an .eml whose subject, sender and
date are the article's, whose quoted reply chain and signature are not evidence, whose
PDF attachment is an article of its own cited with its page; a legacy charset read as
declared; an HTML-only message; a mailbox whose messages are articles, a message removed
from it leaving the index; scope by the mailbox's name; bad e-mail files refused."""

from __future__ import annotations

import mailbox
from email.message import EmailMessage
from pathlib import Path

import pytest
from conftest import index_of, make_settings
from fpdf import FPDF

from qa import ask
from qa.reading.articles import BODY, BOILERPLATE, ArticleError, read_articles
from qa.store.ingest import ingest
from qa.store.library import check_upload, delete_article, list_articles

REPLY = """Hello all,

The harbour board approved the new breakwater on Tuesday, at a cost of 3.4 million euros.

Work starts in June and should take eleven months.

On Mon, 3 Jun 2024 at 09:12, Per Olsen <per@example.org> wrote:
> Did the board vote on the breakwater?
> The ferry operator wants a cost of 9 million euros on the record.

--
Ann Lee
Kelvik Harbour Gazette
"""


def attachment_pdf() -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 10, "Breakwater tender results")
    pdf.ln(14)
    pdf.set_font("Helvetica", size=11)
    pdf.cell(0, 6, "The winning tender came from Nordbyg, which bid 3.1 million euros.")
    pdf.ln(11)
    return bytes(pdf.output())


def message(subject: str, body: str, sender: str = "Ann Lee <ann@example.org>",
            date: str = "Tue, 04 Jun 2024 10:30:00 +0200") -> EmailMessage:  # fmt: skip
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = sender
    msg["To"] = "desk@example.org"
    msg["Date"] = date
    msg.set_content(body)
    return msg


def write_eml(path: Path) -> Path:
    msg = message("Breakwater approved", REPLY)
    msg.add_attachment(attachment_pdf(), maintype="application", subtype="pdf",
                       filename="tender.pdf")  # fmt: skip
    msg.add_attachment(b"\x89PNG not read", maintype="image", subtype="png", filename="x.png")
    path.write_bytes(bytes(msg))
    return path


def test_a_message_and_its_attachment_are_articles(tmp_path: Path) -> None:
    mail, tender = read_articles(write_eml(tmp_path / "breakwater.eml"))
    assert (mail.title, mail.author, mail.date) == ("Breakwater approved", "Ann Lee", "2024-06-04")
    assert mail.source == "breakwater.eml" and mail.part == ""
    kinds = [(p.text.split("\n")[0][:20], p.kind) for p in mail.paragraphs]
    assert kinds == [
        ("Hello all,", BODY),
        ("The harbour board ap", BODY),
        ("Work starts in June ", BODY),
        ("On Mon, 3 Jun 2024 a", BOILERPLATE),
        ("> Did the board vote", BOILERPLATE),
        ("--", BOILERPLATE),
    ]
    assert [p.number for p in mail.evidence] == [1, 2, 3]
    assert "9 million" not in " ".join(p.text for p in mail.evidence)
    # The attachment names the message it came with, and carries its date and sender
    # where the file says nothing of them.
    assert tender.source == "breakwater.eml › attachment tender.pdf"
    assert tender.title == "Breakwater tender results"
    assert tender.date == "2024-06-04" and tender.paragraphs[-1].page == 1


def test_mail_is_ingested_answered_and_cited(tmp_path: Path) -> None:
    settings, report = index_of(tmp_path, "inbox", lambda f: write_eml(f / "breakwater.eml"))
    assert (report.files, report.articles, report.skipped) == (1, 2, [])
    cost = ask("How much will the new breakwater cost?", settings=settings)
    assert not cost.abstained and "3.4 million euros" in cost.text
    assert (cost.citations[0].source, cost.citations[0].paragraph) == ("breakwater.eml", 2)
    assert "9 million" not in cost.text  # the quoted mail is never the answer
    bid = ask("How much did Nordbyg bid in the tender?", settings=settings)
    assert not bid.abstained and "3.1 million euros" in bid.text
    cited = bid.citations[0]
    assert cited.source == "breakwater.eml › attachment tender.pdf" and cited.page == 1
    # Scoped to the message file, both articles of it are asked.
    scoped = ask("How much did Nordbyg bid in the tender?", settings=settings,
                 sources=["breakwater.eml"])  # fmt: skip
    assert scoped.scope is not None and len(scoped.scope["articles"]) == 2  # type: ignore[arg-type]


def test_a_legacy_charset_is_read_as_declared(tmp_path: Path) -> None:
    raw = (
        b"From: Jos\xe9 Pe\xf1a <jose@example.org>\r\nSubject: Caf\xe9 reopens\r\n"
        b"Date: Wed, 05 Jun 2024 08:00:00 +0000\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: text/plain; charset=windows-1252\r\n"
        b"Content-Transfer-Encoding: 8bit\r\n\r\n"
        b"The caf\xe9 on the quay reopened on Wednesday \x96 with a new terrace.\r\n"
    )
    path = tmp_path / "cafe.eml"
    path.write_bytes(raw)
    [article] = read_articles(path)
    assert article.paragraphs[0].text == (
        "The café on the quay reopened on Wednesday – with a new terrace."
    )


def test_an_html_only_message_is_read_from_its_html(tmp_path: Path) -> None:
    msg = EmailMessage()
    msg["Subject"] = "Ferry timetable"
    msg["From"] = "desk@example.org"
    msg.set_content(
        "<html><body><p>The summer timetable starts on 1 July.</p>"
        "<p>Crossings run every forty minutes.</p></body></html>",
        subtype="html",
    )
    path = tmp_path / "timetable.eml"
    path.write_bytes(bytes(msg))
    [article] = read_articles(path)
    assert [p.text for p in article.evidence] == [
        "The summer timetable starts on 1 July.", "Crossings run every forty minutes.",
    ]  # fmt: skip
    assert article.author == "desk@example.org"


def write_mbox(path: Path, bodies: list[tuple[str, str]]) -> Path:
    path.unlink(missing_ok=True)
    box = mailbox.mbox(path)
    for subject, body in bodies:
        box.add(message(subject, body))
    box.flush()
    box.close()
    return path


def test_a_mailbox_holds_one_article_per_message(tmp_path: Path) -> None:
    folder = tmp_path / "inbox"
    folder.mkdir()
    messages = [
        ("Pier", "The pier repairs cost 800,000 euros, the council said."),
        ("Lighthouse", "The lighthouse keeper retired after 31 years."),
        ("Market", "The fish market moves to the east quay in May."),
    ]
    box = write_mbox(folder / "desk.mbox", messages)
    settings = make_settings(tmp_path / "index", folder)
    report = ingest([folder], settings)
    assert (report.files, report.articles) == (1, 3)
    listed = sorted(a.source for a in list_articles(settings))
    assert listed == [f"desk.mbox › message {n}" for n in (1, 2, 3)]
    keeper = ask("How many years did the lighthouse keeper serve?", settings=settings)
    assert not keeper.abstained and keeper.citations[0].source == "desk.mbox › message 2"

    # A message removed from the mailbox leaves the index; the others stay as they were.
    write_mbox(box, [messages[0], messages[2]])
    again = ingest([folder], settings)
    assert (again.articles, again.unchanged) == (2, 1)
    assert sorted(a.source for a in list_articles(settings)) == [
        "desk.mbox › message 1", "desk.mbox › message 2",
    ]  # fmt: skip

    # Deleting one message deletes the mailbox: it cannot lose one message.
    result = delete_article(list_articles(settings)[0].path, settings)
    assert result.file_removed and result.source == "desk.mbox (2 articles)"
    assert list_articles(settings) == [] and not box.exists()


def test_the_page_upload_accepts_mail(tmp_path: Path) -> None:
    eml = write_eml(tmp_path / "breakwater.eml")
    assert check_upload(eml, "breakwater.eml") == "breakwater.eml"
    box = write_mbox(tmp_path / "desk.mbox", [("Pier", "The pier repairs cost 800,000 euros.")])
    assert check_upload(box, "desk.mbox") == "desk.mbox"
    empty = tmp_path / "empty.mbox"
    empty.write_bytes(b"From nobody\n\n")
    with pytest.raises(ArticleError, match="no message with text"):
        check_upload(empty, "empty.mbox")


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("empty.eml", b"", "empty file"),
        ("noise.eml", b"\x00\x01binary noise without headers\xff" * 10, "not an e-mail"),
        ("blank.mbox", b"From nobody\n\n", "no message with text"),
    ],
)
def test_bad_mail_files_are_refused_with_one_line(
    tmp_path: Path, name: str, data: bytes, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(ArticleError, match=message):
        read_articles(path)
