#!/usr/bin/env bash
# The test command (`make test`): trains at most once and shares the model across stages.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
RASA=.venv/bin/rasa
mkdir -p results
step() { printf '\n=== %s ===\n' "$*"; }

step "Lint and types (make lint: ruff and mypy on actions, components, channels, server, report)"
make --no-print-directory lint

step "Knowledge content is valid"
$PY -m actions.store.loader --check

step "Rasa data validation (domain, NLU data, rules, stories)"
$PY -m tools.validate

step "Model (trained only when data, config or domain changed)"
$PY -m server.launch train
model=$($PY -c 'from server.launch import model_path; print(model_path())')

step "Conversation tests (tests/test_stories.yml)"
$RASA test core --e2e --model "$model" --stories tests/test_stories.yml --fail-on-prediction-errors --out results/stories --quiet

step "pytest: loader, stores (SQLite and PostgreSQL), actions, NLU setup, real servers over REST, web chat in chromium, Slack, make shell"
$PY -m pytest
