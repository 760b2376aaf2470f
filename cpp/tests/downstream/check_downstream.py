"""Build the downstream project against a tchakaloff C++ package and check that it keeps the
rows and weights the Python API keeps when both reduce the same 1e6 points.

    python check_downstream.py WORK_DIR --package-dir BUILD_DIR   # a build tree
    python check_downstream.py WORK_DIR                           # the installed wheel

The installed package is found as scikit-build-core finds it, through the `cmake.root` entry
point. Exits with 77 (ctest's SKIP_RETURN_CODE) when the Python package is not installed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from importlib import metadata, resources
from pathlib import Path

import numpy as np

# The consumer links the baseline core, so the Python side must use the same build: the
# x86-64-v3 one rounds differently (FMA) and may keep other, equally valid, rows.
os.environ["TCHAKALOFF_CORE"] = "baseline"

HERE = Path(__file__).resolve().parent
N_POINTS, DIM, DEGREE = 1_000_000, 2, 6
SKIP = 77


def installed_package_root() -> Path | None:
    """The folder the `cmake.root` entry point names, as scikit-build-core resolves it; None
    when it holds no CMake package (an editable install spans the source and build folders,
    and neither holds the installed config)."""
    points = metadata.entry_points()
    group = (
        points.select(group="cmake.root")
        if hasattr(points, "select")
        else points.get("cmake.root", [])  # Python 3.9
    )
    roots = [resources.files(ep.load()) for ep in group if ep.name == "tchakaloff"]
    if not roots:
        raise SystemExit("the installed tchakaloff has no cmake.root entry point")
    config = roots[0].joinpath("lib", "cmake", "tchakaloff")
    return Path(str(config)).parents[2] if config.is_dir() else None


def build(work: Path, package: list[str], cmake: str, compiler: str | None) -> Path:
    """Configure and build the downstream project; return its program."""
    configure = [cmake, "-S", str(HERE), "-B", str(work), "-DCMAKE_BUILD_TYPE=Release", *package]
    if compiler:
        configure.append(f"-DCMAKE_CXX_COMPILER={compiler}")
    subprocess.run(configure, check=True)
    subprocess.run([cmake, "--build", str(work), "--config", "Release"], check=True)
    for name in ("reduce_points", "Release/reduce_points.exe", "reduce_points.exe"):
        if (work / name).exists():
            return work / name
    raise SystemExit(f"no reduce_points program in {work}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("work", type=Path, help="build folder of the downstream project")
    parser.add_argument("--package-dir", type=Path, help="a build tree holding tchakaloffConfig")
    parser.add_argument("--cmake", default="cmake", help="the cmake program")
    parser.add_argument("--compiler", help="the C++ compiler the core was built with")
    args = parser.parse_args()
    try:
        import tchakaloff
    except ImportError as error:
        print(f"skipped: the Python package is not installed ({error})")
        return SKIP

    if args.package_dir is not None:
        package = [f"-Dtchakaloff_DIR={args.package_dir.resolve()}"]
    else:
        root = installed_package_root()
        if root is None:
            print("skipped: the installed package holds no CMake package (an editable install?)")
            return SKIP
        package = [f"-Dtchakaloff_ROOT={root}"]
    cmake = args.cmake if shutil.which(args.cmake) else "cmake"  # a build env may be gone
    program = build(args.work.resolve(), package, cmake, args.compiler)

    points = np.random.default_rng(19).normal(size=(N_POINTS, DIM))
    points_file = args.work / "points.f64"
    points.tofile(points_file)
    output = subprocess.run(
        [str(program), str(points_file), str(DIM), str(DEGREE)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    points_file.unlink()  # 16 MB
    rows = np.loadtxt(output.splitlines(), ndmin=2)
    expected = tchakaloff.reduce(points, degree=DEGREE)
    print(f"C++ kept rows {rows[:, 0].astype(int).tolist()}")
    print(f"Python kept   {expected.indices.tolist()}")
    if not np.array_equal(rows[:, 0].astype(np.int64), expected.indices):
        print("FAILED: the C++ consumer and the Python API keep different rows")
        return 1
    if not np.allclose(rows[:, 1], expected.weights, rtol=1e-12, atol=0):
        print("FAILED: the C++ consumer and the Python API give different weights")
        return 1
    print(f"same {len(rows)} rows and weights from C++ and Python")
    return 0


if __name__ == "__main__":
    sys.exit(main())
