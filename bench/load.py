"""Load: concurrent clients asking through the chat page's API for a bounded time.

    .venv/bin/python bench/load.py [--clients 20] [--seconds 60]

Starts `app.py` on a free port of 127.0.0.1 over its own copy of the seed articles and
index, asks every seed question whose answer is known (eval/questions.jsonl, the cases
without a conversation) once alone, keeps those answered correctly, then lets N
`gradio_client` sessions ask them round-robin until the time is up. An answer under load
is wrong when it fails the question's checks (keywords in the text and a gold paragraph
cited, or an abstention for an unanswerable question) or differs from the one given
alone. Run by itself it adds its result to bench/results.json and bench/results.md;
`bench/scale.py` (make bench) runs it as its last stage.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = ROOT / "eval" / "questions.jsonl"
SEEDS = ROOT / "seeds"
START_TIMEOUT = 240  # seconds: model load and Gradio start on a busy 2-core machine
# Settings from the caller's shell that would change what is measured.
FOREIGN_ENV = ("QA_AUTH", "QA_EMBED_MODEL", "QA_EMBED_VARIANT", "QA_RETRIEVAL", "QA_LLM_MODEL",
               "QA_TOP_K", "QA_MAX_CONTEXT_TOKENS", "OPENAI_API_KEY", "OPENAI_BASE_URL",
               "CHROMA_HOST", "CHROMA_PORT")  # fmt: skip


@dataclass
class App:
    url: str
    index_dir: Path
    seeds_dir: Path
    process: subprocess.Popen[bytes]
    log: Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_app(
    index_dir: Path, seeds_dir: Path, workdir: Path, env_extra: dict[str, str] | None = None
) -> App:
    """`python app.py` in its own process on a free port, as a user starts it; returns
    once it serves (also used by tests/test_app.py)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in FOREIGN_ENV}
    env.update(
        QA_INDEX_DIR=str(index_dir),
        QA_SEEDS_DIR=str(seeds_dir),
        QA_HOST="127.0.0.1",
        QA_PORT=str(port),
        QA_LLM="extractive",
        GRADIO_ANALYTICS_ENABLED="False",
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        ANONYMIZED_TELEMETRY="False",
    )
    env.update(env_extra or {})
    workdir.mkdir(parents=True, exist_ok=True)
    log = workdir / "app.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, str(ROOT / "app.py")],
            cwd=workdir,  # Gradio's own files land here, not in the checkout
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    app = App(f"http://127.0.0.1:{port}/", index_dir, seeds_dir, process, log)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"app.py exited with {process.returncode}:\n{log_tail(app)}")
        try:
            with urllib.request.urlopen(app.url, timeout=5) as response:
                if response.status == 200:
                    return app
        except OSError:
            pass
        time.sleep(0.5)
    stop_app(app)
    raise RuntimeError(f"app.py did not serve {app.url} in {START_TIMEOUT} s:\n{log_tail(app)}")


def stop_app(app: App) -> None:
    app.process.terminate()
    try:
        app.process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        app.process.kill()
        app.process.wait(timeout=20)


def log_tail(app: App, lines: int = 40) -> str:
    return "\n".join(app.log.read_text(errors="replace").splitlines()[-lines:])


@contextmanager
def running_app(workdir: Path) -> Iterator[App]:
    """The app over a private copy of the seed articles and a fresh index of them."""
    from qa.settings import Settings
    from qa.store.ingest import ingest
    from qa.store.opened import forget_stores

    seeds_dir, index_dir = workdir / "articles", workdir / "index"
    shutil.copytree(SEEDS, seeds_dir)
    settings = Settings.from_env({"QA_INDEX_DIR": str(index_dir), "QA_SEEDS_DIR": str(seeds_dir)})
    ingest([seeds_dir], settings, quiet=True)
    forget_stores()
    app = start_app(index_dir, seeds_dir, workdir / "run")
    try:
        yield app
    finally:
        stop_app(app)


# --- questions and their checks ---------------------------------------------------------


def seed_cases(limit: int | None = None) -> list[dict[str, Any]]:
    """Questions of the fixed set that stand alone (no conversation), spread over types."""
    cases = [json.loads(line) for line in QUESTIONS.read_text().splitlines() if line.strip()]
    alone = [c for c in cases if c["type"] != "followup" and not c.get("history")]
    if limit is not None and limit < len(alone):
        step = len(alone) / limit
        alone = [alone[int(i * step)] for i in range(limit)]
    return alone


def check(case: dict[str, Any], result: dict[str, Any]) -> str:
    """'' when the answer is right for the case, else what is wrong with it."""
    if not case["answerable"]:
        return "" if result["abstained"] else "answered an unanswerable question"
    if result["abstained"]:
        return "abstained"
    text = result["answer"].lower()
    for group in case["keywords"]:
        if not any(k.lower() in text for k in group):
            return f"none of {group} in the answer"
    gold = {(g["source"], g["paragraph"]) for g in case["gold"]}
    cited = {(c["source"], c["paragraph"]) for c in result["citations"]}
    if gold and not gold & cited:
        return "no gold paragraph cited"
    return ""


def references(url: str, cases: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Each question asked alone; only the ones answered correctly go into the mix."""
    from gradio_client import Client

    client = Client(url, verbose=False)
    known: dict[str, dict[str, Any]] = {}
    for case in cases:
        result = client.predict(case["question"], api_name="/ask")
        if not check(case, result):
            known[case["question"]] = result
    return known


# --- the load -----------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    pos = (len(ordered) - 1) * q
    lo, hi = int(pos), min(int(pos) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def hammer(
    url: str,
    cases: list[dict[str, Any]],
    known: dict[str, dict[str, Any]],
    clients: int,
    seconds: float,
) -> dict[str, Any]:
    """`clients` sessions, each in its own thread, asking until `seconds` have passed
    (a request under way then is finished and counted)."""
    from gradio_client import Client

    mix = [c for c in cases if c["question"] in known]
    sessions = [Client(url, verbose=False) for _ in range(clients)]  # before the clock
    latencies: list[float] = []
    errors: list[str] = []
    wrong: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(clients + 1)
    deadline = [0.0]

    def worker(i: int) -> None:
        client = sessions[i]
        start.wait()
        n = i
        while time.monotonic() < deadline[0]:
            case = mix[n % len(mix)]
            n += 1
            t = time.perf_counter()
            try:
                result = client.predict(case["question"], api_name="/ask")
            except Exception as exc:
                with lock:
                    errors.append(f"{type(exc).__name__}: {exc}"[:300])
                continue
            elapsed = (time.perf_counter() - t) * 1000
            problem = check(case, result)
            if not problem and result != known[case["question"]]:
                problem = "differs from the answer given alone"
            with lock:
                latencies.append(elapsed)
                if problem:
                    wrong.append(f"{case['id']}: {problem}")

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    began = time.monotonic()
    deadline[0] = began + seconds
    start.wait()
    for thread in threads:
        thread.join()
    wall = time.monotonic() - began
    return {
        "clients": clients,
        "seconds": seconds,
        "wall_s": wall,
        "distinct_questions": len(mix),
        "requests": len(latencies) + len(errors),
        "answered": len(latencies),
        "errors": len(errors),
        "wrong": len(wrong),
        "error_samples": errors[:5],
        "wrong_samples": wrong[:5],
        "p50_ms": percentile(latencies, 0.5),
        "p95_ms": percentile(latencies, 0.95),
        "max_ms": max(latencies, default=float("nan")),
        "throughput_per_s": len(latencies) / wall,
    }


def run(seconds: float = 60, clients: int = 20, limit: int | None = None) -> dict[str, Any]:
    cases = seed_cases(limit)
    with tempfile.TemporaryDirectory(prefix="qa-load-") as tmp, running_app(Path(tmp)) as app:
        known = references(app.url, cases)
        if not known:
            raise RuntimeError("no seed question was answered correctly even alone")
        result = hammer(app.url, cases, known, clients, seconds)
    result["asked_alone"] = len(cases)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60)
    args = parser.parse_args()
    result = run(args.seconds, args.clients)
    print(json.dumps(result, indent=2))
    from scale_results import RESULTS_JSON, write_markdown

    if RESULTS_JSON.exists():
        results = json.loads(RESULTS_JSON.read_text())
        results["load"] = result
        RESULTS_JSON.write_text(json.dumps(results, indent=2) + "\n")
        write_markdown(results)
    return 0 if result["errors"] == 0 and result["wrong"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
