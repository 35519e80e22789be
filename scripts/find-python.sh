#!/usr/bin/env bash
# Print the path of a working Python 3.10 interpreter, or explain what is missing.
set -u
try() { "$1" -c 'import sys; assert sys.version_info[:2] == (3, 10)' >/dev/null 2>&1 && { command -v "$1" 2>/dev/null || echo "$1"; }; }
for cand in "${PYTHON310:-}" python3.10; do
  [ -n "$cand" ] && try "$cand" && exit 0
done
for cand in "$HOME"/.pyenv/versions/3.10*/bin/python3.10 /usr/local/bin/python3.10 /usr/bin/python3.10; do
  [ -x "$cand" ] && try "$cand" && exit 0
done
printf '%s\n' \
  "Python 3.10 is required (Rasa Open Source 3.6 supports Python 3.8-3.10) but was not found." \
  "Install it (e.g. 'pyenv install 3.10' or your distribution's python3.10 package), or point" \
  "PYTHON310 at its interpreter: make run PYTHON310=/path/to/python3.10" >&2
exit 1
