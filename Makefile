# Partnership Advisor. The two commands a person needs: `make run` and `make test`.
SHELL := /bin/bash
PY := .venv/bin/python
RASA := .venv/bin/rasa
export PYTHONDONTWRITEBYTECODE := 1
# No usage telemetry leaves the machine.
export RASA_TELEMETRY_ENABLED := false

.PHONY: run shell serve install load export check-content report train validate lint test eval bench purge clean

## run: set everything up if needed, then serve the web chat page (http://127.0.0.1:5005/chat/),
##      REST and (when configured) Slack, with the action server, until Ctrl-C
run: install load
	$(PY) -m server.launch serve

## serve: the same as run (kept for scripts that call it)
serve: run

## shell: talk to the advisor in the terminal (rasa shell), with the action server; its servers listen
##        on loopback and stop when the terminal closes. ARGS="--port 5006 --action-port 5056" for other ports
shell: install load
	$(PY) -m server.launch shell $(ARGS)

## install: the Python 3.10 environment with the pinned dependencies and the web page's npm
##          packages (each once, and again when its lock file changes)
install: .venv/.installed node_modules/.installed
.venv/.installed: requirements.lock tools/bootstrap.sh
	bash tools/bootstrap.sh
node_modules/.installed: package.json package-lock.json
	@command -v npm >/dev/null || { echo "The web chat page needs npm (Node.js) to install socket.io-client and axe-core from the npm registry: install Node.js and npm (e.g. apt-get install nodejs npm), then run make again." >&2; exit 1; }
	npm ci --no-audit --no-fund
	touch $@

## load: validate data/knowledge/*.yml and load it into the knowledge store (KNOWLEDGE_DB_URL)
load: install
	$(PY) -m actions.store.loader

## export: write the store's content back as content files into results/export/ (review with diff)
export: install
	$(PY) -m actions.store.loader --export results/export

## check-content: validate the knowledge content without touching the store
check-content: install
	$(PY) -m actions.store.loader --check

## report: the insight report from the tracker and knowledge stores (read-only): results/report/report.html
##         and the same figures as CSV; ARGS="--no-free-text" leaves out message and comment texts,
##         ARGS="--since 2025-01-01" starts the figures at a date
report: install
	$(PY) -m report $(ARGS)

## train: train a model only if data, config or domain changed since the last one
train: install
	$(PY) -m server.launch train

## validate: Rasa's own checks of domain, data and stories
validate: install
	$(PY) -m tools.validate

## lint: ruff (lint rules and formatting) and mypy (types) on the product code; part of make test
LINTED := actions components channels server report
lint: install
	.venv/bin/ruff check $(LINTED)
	.venv/bin/ruff format --check $(LINTED)
	.venv/bin/mypy $(LINTED)

## test: everything: data validation, unit and integration tests, conversation tests
test: install
	bash tools/test.sh

## eval: understanding figures of the current model on the development set (tests/heldout/nlu_dev.yml) and
##       the locked test sets (nlu_test.yml, nlu_test2.yml, messy_test.yml, messy_test2.yml), everyday requests and small talk, beside
##       Rasa's default config and TF-IDF + logistic regression, and 5-fold cross-validation (slow:
##       trains the default-config peer when needed and five cross-validation models). Not part of make test.
eval: install train
	$(PY) -m tools.evaluate --sweep --peers --everyday --cv --json results/eval.json
	$(PY) -m tools.evaluate --heldout tests/heldout/nlu_test.yml --peers --everyday --json results/eval-test.json
	$(PY) -m tools.evaluate --heldout tests/heldout/nlu_test2.yml --peers --json results/eval-test2.json
	$(PY) -m tools.evaluate --heldout tests/heldout/nlu_dev2.yml --peers --everyday --json results/eval-dev2.json
	$(PY) -m tools.evaluate --heldout tests/heldout/nlu_dev3.yml --peers --json results/eval-dev3.json
	$(PY) -m tools.evaluate --heldout tests/heldout/nlu_dev4.yml --peers --everyday --json results/eval-dev4.json
	$(PY) -m tools.evaluate --heldout tests/heldout/nlu_dev5.yml --peers --everyday --json results/eval-dev5.json
	$(PY) -m tools.evaluate --heldout tests/heldout/nlu_dev6.yml --peers --everyday --json results/eval-dev6.json
	$(PY) -m tools.evaluate --heldout tests/heldout/nlu_dev7.yml --peers --everyday --json results/eval-dev7.json
	$(PY) -m tools.evaluate --heldout tests/heldout/nlu_dev8.yml --peers --everyday --json results/eval-dev8.json
	$(PY) -m tools.evaluate --heldout tests/heldout/nlu_dev9.yml --peers --everyday --json results/eval-dev9.json
	$(PY) -m tools.evaluate --heldout tests/heldout/nlu_dev10.yml --peers --everyday --json results/eval-dev10.json
	$(PY) -m tools.evaluate --heldout tests/heldout/nlu_dev11.yml --peers --everyday --json results/eval-dev11.json
	$(PY) -m tools.evaluate --heldout tests/heldout/messy_dev2.yml --peers --json results/eval-messy-dev2.json
	$(PY) -m tools.evaluate --heldout tests/heldout/messy_dev3.yml --peers --json results/eval-messy-dev3.json
	$(PY) -m tools.evaluate --heldout tests/heldout/messy_dev4.yml --peers --json results/eval-messy-dev4.json
	$(PY) -m tools.evaluate --heldout tests/heldout/messy_dev5.yml --peers --json results/eval-messy-dev5.json
	$(PY) -m tools.evaluate --heldout tests/heldout/messy_dev6.yml --peers --json results/eval-messy-dev6.json
	$(PY) -m tools.evaluate --heldout tests/heldout/messy_dev7.yml --peers --json results/eval-messy-dev7.json
	$(PY) -m tools.evaluate --heldout tests/heldout/messy_test.yml --peers --json results/eval-messy.json
	$(PY) -m tools.evaluate --heldout tests/heldout/messy_test2.yml --peers --json results/eval-messy2.json
	$(PY) -m tools.practitioner_eval
	$(PY) -m tools.retrieval_eval

## bench: speed and cost of the running servers beside the default-config bot: timed trainings, then
##        REST conversations at 1, 10 and 50 at once; report in results/bench/. Not part of make test.
bench: install
	$(PY) -m tools.bench

## purge: delete conversations older than RETENTION_DAYS (default 30) from the tracker store and
##        anonymise older feedback and health-check rows, keeping the figures; prints what it removed.
##        `make purge ARGS=--dry-run` only reports. Run it daily (deploy/systemd/advisor-purge.timer, or cron).
purge: install
	$(PY) -m actions.store.purge $(ARGS)

clean:
	rm -rf .rasa results var models/*.tar.gz node_modules
