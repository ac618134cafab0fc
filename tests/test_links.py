"""Links: `qa ingest https://...` and the Articles tab's link field (qa.store.library.add_url),
against a real web server on 127.0.0.1. A page is fetched into the articles folder
under a stable name and answerable; a link that fails says why in one line and changes
nothing; the chat page's fetcher refuses the server's own network."""

from __future__ import annotations

import ipaddress
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import make_settings
from page_server import PageServer, Route, redirect
from test_cli import run_qa

import qa.reading.fetch
from qa import ask
from qa.reading.fetch import FetchError, fetch, saved_name
from qa.settings import Settings
from qa.store.index import Store
from qa.store.ingest import ingest
from qa.store.library import add_url, list_articles

FERRY_PAGE = """<!DOCTYPE html>
<html><head>
<title>Solar ferry enters service on Lake Varnen | Varnen Post</title>
<meta property="og:title" content="Solar ferry enters service on Lake Varnen">
<meta property="og:site_name" content="Varnen Post">
<meta name="author" content="Ingrid Holm">
<meta property="article:published_time" content="2024-05-14T08:00:00Z">
<link rel="canonical" href="https://varnenpost.example/news/solar-ferry">
</head><body>
<nav><a href="/">Home</a> | <a href="/sport">Sport</a> | <a href="/weather">Weather</a></nav>
<article>
<h1>Solar ferry enters service on Lake Varnen</h1>
<p>The town of Ostby launched its first solar-powered ferry on Tuesday, replacing a diesel
boat that had crossed Lake Varnen since 1987.</p>
<p>The ferry, named Solveig, carries up to 240 passengers and 18 bicycles, and makes the
crossing in 25 minutes, the harbour office said.</p>
<p>Its batteries are charged from panels on the roof of the ferry terminal, which also
powers the ticket office.</p>
</article>
<footer><p>Share this article</p><p>Copyright © 2024 Varnen Post. All rights reserved.</p>
</footer></body></html>
"""
QUESTION = "How many passengers can the solar ferry Solveig carry?"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "harbour.txt").write_text(
        "Harbour reopens after storm repairs\n\nThe port of Kelvik reopened on Friday after "
        "three weeks of repairs to its storm-damaged pier.\n",
        encoding="utf-8",
    )
    return folder


@pytest.fixture
def library(folder: Path, tmp_path: Path) -> Settings:
    settings = make_settings(tmp_path / "index", folder)
    ingest([folder], settings, quiet=True)
    return settings


@pytest.fixture
def server() -> PageServer:
    with PageServer() as server:
        server.routes["/news/solar-ferry.html"] = Route(FERRY_PAGE.encode())
        yield server


def state(settings: Settings) -> tuple[set[str], dict[str, bytes]]:
    ids = {row["id"] for row in Store(settings).records()}
    files = {p.name: p.read_bytes() for p in settings.seeds_dir.iterdir()}
    return ids, files


def test_cli_ingests_a_link_into_the_articles_folder_and_answers(
    server: PageServer, folder: Path, tmp_path: Path
) -> None:
    index_dir = tmp_path / "cli-index"
    url = server.url("/news/solar-ferry.html")
    result = run_qa("ingest", url, index_dir=index_dir, QA_SEEDS_DIR=str(folder))
    assert result.returncode == 0, result.stderr
    name = saved_name(url, ".html")
    assert (folder / name).is_file() and name in result.stderr
    assert name.startswith("127-0-0-1-") and name.endswith(".html")
    assert (folder / name).read_text(encoding="utf-8").startswith(f"<!-- qa-source: {url} -->")

    settings = make_settings(index_dir, folder)
    answer = ask(QUESTION, settings=settings)
    assert not answer.abstained and "240" in answer.text
    cited = answer.citations[0]
    assert (cited.source, cited.paragraph) == (name, 3)
    assert (cited.site, cited.date, cited.author) == ("Varnen Post", "2024-05-14", "Ingrid Holm")
    assert cited.url == "https://varnenpost.example/news/solar-ferry"
    assert "Copyright" not in " ".join(p.text for p in answer.citations)

    # The same link again replaces the same file; `qa ingest` of the folder keeps it.
    again = run_qa("ingest", url, "--json", index_dir=index_dir, QA_SEEDS_DIR=str(folder))
    assert again.returncode == 0, again.stderr
    assert sorted(p.name for p in folder.iterdir()) == sorted(["harbour.txt", name])
    assert '"embedded": 0' in again.stdout.splitlines()[-1]
    report = ingest([folder], settings, quiet=True)  # adds harbour.txt, keeps the page
    assert (report.files, report.added, report.unchanged, report.removed) == (2, 1, 3, 0)


@pytest.mark.parametrize(
    ("path", "route", "message"),
    [
        ("/gone", None, "the server answered 404 Not Found"),
        ("/loop-a", redirect("/loop-b"), "redirect loop"),
        ("/huge", Route(size=50 * 1024 * 1024), "50.0 MB is over the 20 MB limit"),
        ("/huge-stream", Route(size=50 * 1024 * 1024, length=False), "more than the 20 MB limit"),
        ("/photo", Route(b"\x89PNG\r\n\x1a\n" + bytes(2000), content_type="image/png"),
         "not a web page or PDF (image/png)"),
        ("/blob", Route(bytes(range(256)) * 10, content_type="application/octet-stream"),
         "not a web page or PDF (application/octet-stream)"),
    ],
)  # fmt: skip
def test_a_bad_link_gives_one_clear_line_and_changes_nothing(
    server: PageServer, library: Settings, path: str, route: Route | None, message: str
) -> None:
    if route is not None:
        server.routes[path] = route
    server.routes["/loop-b"] = redirect("/loop-a")
    before = state(library)
    result = run_qa(
        "ingest", server.url(path), index_dir=library.index_dir,
        QA_SEEDS_DIR=str(library.seeds_dir),
    )  # fmt: skip
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ") and message in lines[0]
    assert server.url(path).lower() in lines[0]
    assert state(library) == before


def test_the_chat_pages_fetcher_refuses_the_servers_own_network(
    server: PageServer, library: Settings
) -> None:
    url = server.url("/news/solar-ferry.html")
    before = state(library)
    result = add_url(url, library)  # the setting's default: no private addresses
    assert result.added == [] and len(result.rejected) == 1
    assert "loopback" in result.rejected[0] and "QA_ALLOW_PRIVATE_URLS" in result.rejected[0]
    assert server.hits == []  # refused before connecting
    assert state(library) == before

    allowed = add_url(url, library.with_(allow_private_urls=True))
    assert allowed.added == [saved_name(url, ".html")] and allowed.rejected == []
    listed = {a.source: a for a in list_articles(library)}
    ferry = listed[saved_name(url, ".html")]
    assert ferry.title == "Solar ferry enters service on Lake Varnen"
    assert (ferry.site, ferry.date, ferry.author) == ("Varnen Post", "2024-05-14", "Ingrid Holm")
    assert "240" in ask(QUESTION, settings=library).text


def test_addresses_are_checked_after_redirects_and_dns(
    server: PageServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Let this test's server stand for a public one; every other address is judged as is.
    fetching = qa.reading.fetch
    real = fetching._special
    monkeypatch.setattr(fetching, "_special", lambda ip: "" if str(ip) == "127.0.0.1" else real(ip))
    server.routes["/to-metadata"] = redirect("http://169.254.169.254/latest/meta-data/")
    server.routes["/to-intranet"] = redirect("http://intranet.test/wiki")
    real_getaddrinfo = qa.reading.fetch.socket.getaddrinfo

    def getaddrinfo(host: str, *args: object, **kwargs: object) -> object:
        if host == "intranet.test":
            return [(2, 1, 6, "", ("10.1.2.3", 80))]
        return real_getaddrinfo(host, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(qa.reading.fetch.socket, "getaddrinfo", getaddrinfo)
    limits = {"timeout": 10.0, "max_bytes": 1 << 20, "allow_private": False}
    assert b"Solveig" in fetch(server.url("/news/solar-ferry.html"), **limits).data
    with pytest.raises(FetchError, match="a link-local address"):
        fetch(server.url("/to-metadata"), **limits)
    with pytest.raises(FetchError, match=r"intranet.test is a private address \(10.1.2.3\)"):
        fetch(server.url("/to-intranet"), **limits)


@pytest.mark.parametrize(
    ("address", "why"),
    [("127.0.0.1", "a loopback"), ("::1", "a loopback"), ("10.0.0.8", "a private"),
     ("192.168.1.1", "a private"), ("169.254.169.254", "a link-local"),
     ("fe80::1", "a link-local"), ("::ffff:127.0.0.1", "a loopback"),
     ("0.0.0.0", "an unspecified"), ("100.64.0.1", "a non-public"),
     ("93.184.215.14", ""), ("2606:4700::1111", "")],
)  # fmt: skip
def test_which_addresses_are_special(address: str, why: str) -> None:
    assert qa.reading.fetch._special(ipaddress.ip_address(address)) == why


def test_a_dns_failure_and_a_timeout_are_one_line(library: Settings) -> None:
    limits = {"timeout": 2.0, "max_bytes": 1 << 20, "allow_private": True}
    with pytest.raises(FetchError, match="could not find the server no-such-host.invalid"):
        fetch("http://no-such-host.invalid/x", **limits)
    with pytest.raises(FetchError, match="not a web address"):
        fetch("ftp://example.org/file", **limits)
    # A server that accepts the connection and never answers.
    import socket

    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        port = silent.getsockname()[1]
        with pytest.raises(FetchError, match="no answer within 2 s"):
            fetch(f"http://127.0.0.1:{port}/slow", **limits)


def test_ingest_cli_help_mentions_links() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "qa", "ingest", "--help"], capture_output=True, text=True
    )
    assert "https://" in result.stdout
