"""The benchmarks' smoke mode runs in make test: it must complete and print its figures. It asserts
no speed (speed targets live in `make bench` and the closing notes, never in tests)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

# The smoke bench chooses its own database (SQLite) whatever SANPI_TEST_DB says: one pass is enough.
pytestmark = pytest.mark.db_independent

ROOT = Path(__file__).resolve().parents[2]


def test_bench_smoke_completes_and_prints_figures() -> None:
    for stale in (ROOT / ".run" / "bench").glob("*.profile.txt"):
        stale.unlink()  # the reports checked below must be this run's
    done = subprocess.run(
        # --profile: the profiled runs work too (their reports are checked below).
        [sys.executable, "-m", "bench", "--smoke", "--profile"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "bench " in done.stdout
    assert "figure" in done.stdout
    for name in (
        "baseline-kafka",
        "baseline-http-insert",
        "e2e",
        "e2e-batch",
        "scale",
        "rebuild",
        "sheets",
        "summary",
    ):
        saved = json.loads((ROOT / ".run" / "bench" / f"{name}.json").read_text())
        assert saved["details"]["smoke"] is True
        assert all(math.isfinite(f["value"]) for f in saved["figures"])
        # A backlog that drains has a negative slope; every other figure is a count, rate or time.
        assert all(f["value"] >= 0 for f in saved["figures"] if "slope" not in f["name"])
        assert name in done.stdout
    e2e = json.loads((ROOT / ".run" / "bench" / "e2e.json").read_text())
    # Every report accepted in the smoke step arrived as a correctly signed webhook.
    step = e2e["details"]["steps"][0]
    assert step["accepted"] > 0
    assert step["delivered"] == step["accepted"], step
    assert e2e["details"]["bad_signatures"] == 0
    # The same in batch mode: every report of every batch accepted and delivered.
    batched = json.loads((ROOT / ".run" / "bench" / "e2e-batch.json").read_text())
    step = batched["details"]["steps"][0]
    assert step["batch"] > 1
    assert step["accepted"] > 0
    assert step["delivered"] == step["accepted"], step
    assert batched["details"]["bad_signatures"] == 0
    # Each service ran under pyinstrument and wrote its report when stopped (SIGTERM).
    for service in ("registry", "milestone", "notification"):
        for bench in ("e2e", "e2e-batch"):
            report = (ROOT / ".run" / "bench" / f"{bench}-{service}.profile.txt").read_text()
            assert f"sanpi/{service}/" in report, report[:2000]
    for part in ("evaluation", "replay"):
        assert (
            "sanpi/milestone/"
            in (ROOT / ".run" / "bench" / f"scale-{part}.profile.txt").read_text()
        )
