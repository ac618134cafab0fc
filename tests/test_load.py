"""Twenty clients asking through the chat page's API at once, for a bounded time: every
answer right, none failing. The app runs as a user starts it (`python app.py`) over its
own copy of the articles; the load itself is bench/load.py's. No timing is asserted."""

from __future__ import annotations

import sys
from pathlib import Path

from conftest import ROOT

sys.path.insert(0, str(ROOT / "bench"))  # bench/ holds scripts, not a package

import load  # noqa: E402

CLIENTS = 20
SECONDS = 12
QUESTIONS = 12  # asked alone first; the correctly answered ones make the mix


def test_twenty_concurrent_clients_all_answered_correctly(tmp_path: Path) -> None:
    cases = load.seed_cases(QUESTIONS)
    with load.running_app(tmp_path) as app:
        known = load.references(app.url, cases)
        assert len(known) >= QUESTIONS // 2, "most seed questions are answered right alone"
        result = load.hammer(app.url, cases, known, CLIENTS, SECONDS)
    print(
        f"\n{result['requests']} requests from {CLIENTS} clients in {result['wall_s']:.0f} s: "
        f"p50 {result['p50_ms']:.0f} ms, p95 {result['p95_ms']:.0f} ms"
    )
    assert result["errors"] == 0, result["error_samples"]
    assert result["wrong"] == 0, result["wrong_samples"]
    assert result["answered"] >= CLIENTS  # every client got at least one answer in
