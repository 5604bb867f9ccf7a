#!/usr/bin/env bash
# Create .venv with Python 3.10 and install the pinned dependencies (requirements.lock).
# Rasa 3.6 runs on Python 3.10 only: look for it on PATH, then under pyenv.
set -euo pipefail
cd "$(dirname "$0")/.."

is_python310() { "$1" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' >/dev/null 2>&1; }

find_python310() {
  local candidate
  for candidate in "${PYTHON310:-}" python3.10 python3 python; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null 2>&1 && is_python310 "$candidate"; then
      command -v "$candidate"; return 0
    fi
  done
  # pyenv's python3.10 shim fails unless pyenv selects 3.10, so use the real interpreter.
  local pyenv_root="${PYENV_ROOT:-$HOME/.pyenv}"
  command -v pyenv >/dev/null 2>&1 && pyenv_root="$(pyenv root)"
  for candidate in $(ls -d "$pyenv_root"/versions/3.10.*/bin/python3.10 2>/dev/null | sort -rV); do
    if is_python310 "$candidate"; then echo "$candidate"; return 0; fi
  done
  return 1
}

if [ ! -x .venv/bin/python ] || ! is_python310 .venv/bin/python; then
  if ! python=$(find_python310); then
    echo "Partnership Advisor needs Python 3.10 (Rasa 3.6 does not run on 3.11 or later)." >&2
    echo "None was found on PATH (python3.10) or under pyenv (\$(pyenv root)/versions/3.10.*)." >&2
    echo "Install it, e.g. 'pyenv install 3.10.13', or set PYTHON310=/path/to/python3.10, then run make again." >&2
    exit 1
  fi
  echo "Creating .venv with $python"
  rm -rf .venv
  "$python" -m venv .venv
fi

echo "Installing pinned dependencies from requirements.lock (a few minutes the first time)..."
# pip's "Location ... is ignored" warnings on some machines are noise; real errors still show.
pip_install() {
  local log status=0
  log=$(mktemp)
  .venv/bin/python -m pip install --quiet --disable-pip-version-check "$@" >"$log" 2>&1 || status=$?
  grep -v "is ignored" "$log" || true
  rm -f "$log"
  return $status
}
pip_install --upgrade "pip<25"
pip_install -r requirements.lock
.venv/bin/python -m pip check >/dev/null || { .venv/bin/python -m pip check; exit 1; }
# The intent classifier's sentence embeddings: two files of the pinned, hash-checked `wordllama`
# wheel from PyPI, extracted into .venv/share/wordllama (the package itself needs numpy 2).
log=$(mktemp)
.venv/bin/python -m components.word_embeddings install >"$log" 2>&1 || { grep -v "is ignored" "$log"; rm -f "$log"; exit 1; }
rm -f "$log"
touch .venv/.installed
echo "Environment ready."
