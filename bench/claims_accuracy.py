"""Verdict accuracy of `qa.check` on the claims of eval/claims.jsonl, per set (tuned: the
rules were set while looking at these; fresh: written after, never tuned on) and per kind
(written: a fact as the articles state it; altered: one figure, name or date changed;
absent: something the articles don't address).

    python bench/claims_accuracy.py            # over a fresh index of seeds/
    python bench/claims_accuracy.py --verbose  # and each claim's verdict
    python bench/claims_accuracy.py --caution strict  # with QA_CLAIM_CAUTION=strict

Shared with tests/test_claims.py, which holds the floors.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from qa.desk.claims import check
from qa.desk.verdict import Verdict
from qa.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
CLAIMS = ROOT / "eval" / "claims.jsonl"
KINDS = ("written", "altered", "absent")


@dataclass
class Case:
    set: str
    claim: str
    verdict: str
    kind: str
    source: str
    paragraph: int


@dataclass
class Result:
    case: Case
    got: Verdict

    @property
    def right(self) -> bool:
        return self.got.verdict == self.case.verdict

    @property
    def cites_it(self) -> bool:
        """The verdict cites the paragraph that states (or contradicts) the claim."""
        if not self.case.source:
            return True
        return any(
            c.source == self.case.source and c.paragraph == self.case.paragraph
            for c in self.got.citations
        )


def cases(path: Path = CLAIMS) -> list[Case]:
    return [Case(**json.loads(line)) for line in path.read_text().splitlines() if line.strip()]


def run(settings: Settings, todo: list[Case]) -> list[Result]:
    return [Result(c, check(c.claim, settings)) for c in todo]


def table(results: list[Result]) -> dict[str, dict[str, tuple[int, int]]]:
    """{set: {kind: (right, total)}}, a verdict counting as right when it is the expected
    one and, for a stated fact, cites the paragraph that states it."""
    out: dict[str, dict[str, tuple[int, int]]] = {}
    for r in results:
        row = out.setdefault(r.case.set, {})
        right, total = row.get(r.case.kind, (0, 0))
        row[r.case.kind] = (right + int(r.right and r.cites_it), total + 1)
    return out


def markdown(tab: dict[str, dict[str, tuple[int, int]]]) -> str:
    lines = ["| set | " + " | ".join(KINDS) + " | all |", "|---" * (len(KINDS) + 2) + "|"]
    for name, row in tab.items():
        cells = [f"{row.get(k, (0, 0))[0]}/{row.get(k, (0, 0))[1]}" for k in KINDS]
        right = sum(v[0] for v in row.values())
        total = sum(v[1] for v in row.values())
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {right}/{total} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--verbose", action="store_true")
    parser.add_argument("--caution", default="rules", choices=["rules", "strict"])
    args = parser.parse_args()
    from qa.store.ingest import ingest

    with tempfile.TemporaryDirectory() as tmp:
        seeds = Path(tmp) / "seeds"
        shutil.copytree(ROOT / "seeds", seeds)
        settings = Settings.from_env(
            {"QA_INDEX_DIR": str(Path(tmp) / "index"), "QA_SEEDS_DIR": str(seeds)}
        ).with_(claim_caution=args.caution)
        ingest([seeds], settings, quiet=True)
        results = run(settings, cases())
    if args.verbose:
        for r in results:
            mark = "ok " if r.right and r.cites_it else "BAD"
            print(f"{mark} [{r.case.set}/{r.case.kind}] {r.got.verdict:20} {r.case.claim}")
            if not (r.right and r.cites_it):
                print(f"      expected {r.case.verdict}; {r.got.explanation}")
    print(markdown(table(results)))


if __name__ == "__main__":
    main()
