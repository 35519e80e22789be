# 防災チャットボット — two commands: `make run` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV ?= .venv
PY := $(VENV)/bin/python
BOSAI := $(VENV)/bin/bosai
INSTALLED := $(VENV)/.installed
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
export TF_CPP_MIN_LOG_LEVEL ?= 2
export SQLALCHEMY_SILENCE_UBER_WARNING ?= 1

.PHONY: help install browser nginx assets data db train setup run test pytest stories lint types validate bench clean vocab

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

install: $(INSTALLED) ## create .venv (Python 3.10) and install the pinned dependencies

$(INSTALLED): requirements.lock pyproject.toml
	@PY310="$$(scripts/find-python.sh)" || exit 1; \
	if [ ! -x $(PY) ] || ! $(PY) -c 'import sys; assert sys.version_info[:2] == (3, 10)' 2>/dev/null; then \
	  echo "Creating $(VENV) with $$PY310"; rm -rf $(VENV); "$$PY310" -m venv $(VENV) || exit 1; fi
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.lock
	$(PY) -m pip install --quiet --no-deps -e .
	@touch $@

browser: ## install Debian chromium + CJK fonts for the browser tests (if missing)
	@if [ -x /usr/bin/chromium ] && fc-list 2>/dev/null | grep -qi "Noto Sans CJK"; then \
	  echo "chromium and fonts-noto-cjk are present"; else \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends chromium fonts-noto-cjk; fi

nginx: ## install Debian nginx for the deploy tests (if missing; they run it privately on loopback)
	@if [ -x /usr/sbin/nginx ] || command -v nginx >/dev/null 2>&1; then echo "nginx is present"; else \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends nginx; fi

assets: install ## fetch the dashboard/widget JavaScript libraries from the npm registry
	$(PY) -m bot.officials.build_assets

data: install ## import the open data (../shared/data by default) when the cache is missing or stale
	$(BOSAI) data import --if-stale -q

db: install ## create or upgrade the report database
	$(BOSAI) db upgrade

train: install ## train the Rasa model when config, domain or training data changed
	$(BOSAI) train

setup: install assets data db train

run: setup ## set up everything, then start Rasa + actions + officials' app
	$(BOSAI) run

test: install ## set up everything, then run the whole test suite (training overlaps the tests that need no model)
	VENV=$(VENV) scripts/make-test.sh

pytest:
	$(PY) -m pytest

stories: ## rasa test on tests/test_stories.yml (fails on any prediction error)
	$(PY) -m bot.rasa_cli test core --stories tests/test_stories.yml --model models \
	  --fail-on-prediction-errors --out var/results/core 2>&1 | tail -n 30; \
	  exit $${PIPESTATUS[0]}

vocab: install ## generate labels.yml, synonyms.yml and lookups.yml from bot/vocabulary.yml
	$(PY) -m bot.vocabulary generate

validate: install ## rasa data validate (domain + training data)
	$(PY) -m rasa data validate --config config.yml --domain bot/domain \
	  --data data/nlu data/rules data/stories

lint: install ## ruff
	$(VENV)/bin/ruff check bot actions gis tests bench

types: install ## mypy
	$(VENV)/bin/mypy

bench: setup ## run the benchmarks (they print their figures)
	$(PY) bench/turn_latency.py
	$(PY) bench/gis_bench.py
	$(PY) bench/store_bench.py

clean: ## remove the virtual environment, models and runtime data
	rm -rf $(VENV) models var results
