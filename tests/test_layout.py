"""The house by stage: `qa/` in wings whose imports go one way only.

web / cli / evaluation -> service -> desk -> answering -> search -> store -> reading, with
settings and errors importable from anywhere (they import nothing of qa but each other).
Every import counts, at the top of a module or inside a function: a circle that only a
late import keeps from failing is still a circle for the reader.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "qa"

# Lower rank: further down the stages. A module may import its own wing or lower ones.
RANKS = {
    "base": 0,  # qa.settings, qa.errors
    "reading": 1,
    "store": 2,
    "search": 3,
    "answering": 4,
    "desk": 5,
    "service": 6,
    "top": 7,  # qa itself, qa.cli, qa.web, qa.evaluation
}
WINGS = ("reading", "store", "search", "answering", "desk")


def module_name(path: Path) -> str:
    parts = ["qa", *path.relative_to(PACKAGE).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports_of(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The qa modules `name` imports, anywhere in its file."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            # `from . import grounding` imports the module qa...grounding
            targets = [
                f"{module}.{a.name}" if f"{module}.{a.name}" in known else module
                for a in node.names
            ]
        else:
            continue
        found |= {t for t in targets if t in known and t != name}
    return found


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imports_of(name, path, known) for name, path in known.items()}


def wing_of(name: str) -> str:
    parts = name.split(".")
    if len(parts) > 1 and parts[1] in WINGS:
        return parts[1]
    if name in ("qa.settings", "qa.errors"):
        return "base"
    if name == "qa.service":
        return "service"
    return "top"


def circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected group of more than one node (Tarjan), each a circle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def test_the_walk_sees_imports_of_every_kind():
    """The checker itself: relative, absolute, module-by-name and late imports count."""
    known = modules()
    edges = graph()
    assert "qa.answering.grounding" in edges["qa.desk.claims"]  # from ..answering import grounding
    assert "qa.store.ingest" in edges["qa.cli"]
    assert len(known) > 50
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert circles({"a": {"b"}, "b": set()}) == []


def test_no_circle_between_files():
    assert circles(graph()) == []


def test_no_circle_between_wings():
    wings: dict[str, set[str]] = {}
    for name, targets in graph().items():
        wings.setdefault(wing_of(name), set()).update(
            wing_of(t) for t in targets if wing_of(t) != wing_of(name)
        )
    assert circles(wings) == []


def test_imports_go_down_the_stages():
    against = sorted(
        f"{name} ({wing_of(name)}) imports {target} ({wing_of(target)})"
        for name, targets in graph().items()
        for target in targets
        if RANKS[wing_of(target)] > RANKS[wing_of(name)]
    )
    assert against == []


@pytest.mark.parametrize("wing", WINGS)
def test_each_wing_says_its_job(wing):
    init = PACKAGE / wing / "__init__.py"
    doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
    assert doc and len(doc.split()) >= 8, f"qa/{wing}/__init__.py needs a docstring"
    top = {module_name(p) for p in PACKAGE.glob("*.py")}
    assert top == {"qa", "qa.__main__", "qa.cli", "qa.errors", "qa.service", "qa.settings"}


def test_the_layout_page_names_every_module():
    """docs/layout.md, where a newcomer looks for a module, lists each one in its wing."""
    page = (PACKAGE.parent / "docs" / "layout.md").read_text(encoding="utf-8")
    sections = {h.split("`")[1] if "`" in h else "": body for h, _, body in
                (part.partition("\n") for part in page.split("\n## ")[1:])}  # fmt: skip
    missing = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name in ("__init__.py", "__main__.py"):
            continue
        folder = path.parent.relative_to(PACKAGE.parent).as_posix() + "/"
        if f"| `{path.name}` |" not in sections.get(folder, ""):
            missing.append(f"{folder}{path.name}")
    assert missing == []
