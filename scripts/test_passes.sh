#!/usr/bin/env bash
# Runs the suite's two passes side by side: SQLite in the foreground (its output streams here)
# and PostgreSQL in the background (its output in .run/test-postgres.log, its failures and
# summary printed at the end). Why side by side: one after the other they took ~28 and ~20
# minutes on a 2-core CI machine, over CI's 45; much of the suite waits on brokers, processes
# and browsers rather than on the CPU. Usage: scripts/test_passes.sh [pytest arguments]
set -u
venv=${VENV:-.venv}
mkdir -p .run
log=.run/test-postgres.log
# A non-interactive shell starts a background command with SIGINT ignored, and pytest then
# cannot be interrupted into its teardown (brokers and databases would be left running):
# `trap - INT` gives it back.
(trap - INT; exec env SANPI_TEST_DB=postgres "$venv/bin/pytest" -p no:cacheprovider "$@") \
  >"$log" 2>&1 &
pg=$!
trap 'kill -INT "$pg" 2>/dev/null; wait "$pg"; exit 130' INT TERM
echo "PostgreSQL pass started (pid $pg), its output in $log; the SQLite pass follows here."
"$venv/bin/pytest" "$@"
sqlite=$?
echo "SQLite pass: exit $sqlite. Waiting for the PostgreSQL pass (pid $pg)..."
wait "$pg"
postgres=$?
echo "================ PostgreSQL pass: exit $postgres (whole output: $log) ================"
if [ "$postgres" -ne 0 ]; then
  # The failures with their tracebacks, then the summary.
  sed -n '/^=\+ FAILURES =\+$/,$p' "$log" | head -n 600
fi
tail -n 25 "$log"
[ "$sqlite" -eq 0 ] && [ "$postgres" -eq 0 ]
