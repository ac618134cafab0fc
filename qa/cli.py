"""The `qa` command: ingest, ask, chat, check, quotes, timeline, serve, eval."""

from __future__ import annotations

import argparse
import json
import logging
import os
import shlex
import sys
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import QAError
from .reading.sources import origin, position
from .settings import ANSWERERS, Settings

if TYPE_CHECKING:
    from .store.ingest import IngestReport

USER_ERROR = 2


def _print_answer(answer: object, text: bool = True) -> None:
    from .answering.answer import Answer

    assert isinstance(answer, Answer)
    if text:
        print(textwrap.fill(answer.text, width=100))
    if answer.abstained:
        if answer.related:
            print("\nRelated (closest paragraphs, not evidence):")
            for c in answer.related:
                print(f"  - {c.source} ¶{c.paragraph}: {textwrap.shorten(c.text, 90)}")
        return
    print()
    for c in answer.citations:
        print(f"[{c.n}] {c.source}, {position(c)} (score {c.score:.2f})")
        if origin(c) or c.url:
            print(f"    {' · '.join(x for x in (origin(c), c.url) if x)}")
        if c.also_in:
            copies = "; ".join(f"{o['source']}, paragraph {o['paragraph']}" for o in c.also_in)
            print(f"    also in: {copies}")
        print(textwrap.indent(textwrap.fill(c.text, width=96), "    "))
    for note in answer.notes:
        print(f"\nNote: {note}")


def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    from .reading.fetch import is_link
    from .store.ingest import IngestReport, ingest

    def warn(msg: str) -> None:
        print(f"warning: {msg}", file=sys.stderr)

    # Links are fetched into the articles folder and ingested from there.
    links = [p for p in args.paths if is_link(p)]
    paths = [Path(p) for p in args.paths if not is_link(p)]
    report = IngestReport()
    if paths or args.rebuild or not links:
        report = ingest(
            paths or [settings.seeds_dir],
            settings,
            quiet=args.quiet or args.json,
            rebuild=args.rebuild,
            warn=warn,
        )
    if links:
        report = _ingest_links(links, settings)
    if args.json:
        print(json.dumps(report.as_dict()))
    elif not args.quiet:
        print(
            f"{report.files} files: {report.added} paragraphs added, {report.updated} updated, "
            f"{report.unchanged} unchanged, {report.removed} removed "
            f"({report.embedded} embedded); {report.paragraphs} in the index; "
            f"{report.seconds:.1f} s"
        )
    return 0


def _ingest_links(links: list[str], settings: Settings) -> IngestReport:
    """Fetch each link into the articles folder and ingest it (the user's own machine:
    local and private addresses are allowed). The first link that fails stops the
    command with its one-line reason; what was added before it stays."""
    from .store.ingest import IngestReport
    from .store.library import add_url

    report = IngestReport()
    for link in links:
        result = add_url(link, settings, allow_private=True)
        if not result.added:
            raise QAError(result.rejected[0] if result.rejected else f"{link}: nothing added")
        for msg in result.rejected:
            print(f"warning: {msg}", file=sys.stderr)
        print(f"{link}: saved as {settings.seeds_dir / result.added[0]}", file=sys.stderr)
        if result.report is not None:
            report = result.report
    return report


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    from .answering.answer import Answer
    from .service import ask, ask_stream

    if args.llm:
        settings = settings.with_(llm=args.llm)
    if args.model:
        settings = settings.with_(llm_model=args.model)
    scope = {"sources": args.source, "since": args.since, "until": args.until, "site": args.site}
    if args.json:
        out = ask(args.question, settings=settings, **scope).as_dict()
        print(json.dumps({k: out[k] for k in (
            "question", "answer", "abstained", "citations", "related", "notes", "answerer",
            "fallback", "prompt_tokens", "scope", "timings_ms",
        )}, ensure_ascii=False))  # fmt: skip
        return 0
    if settings.llm == "extractive":
        _print_answer(ask(args.question, settings=settings, **scope))
        return 0
    # A model's answer is printed as it arrives, then the sources.
    streamed: list[str] = []
    for item in ask_stream(args.question, settings=settings, **scope):
        if isinstance(item, Answer):
            if "".join(streamed).strip() != item.text:
                print("\n\n" + item.text if streamed else item.text)
            else:
                print()
            _print_answer(item, text=False)
        else:
            streamed.append(item)
            print(item, end="", flush=True)
    return 0


CHAT_HELP = (
    "Ask about the articles; each question is read with the conversation so far. "
    "/clear forgets it, /scope NAME ... keeps to those articles (/scope alone: all of "
    "them), /quit or Ctrl-D leaves."
)


def cmd_chat(args: argparse.Namespace, settings: Settings) -> int:
    """A conversation in the terminal, as on the chat page: a prompt, the answer with its
    sources under it, the earlier turns passed as history. Reads lines from a pipe too."""
    from .service import ask

    if args.llm:
        settings = settings.with_(llm=args.llm)
    interactive = sys.stdin.isatty()
    if interactive:
        import readline  # noqa: F401  (line editing and recall at the prompt)

        print(CHAT_HELP)
    history: list[dict[str, str]] = []
    sources: list[str] = list(args.source or [])
    while True:
        try:
            line = input("> " if interactive else "").strip()
        except EOFError:
            if interactive:
                print()
            return 0
        except KeyboardInterrupt:
            print()
            continue
        if not line:
            continue
        if line in ("/quit", "/exit"):
            return 0
        if line == "/clear":
            history = []
            print("(the conversation is forgotten)")
            continue
        if line.split()[0] == "/scope":
            sources = shlex.split(line[len("/scope") :])
            print(f"(asking {', '.join(sources) if sources else 'every article'})")
            continue
        if line.startswith("/"):
            print(CHAT_HELP)
            continue
        try:
            answer = ask(line, history=history, settings=settings, sources=sources or None)
        except QAError as exc:
            print(f"error: {exc}")
            continue
        if " ".join(answer.standalone_question.split()) != " ".join(line.split()):
            print(f"(understood as: {answer.standalone_question})")
        _print_answer(answer)
        print()
        history += [{"role": "user", "content": line},
                    {"role": "assistant", "content": answer.text}]  # fmt: skip


def cmd_quotes(args: argparse.Namespace, settings: Settings) -> int:
    from .desk.quotebook import book
    from .desk.said import quotes

    items = quotes(args.speaker, settings, about=args.about, sources=args.source,
                   since=args.since, until=args.until, site=args.site)  # fmt: skip
    if args.json:
        out = {"speaker": args.speaker, "about": args.about, "quotes": [i.as_dict() for i in items]}
        print(json.dumps(out, ensure_ascii=False))
        return 0
    if not items:
        who = f" by {args.speaker}" if args.speaker else ""
        about = f" about {args.about}" if args.about else ""
        print(f"No quotes{who}{about} in the articles.")
        if args.speaker:
            print(f"Quoted: {', '.join(book(settings).speakers())}")
        return 0
    shown = ""
    for item in items:
        if item.speaker != shown:
            shown = item.speaker
            print(f"\n{item.speaker}" + (f", {item.title}" if item.title else ""))
        text = f"“{item.text}”" if item.kind == "direct" else f"(reported) {item.text}"
        print(textwrap.indent(textwrap.fill(text, width=96), "  "))
        where = ", ".join(f"¶{c.paragraph}" for c in item.citations)
        said_as = f"; the article says “{item.said_as}”" if item.resolved else ""
        print(f"    — {item.source} {where}{said_as}")
    return 0


def cmd_check(args: argparse.Namespace, settings: Settings) -> int:
    from .desk.claims import check

    if args.llm:
        settings = settings.with_(llm=args.llm)
    if args.model:
        settings = settings.with_(llm_model=args.model)
    verdict = check(args.claim, settings=settings, sources=args.source, since=args.since,
                    until=args.until, site=args.site)  # fmt: skip
    if args.json:
        print(json.dumps(verdict.as_dict(), ensure_ascii=False))
        return 0
    print(f"{verdict.verdict.capitalize()}: {textwrap.fill(verdict.explanation, width=100)}")
    for title, citations in (("Against", verdict.contradicting), ("For", verdict.supporting)):
        if citations:
            print(f"\n{title}:")
        for c in citations:
            print(f"[{c.n}] {c.source}, {position(c)}")
            print(textwrap.indent(textwrap.fill(f"“{c.sentence}”", width=96), "    "))
    if verdict.related:
        print("\nRelated (closest paragraphs, not evidence):")
        for c in verdict.related:
            print(f"  - {c.source} ¶{c.paragraph}: {textwrap.shorten(c.text, 90)}")
    for note in verdict.notes:
        print(f"\nNote: {note}")
    how = "extractive" if verdict.fallback else verdict.checker
    sure = (
        f", confidence {verdict.confidence:.2f}"
        if verdict.confidence and how == "extractive"
        else ""
    )
    print(f"\nchecked by {how}{sure}")
    return 0


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    from .evaluation.run import cli_eval

    return cli_eval(
        args.questions, args.out, settings, as_json=args.json, bbc=args.bbc, squad=args.squad
    )


def cmd_timeline(args: argparse.Namespace, settings: Settings) -> int:
    from .desk.timeline import timeline

    result = timeline(args.topic, settings, sources=args.source, since=args.since,
                      until=args.until, site=args.site)  # fmt: skip
    if args.json:
        print(json.dumps(result.as_dict(), ensure_ascii=False))
        return 0
    for e in result.events:
        c = e.citation
        what = f"published: {e.sentence}" if e.kind == "published" else e.sentence
        print(f"{e.when.iso:<10}  {c.source}, {position(c)}")
        print(textwrap.indent(textwrap.fill(what, width=96), "    "))
        if e.resolved:
            print(f"    (resolved from the publication date: {e.how})")
    for a in result.undated:
        print(f"\nUndated: {a.source} ({a.title}); relative dates not resolved:")
        for u in a.unresolved:
            where = position(u.citation)
            print(f"  - “{u.expression}”, {where}: {textwrap.shorten(u.sentence, 80)}")
    for note in result.notes:
        print(f"\nNote: {note}")
    return 0


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    sys.path.insert(0, str(Path.cwd()))
    from app import main as serve

    serve(settings)
    return 0


def _scope_arguments(p: argparse.ArgumentParser) -> None:
    """--source/--since/--until/--site, the same for every command that takes a scope."""
    p.add_argument(
        "--source",
        action="append",
        metavar="NAME",
        help="only this article (file name, path or title); repeatable",
    )
    p.add_argument("--since", metavar="DATE", help="only articles published on or after DATE")
    p.add_argument("--until", metavar="DATE", help="only articles published on or before DATE")
    p.add_argument("--site", help="only articles from this site (name or web address)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="qa", description=__doc__)
    parser.add_argument("--index", help="index folder (default: QA_INDEX_DIR or index/)")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("ingest", help="add or update articles (default: seeds/)")
    p.add_argument(
        "paths", nargs="*", help="article files or folders, or links (https://...) to fetch"
    )
    p.add_argument("--json", action="store_true", help="print counts as JSON (last line)")
    p.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    p.add_argument("--rebuild", action="store_true", help="drop the index and embed everything")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("ask", help="ask a question about the articles")
    p.add_argument("question")
    p.add_argument("--json", action="store_true", help="print the answer as JSON")
    p.add_argument(
        "--llm", choices=ANSWERERS, help="answerer (default: QA_LLM, or openai with a key)"
    )
    p.add_argument("--model", help="model name for --llm openai (default: QA_LLM_MODEL)")
    _scope_arguments(p)
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("chat", help="a conversation: questions read with the earlier turns")
    p.add_argument("--llm", choices=ANSWERERS, help="answerer (default: QA_LLM)")
    p.add_argument("--source", action="append", help="keep to this article (repeatable)")
    p.set_defaults(func=cmd_chat)

    p = sub.add_parser(
        "check", help="check a claim: supported, contradicted, or not in the articles"
    )
    p.add_argument("claim")
    p.add_argument("--json", action="store_true", help="print the verdict as JSON")
    p.add_argument(
        "--llm", choices=ANSWERERS, help="checker (default: QA_LLM, or openai with a key)"
    )
    p.add_argument("--model", help="model name for --llm openai (default: QA_LLM_MODEL)")
    _scope_arguments(p)
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("timeline", help="dated events of the articles, in order, each cited")
    p.add_argument("topic", nargs="?", help="only paragraphs about this (default: every article)")
    p.add_argument("--json", action="store_true", help="print the timeline as JSON")
    _scope_arguments(p)
    p.set_defaults(func=cmd_timeline)

    p = sub.add_parser("quotes", help="who said what: quotes and their speakers, cited")
    p.add_argument("--speaker", help="one person (any spelling of the name) or group")
    p.add_argument("--about", help="only quotes about this topic, nearest first")
    p.add_argument("--json", action="store_true", help="print the quotes as JSON")
    _scope_arguments(p)
    p.set_defaults(func=cmd_quotes)

    p = sub.add_parser("serve", help="start the chat page")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("eval", help="score the question set; ours beside stock llama-index")
    p.add_argument("--questions", type=Path, default=Path("eval/questions.jsonl"))
    p.add_argument("--json", action="store_true", help="print the report as JSON (last line)")
    p.add_argument("--out", type=Path, default=Path("eval/reports"), help="report folder")
    p.add_argument("--bbc", action="store_true", help="also run the BBC retrieval benchmark")
    p.add_argument(
        "--squad",
        action="store_true",
        help="also run the SQuAD answerer benchmark (held-out part; needs ../shared/data/squad)",
    )
    p.set_defaults(func=cmd_eval)
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.from_env()
        if args.index:
            settings = settings.with_(index_dir=Path(args.index))
        return int(args.func(args, settings))
    except QAError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return USER_ERROR
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader of our output left (`qa ask ... | head`): stop quietly, as a filter
        # does, without a second error when Python flushes stdout on exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
