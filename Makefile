# hokenmask — the two set-up commands are `make demo` and `make test`; each installs what it needs.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEB_PACKAGES := tesseract-ocr tesseract-ocr-jpn fonts-ipaexfont fonts-noto-cjk
export OMP_THREAD_LIMIT := 1

.PHONY: demo test test-slow bench lint fuzz apt venv clean

## Debian packages (Tesseract 5 + jpn traineddata, Japanese fonts), installed only when missing.
apt:
	@missing=""; for p in $(DEB_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing" >&2; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >&2; \
	fi

## Virtualenv with the pinned Python dependencies (requirements.lock) and the project itself.
venv: $(VENV)/.installed
$(VENV)/.installed: requirements.lock pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip >/dev/null
	$(BIN)/pip install -q -r requirements.lock
	$(BIN)/pip install -q --no-deps -e .
	touch $@

## Run the main job on the bundled sample documents (the table is in Japanese).
SAMPLES = $(filter-out %.json %.md,$(wildcard fixtures/samples/*))
demo: apt venv
	$(BIN)/python -m fixtures demo
	$(BIN)/hokenmask check --as-of 2026-12-03 $(SAMPLES); rc=$$?; [ $$rc -le 1 ] || exit $$rc

## The test suite (fast: generated documents, a few dozen through real Tesseract).
test: apt venv
	$(BIN)/ruff check .
	$(BIN)/pytest -m "not slow" -q; rc=$$?; \
	if [ $$rc = 5 ]; then echo "pytest collected no tests: the suite is broken" >&2; exit 1; fi; exit $$rc

## Whole-corpus tests.
test-slow: apt venv
	$(BIN)/pytest -m slow -q

## Accuracy and speed report over a generated corpus (writes bench-out/report.md and .json).
bench: apt venv
	$(BIN)/python -m tests.bench --out bench-out

lint: venv
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) out bench-out corpus preview .pytest_cache .ruff_cache
