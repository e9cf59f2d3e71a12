"""sanpi benchmarks: `make bench` (full) or `python -m bench --smoke` (seconds, run by make test)."""
