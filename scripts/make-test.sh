#!/usr/bin/env bash
# `make test` after `make install`.
#
# Training the model (when config, domain or data changed: `bosai train` decides) runs in the
# background while the rest of the set-up (assets, data, db, browser, nginx), lint, types,
# validate and the tests that need no model run, at a lower priority; once it is trained, the
# tests that do (marked `rasa`, tests/conftest.py) run with the stories beside them. DIET keeps
# about one of two cores busy, so from a fresh clone the two halves overlap instead of adding up
# (docs/performance.md). Every part runs even when an earlier one failed; the exit status is
# non-zero when any failed, and a failed training stops before the tests that need its model.
set -uo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PY="$VENV/bin/python"
mkdir -p var
TRAIN_LOG=var/train.log
STORIES_LOG=var/stories.log

# in a process group of its own, so that an early exit stops bosai and the Rasa it started
setsid "$VENV/bin/bosai" train >"$TRAIN_LOG" 2>&1 &
train_pid=$!
trap 'kill -- -"$train_pid" 2>/dev/null' EXIT

failed=()
echo "== $(date +%T) training the model in the background (log: $TRAIN_LOG); the rest of the set-up"
# what runs beside the training runs at a lower priority: the training is the longer path
NICE=(nice -n 10)
if ! "${NICE[@]}" make --no-print-directory VENV="$VENV" assets data db browser nginx; then
  echo "set-up failed" >&2
  exit 1
fi
echo "== $(date +%T) lint, types, validate"
"${NICE[@]}" make --no-print-directory VENV="$VENV" lint types validate || failed+=("lint/types/validate")
echo "== $(date +%T) the tests that need no trained model"
"${NICE[@]}" "$PY" -m pytest -m "not rasa" || failed+=("pytest -m 'not rasa'")

echo "== $(date +%T) waiting for the model"
if wait "$train_pid"; then
  train_rc=0
else
  train_rc=$?
fi
trap - EXIT
# the log without the progress bars' carriage-return frames
tr '\r' '\n' <"$TRAIN_LOG" | grep -av -E '(it/s|s/it)' | tail -n 15
if [ "$train_rc" -ne 0 ]; then
  echo "training failed (exit $train_rc); the tests that need the model were not run" >&2
  exit 1
fi

echo "== $(date +%T) the tests that need the trained model, and the stories beside them (log: $STORIES_LOG)"
# the stories use one core for about half a minute; these tests leave about a core idle
make --no-print-directory VENV="$VENV" stories >"$STORIES_LOG" 2>&1 &
stories_pid=$!
"$PY" -m pytest -m rasa || failed+=("pytest -m rasa")
if wait "$stories_pid"; then stories_rc=0; else stories_rc=$?; fi
echo "== $(date +%T) the stories"
cat "$STORIES_LOG"
[ "$stories_rc" -eq 0 ] || failed+=("stories")

if [ "${#failed[@]}" -ne 0 ]; then
  printf 'FAILED: %s\n' "${failed[@]}" >&2
  exit 1
fi
echo "== $(date +%T) make test: all passed"
