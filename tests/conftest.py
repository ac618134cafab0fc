"""Shared set-up: every test gets its own empty index folder; read-only tests share one
index of the seed articles, built once per session with the real model and Chroma."""

from __future__ import annotations

import os

# Before anything imports transformers or the hub client: nothing may go online.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["ANONYMIZED_TELEMETRY"] = "False"

import re  # noqa: E402
import shutil  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import pytest  # noqa: E402

from qa import ask  # noqa: E402
from qa.answering.answer import Answer  # noqa: E402
from qa.settings import Settings  # noqa: E402
from qa.store.embedding import BundledEmbedding  # noqa: E402
from qa.store.ingest import ingest  # noqa: E402
from qa.store.opened import forget_stores  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
SEED_000 = "000_0ce03826c05cdb58.txt"
SEED_002 = "002_a1171a754c888c85.txt"

# Settings read from the environment that would change what the tests exercise.
FOREIGN_ENV = (
    "QA_INDEX_DIR",
    "QA_SEEDS_DIR",
    "QA_EMBED_MODEL",
    "QA_EMBED_VARIANT",
    "QA_EMBED_THREADS",
    "QA_RETRIEVAL",
    "QA_LLM_TIMEOUT",
    "QA_LLM_RETRIES",
    "QA_LLM_MAX_TOKENS",
    "QA_LLM_CONTEXT_WINDOW",
    "QA_MAX_CONTEXT_TOKENS",
    "QA_AUTH",
    "QA_LLM",
    "QA_LLM_MODEL",
    "QA_TOP_K",
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "CHROMA_HOST",
    "CHROMA_PORT",
    "QA_FETCH_TIMEOUT",
    "QA_ALLOW_PRIVATE_URLS",
)


def reader_blocks(text: str) -> list[str]:
    """Paragraphs as a person counts them: runs of non-blank lines, independently of
    qa.reading.articles (a line of only whitespace is blank)."""
    blocks: list[list[str]] = []
    current: list[str] = []
    for line in text.replace("\r\n", "\n").split("\n"):
        if line.strip():
            current.append(line)
        elif current:
            blocks.append(current)
            current = []
    if current:
        blocks.append(current)
    return ["\n".join(b).strip() for b in blocks]


def verifier_reads(
    monkeypatch: pytest.MonkeyPatch, method: str
) -> list[tuple[list[str], list[str]]]:
    """What the claim verifier's `method` ("probs" or "judge") is handed, call by call:
    the sentences and their titles (the method still runs)."""
    from qa.answering.verifier import Verifier

    seen: list[tuple[list[str], list[str]]] = []
    original = getattr(Verifier, method)

    def spy(
        self: Verifier, claim: str, sentences: list[str], titles: list[str] | None = None
    ) -> Any:
        seen.append((sentences, list(titles or [])))
        return original(self, claim, sentences, titles)

    monkeypatch.setattr(Verifier, method, spy)
    return seen


def seed_paragraph(name: str, number: int) -> str:
    return reader_blocks((SEEDS / name).read_text(encoding="utf-8"))[number - 1]


def make_settings(index_dir: Path, seeds_dir: Path = SEEDS) -> Settings:
    """Settings from a fixed environment, so a developer's shell can't change them."""
    return Settings.from_env({"QA_INDEX_DIR": str(index_dir), "QA_SEEDS_DIR": str(seeds_dir)})


def index_of(tmp_path: Path, name: str, write: Any) -> tuple[Settings, Any]:
    """A folder `name` of tmp_path, `write(folder)` filling it, ingested into its own
    index: the settings and the ingest report."""
    folder = tmp_path / name
    folder.mkdir()
    write(folder)
    settings = make_settings(tmp_path / "index", folder)
    return settings, ingest([folder], settings, quiet=True)


def converse(settings: Settings, questions: list[str]) -> list[Answer]:
    """Each question asked in turn, with the earlier questions and answers as history (as
    the chat page keeps them); the answers."""
    history: list[dict[str, str]] = []
    answers = []
    for q in questions:
        answer = ask(q, history=history, settings=settings)
        answers.append(answer)
        history += [{"role": "user", "content": q}, {"role": "assistant", "content": answer.text}]
    return answers


def words(text: str) -> set[str]:
    return set(re.findall(r"\w+", text.lower()))


@pytest.fixture(autouse=True)
def isolated_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """QA_INDEX_DIR points at an empty folder of this test; no store stays cached."""
    for name in FOREIGN_ENV:
        monkeypatch.delenv(name, raising=False)
    index_dir = tmp_path / "index"
    monkeypatch.setenv("QA_INDEX_DIR", str(index_dir))
    monkeypatch.setenv("QA_SEEDS_DIR", str(SEEDS))
    forget_stores()
    yield index_dir
    forget_stores()


@pytest.fixture
def embedded(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every passage text the real model is asked to embed (the model still runs)."""
    texts: list[str] = []
    real = BundledEmbedding.embed_passages

    def spy(self: BundledEmbedding, batch: list[str]) -> Any:
        texts.extend(batch)
        return real(self, batch)

    monkeypatch.setattr(BundledEmbedding, "embed_passages", spy)
    return texts


@pytest.fixture
def settings(isolated_index: Path) -> Settings:
    s = Settings.from_env()
    assert s.index_dir == isolated_index
    return s


@pytest.fixture
def seeds_copy(tmp_path: Path) -> Path:
    """A private copy of seeds/ that a test may edit."""
    folder = tmp_path / "articles"
    shutil.copytree(SEEDS, folder)
    return folder


@pytest.fixture(scope="session")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings of an index of a copy of seeds/, built once; tests must not change it."""
    base = tmp_path_factory.mktemp("seeded")
    folder = base / "seeds"
    shutil.copytree(SEEDS, folder)
    settings = make_settings(base / "index", folder)
    report = ingest([folder], settings, quiet=True)
    assert report.files == 2 and report.paragraphs > 0
    forget_stores()
    return settings
