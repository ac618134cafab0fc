"""Choose the hand-set scorer's abstention threshold on the question set (qa.answering.handset,
the baseline that `QA_SCORER=handset` selects; the learned scorer's threshold is chosen
by `make train-answerer` instead).

For every case: the best sentence's confidence and whether it answers (keywords match).
Then, for each threshold, how many cases end right, and how many wrong answers are
given (the costly error for our users). Run after `qa ingest` on the seeds:

    .venv/bin/python eval/calibrate.py [eval/questions.jsonl]
"""

from __future__ import annotations

import sys
from pathlib import Path

from qa.answering.answer import idf_for, sub_questions
from qa.answering.followup import condense
from qa.answering.handset import ABSTAIN_BELOW, score_sentences
from qa.evaluation.cases import keywords_match, load_cases
from qa.search.retrieve import hybrid_retriever
from qa.settings import Settings


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("eval/questions.jsonl")
    settings = Settings.from_env()
    retriever = hybrid_retriever(settings)
    idf = idf_for(retriever.store)
    rows: list[tuple[float, bool, bool]] = []  # confidence, answerable, top sentence right
    for case in load_cases(path):
        question = condense(case["question"], case.get("history"))
        if len(sub_questions(question)) > 1:
            continue  # compound questions are scored part by part
        vector = retriever.embedder.embed_queries([question])[0]
        scored = score_sentences(
            question, vector, retriever.retrieve_vec(question, vector), retriever.embedder, idf
        )
        if not scored:
            continue
        best = scored[0]
        right = bool(case["answerable"]) and keywords_match(best.sentence, case["keywords"])
        rows.append((best.confidence, bool(case["answerable"]), right))

    print(f"{len(rows)} single-part cases; current threshold {ABSTAIN_BELOW}")
    print("threshold  right  wrong-answers  abstained")
    for step in range(20, 61, 2):
        threshold = step / 100
        right = wrong = abstained = 0
        for confidence, answerable, top_right in rows:
            if confidence >= threshold:
                right += top_right
                wrong += not top_right
            else:
                abstained += 1
                right += not answerable
        print(f"{threshold:9.2f}  {right:5d}  {wrong:13d}  {abstained:9d}")


if __name__ == "__main__":
    main()
