# Quick start: `make demo` (audit the sample model, write reports/demo/) and `make test`.
# Both create .venv/ from requirements.lock (pinned) on first use and reuse it afterwards.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
DEMO_OUT := reports/demo

.PHONY: install demo test lint unit format lock sample-model clean schema docs bench serve

$(STAMP): requirements.lock pyproject.toml scripts/ensure-system-deps.sh
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "auditor needs Python 3.11 or newer; set PYTHON=python3.11")'
	PYTHON=$(PYTHON) ./scripts/ensure-system-deps.sh
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

demo: install
	@rc=0; $(BIN)/auditor audit \
	  --data sample_models/data/german_credit_audit.csv \
	  --model sample_models/german_credit_model.skops \
	  --target credit --pos-label 1 --positive-outcome favorable \
	  --sensitive sex --sensitive age_group \
	  --metadata sample_models/german_credit_model_card.yaml \
	  --policy default --out $(DEMO_OUT) || rc=$$?; \
	if [ $$rc -eq 1 ]; then \
	  echo "make demo: the sample model FAILS the default policy (exit code 1, as a CI gate would see it)."; \
	  echo "That is expected and the demo succeeded: read $(DEMO_OUT)/report.pdf to see why."; \
	elif [ $$rc -ne 0 ]; then exit $$rc; \
	else echo "make demo: the sample model passes the default policy; reports in $(DEMO_OUT)/"; fi

# The auditing service on the sample data (reports/serve-demo): prints the URL and a token.
serve: install
	$(BIN)/python scripts/serve_demo.py

lint: install
	$(BIN)/ruff check auditor tests sample_models benchmarks scripts
	$(BIN)/ruff format --check auditor tests sample_models benchmarks scripts
	$(BIN)/mypy
	$(BIN)/lint-imports

unit: install
	$(BIN)/python -m pytest -q

test: lint unit

format: install
	$(BIN)/ruff format auditor tests sample_models benchmarks scripts
	$(BIN)/ruff check --fix auditor tests sample_models benchmarks scripts

sample-model: install
	$(BIN)/python sample_models/train_german_credit.py

# Regenerate the pinned dependency set from pyproject.toml (run after changing dependencies).
lock:
	rm -rf /tmp/auditor-lock && $(PYTHON) -m venv /tmp/auditor-lock
	/tmp/auditor-lock/bin/pip install --quiet --upgrade pip
	/tmp/auditor-lock/bin/pip install --quiet -e '.[dev]'
	/tmp/auditor-lock/bin/pip freeze --exclude-editable | grep -v '^-e' > requirements.lock

clean:
	rm -rf $(VENV) reports build dist .mypy_cache .ruff_cache .pytest_cache

# Speed against fairlearn, SHAP throughput against shap and LightGBM's own TreeSHAP (plus the
# explain/proxies families on 1M rows), PDF rendering against bare WeasyPrint, and a 100M-row
# decision log out of core (DuckDB; 10M rows against fairlearn; Spark local), on the same
# machine (prints the ratios).
bench: install
	$(BIN)/python -m benchmarks.bench_group_metrics --rows 200000
	$(BIN)/python -m benchmarks.bench_fairness_depth --rows 1000000 --resamples 1000
	$(BIN)/python -m benchmarks.bench_explain --rows 1000000 --explain-rows 10000
	$(BIN)/python -m benchmarks.bench_pdf --repeat 3
	$(BIN)/python -m benchmarks.bench_service --audits 10000 --runs 5
	$(BIN)/python -m benchmarks.bench_engines --rows 100000000 --compare-rows 10000000

# Regenerate the committed JSON Schema of audit.json from auditor/results.py.
schema: install
	$(BIN)/python -m auditor.schema

# Regenerate docs/metrics.md from the check registry (a test fails when it is stale).
docs: install
	$(BIN)/python -m auditor.checks.reference
