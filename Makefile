# The two commands: `make demo` and `make test`. Both create .venv when missing.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test venv lint format bench docs clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

venv: $(STAMP)

# DEMO ONLY: a public pseudonymisation key for the synthetic sample, used by `make demo`
# when POWERPROFILE_PSEUDONYM_KEY is not set, and marked (POWERPROFILE_KEY_IS_DEMO=1) so
# that the manifest records it as a demo key. Anyone can reverse pseudonyms made with it:
# never use it for real data (make your own with `powerprofile keygen`).
DEMO_PSEUDONYM_KEY := DEMO-KEY-public-not-secret-H2jXjSKF6dl9YZhm1IErRcvTpA_W5AZwLDkueI1dSr0

demo: $(STAMP)
	@if [ -z "$$POWERPROFILE_PSEUDONYM_KEY" ]; then \
	  echo "make demo: POWERPROFILE_PSEUDONYM_KEY is not set; using the public DEMO key" >&2; \
	  export POWERPROFILE_PSEUDONYM_KEY='$(DEMO_PSEUDONYM_KEY)' POWERPROFILE_KEY_IS_DEMO=1; \
	fi; \
	$(BIN)/powerprofile run --config configs/demo.yaml

test: $(STAMP)
	$(BIN)/python -m pytest -q -p no:cacheprovider

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

format: $(STAMP)
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

docs: $(STAMP)
	$(BIN)/python -m powerprofile.features.catalog_doc docs/features.md

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[dev,bench]"
	$(BIN)/python benchmarks/bench_features.py --customers 100000
	$(BIN)/python benchmarks/bench_scoring.py

clean:
	rm -rf $(VENV) build dist *.egg-info src/*.egg-info mlruns mlflow.db out
