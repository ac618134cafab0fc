"""The BBC articles as benchmark corpora: the distinct, valid ones (read by
qa.evaluation.bbc, the one reader of the corpus), marked copies of them, and headline
questions."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from qa.errors import QAError
from qa.evaluation.bbc import bbc_files
from qa.settings import Settings
from qa.store.ingest import IngestReport, ingest


def bbc_articles(limit: int) -> list[tuple[str, bytes]]:
    """(file name, bytes) of the distinct, valid UTF-8 articles, in a fixed order; with a
    limit, an even spread over the five topics."""
    try:
        files, _ = bbc_files()
    except QAError as exc:
        raise SystemExit(f"{exc} (`make bench` does).") from None
    out = []
    for original, text in files:
        path = Path(original)  # <topic>/<NNN>.txt under the corpus's data folder
        out.append((f"{path.parent.name}_{path.name}", text.encode("utf-8")))
    if limit and limit < len(out):
        step = len(out) / limit
        out = [out[int(i * step)] for i in range(limit)]
    return out


SENTENCE_END = re.compile(r"(?<=\w)([.!?])(?=\s|$)")


def mark_copy(text: str, copy: int) -> str:
    """Copy `copy` of an article: every sentence that ends in . ! or ? carries the words
    "(copy N)" before its full stop, so no sentence is shared with the original (the
    answerer embeds sentences; twins would hit its cache). Blocks keep their lines, so
    paragraphs keep their numbers; headlines and headings (no full stop) are unchanged."""
    return SENTENCE_END.sub(rf" (copy {copy})\1", text)


def write_corpus(articles: list[tuple[str, bytes]], folder: Path, copy: int = 0) -> None:
    """Article files in `folder`, written once (a marker records that they are complete)."""
    done = folder / ".complete"
    if done.exists():
        return
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for name, data in articles:
        stem = name[: -len(".txt")]
        if copy:
            text = mark_copy(data.decode("utf-8"), copy)
            (folder / f"{stem}_c{copy:02d}.txt").write_text(text, encoding="utf-8")
        else:
            (folder / f"{stem}.txt").write_bytes(data)
    done.write_text("ok\n")


def headline_questions(articles: list[tuple[str, bytes]], n: int) -> list[tuple[str, str]]:
    """(headline, file name) of n articles spread over the corpus: the headline as query."""
    step = max(1, len(articles) // n)
    picked = articles[step // 2 :: step][:n]
    return [(data.decode("utf-8").splitlines()[0].strip(), name) for name, data in picked]


def distinct_index(cache: Path) -> tuple[list[tuple[str, bytes]], Settings, IngestReport]:
    """Every distinct BBC article, written to cache/articles and ingested into
    cache/index (kept: a rerun embeds nothing)."""
    articles = bbc_articles(0)
    folder = cache / "articles"
    write_corpus(articles, folder)
    settings = Settings(index_dir=cache / "index", seeds_dir=folder)
    return articles, settings, ingest([folder], settings, quiet=True)
