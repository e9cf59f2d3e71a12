"""sanpi benchmarks: `make bench` (full) or `python -m bench --smoke` (seconds, run by make test)."""

import os

# The benches measure the services writing as fast as they can as one subject, in-process and
# through the stacks they start (scripts/stack.py's service_env does the same): the per-subject
# write limit would measure itself.
os.environ.setdefault("SANPI_RATE_LIMIT_WRITES_PER_S", "0")
