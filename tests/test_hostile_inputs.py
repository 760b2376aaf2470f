"""The sweep of bad, odd and edge inputs over every public function (bench/hostile_inputs.py):
no crash, no hang, no result that breaks the contract, every refusal a ValueError that says
what to do. About 1,000 cases in worker processes: a few minutes, so only with -m slow."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"


@pytest.mark.slow
def test_no_input_crashes_hangs_or_breaks_the_contract(tmp_path):
    out = tmp_path / "hostile.json"
    subprocess.run(
        [sys.executable, str(BENCH / "hostile_inputs.py"), "--out", str(out)],
        cwd=BENCH,
        check=True,
        timeout=1800,
    )
    report = json.loads(out.read_text())
    bad = [case for case in report["cases"] if case["outcome"] not in ("ok", "value_error")]
    assert len(report["cases"]) > 900
    assert bad == []
