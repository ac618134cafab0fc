"""Server mode: the paragraphs live in a real `chroma run` server on 127.0.0.1; ingest,
ask, the CLI and a second machine (another local folder) all use it."""

from __future__ import annotations

import importlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import ROOT, SEED_000, make_settings

from qa.desk.quotebook import book
from qa.desk.said import quotes
from qa.errors import IndexMissingError
from qa.service import ask, retrieve
from qa.settings import Settings
from qa.store.ingest import ingest
from qa.store.library import delete_article, list_articles

opened = importlib.import_module("qa.store.opened")
QUESTION = "How much money did the US give Panama for the deportation flights?"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """A fresh server per test, so tests don't share a collection."""
    chroma = shutil.which("chroma", path=str(Path(sys.executable).parent))
    assert chroma, "the chroma command is not installed beside this Python (make install)"
    port = free_port()
    data = tmp_path_factory.mktemp("chroma-server")
    proc = subprocess.Popen(
        [chroma, "run", "--path", str(data), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1):
                    break
            except OSError:
                assert proc.poll() is None, "chroma run exited"
                assert time.monotonic() < deadline, "chroma run did not start in 60 s"
                time.sleep(0.2)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def on_server(folder: Path, articles: Path, port: int) -> Settings:
    return make_settings(folder, articles).with_(chroma_host="127.0.0.1", chroma_port=port)


def test_ingest_and_ask_through_the_server(
    chroma_server: int, tmp_path: Path, seeds_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    here = on_server(tmp_path / "machine-a", seeds_copy, chroma_server)
    report = ingest([seeds_copy], here, quiet=True)
    assert report.files == 2 and report.paragraphs == report.added > 20

    answer = ask(QUESTION, settings=here)
    assert answer.citations and (answer.citations[0].source, answer.citations[0].paragraph) == (
        SEED_000,
        2,
    )
    # The vectors are on the server: nothing but the word index is kept locally.
    assert not (here.index_dir / "chroma.sqlite3").exists()
    assert (here.index_dir / "lexical").is_dir()
    assert ingest([seeds_copy], here, quiet=True).embedded == 0

    # Another machine: its own empty folder, the same server.
    there = on_server(tmp_path / "machine-b", seeds_copy, chroma_server)
    hits = retrieve("Darién jungle crossings 2023", k=5, settings=there, mode="bm25")
    assert hits, "the second machine built its word index from the server"
    assert ask(QUESTION, settings=there).text == answer.text

    # An article added from the first machine reaches the second without a restart.
    (seeds_copy / "port.txt").write_text(
        "Port news\n\nThe Vardø ferry terminal reopened on Monday after 41 days.\n",
        encoding="utf-8",
    )
    ingest([seeds_copy], here, quiet=True)
    monkeypatch.setattr(opened, "SERVER_CHECK_SECONDS", 0.0)
    new = ask("When did the Vardø ferry terminal reopen?", settings=there)
    assert [c.source for c in new.citations] == ["port.txt"]
    assert [h.source for h in retrieve("Vardø ferry", k=1, settings=there, mode="bm25")] == [
        "port.txt"
    ]


def test_an_article_deleted_on_one_machine_leaves_the_other(
    chroma_server: int, tmp_path: Path, seeds_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (seeds_copy / "port.txt").write_text(
        "Port news\n\nThe Vardø ferry terminal reopened on Monday after 41 days.\n",
        encoding="utf-8",
    )
    here = on_server(tmp_path / "machine-a", seeds_copy, chroma_server)
    there = on_server(tmp_path / "machine-b", seeds_copy, chroma_server)
    ingest([seeds_copy], here, quiet=True)
    monkeypatch.setattr(opened, "SERVER_CHECK_SECONDS", 0.0)
    assert "port.txt" in {
        h.source for h in retrieve("Vardø ferry", k=3, settings=there, mode="bm25")
    }

    [port] = [a for a in list_articles(here) if a.source == "port.txt"]
    delete_article(port.path, here)
    assert "port.txt" not in {
        h.source for h in retrieve("Vardø ferry", k=3, settings=there, mode="bm25")
    }
    assert ask(QUESTION, settings=there).citations[0].source == SEED_000


def test_cli_uses_the_server_from_the_environment(
    chroma_server: int, tmp_path: Path, seeds_copy: Path
) -> None:
    env = {
        **os.environ,
        "CHROMA_HOST": "127.0.0.1",
        "CHROMA_PORT": str(chroma_server),
        "QA_INDEX_DIR": str(tmp_path / "cli"),
    }

    def qa(*args: str) -> dict[str, object]:
        out = subprocess.run(
            [sys.executable, "-m", "qa", *args, "--json"], cwd=ROOT, env=env,
            capture_output=True, text=True, timeout=300, check=True,
        )  # fmt: skip
        return dict(json.loads(out.stdout.splitlines()[-1]))

    assert qa("ingest", str(seeds_copy))["files"] == 2
    answer = qa("ask", QUESTION)
    assert answer["citations"][0]["source"] == SEED_000  # type: ignore[index]


def test_quotes_are_stored_on_the_server_and_read_by_another_machine(
    chroma_server: int, tmp_path: Path, seeds_copy: Path
) -> None:
    here = on_server(tmp_path / "machine-a", seeds_copy, chroma_server)
    ingest([seeds_copy], here, quiet=True)
    there = on_server(tmp_path / "machine-b", seeds_copy, chroma_server)
    found = book(there)
    # Stored by machine A's ingest, in the server: machine B extracts nothing itself.
    assert found.extracted_on_read == 0
    miranda = quotes("Miranda", there)
    assert [(q.source, q.citations[0].paragraph) for q in miranda] == [
        (SEED_000, 13), (SEED_000, 13), (SEED_000, 18)
    ]  # fmt: skip
    assert [q.speaker for q in quotes("Jocobstein", there)] == ["Eric Jacobstein"] * 7


def test_server_down_is_a_clear_error(tmp_path: Path, seeds_copy: Path) -> None:
    settings = on_server(tmp_path / "x", seeds_copy, free_port())
    with pytest.raises(IndexMissingError, match="Could not connect to the Chroma server"):
        ask(QUESTION, settings=settings)
