"""The commands that do little, side by side with another checkout: wall and CPU seconds.

    python benchmarks/quick_commands.py --old /path/to/older/checkout [--reps 5]

Times, in fresh processes alternating between this checkout and ``--old`` (run with this
interpreter, ``PYTHONPATH`` set to each checkout): ``fit`` of the real Ta card with the typo
``nwalker = 32`` under ``[sampler]`` (rejected, exit 2), ``resume`` of a converged run of that
card (nothing to do), ``models`` and ``--help``.  The run directory is fitted once, by this
checkout, with ``--plots none``.  Prints the median wall and CPU (user + system) seconds of
each; on a shared machine the CPU seconds are the figure to quote.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CARD = ROOT / "models" / "real" / "ta_LGS1_5p70GHz_qpower.toml"


def _run(root: Path, argv: list, ok=(0, 2)) -> tuple[float, float]:
    env = dict(os.environ, PYTHONPATH=str(root), PYTHONWARNINGS="ignore")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "tlsbayes.cli", *map(str, argv)], cwd=root,
                          env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode not in ok:
        raise SystemExit(f"{root}: tlsbayes {argv[0]} exited {proc.returncode}: "
                         f"{proc.stderr.strip()[-300:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--old", type=Path, required=True, help="another checkout of tlsbayes")
    ap.add_argument("--reps", type=int, default=5)
    args = ap.parse_args()
    versions = {"old": args.old.resolve(), "this": ROOT}
    with tempfile.TemporaryDirectory(prefix="tlsbayes-quick-") as tmp:
        tmp = Path(tmp)
        typo = tmp / "typo.toml"
        typo.write_text(CARD.read_text(encoding="utf-8").replace(
            "[sampler]", "[sampler]\nnwalker = 32", 1), encoding="utf-8")
        _run(ROOT, ["fit", CARD, "--out", tmp / "run", "--plots", "none"], ok=(0,))
        commands = {"rejected card": ["fit", typo, "--out", tmp / "typo_run"],
                    "no-op resume": ["resume", tmp / "run"],
                    "models": ["models"], "--help": ["--help"]}
        times: dict = {}
        for _ in range(args.reps):
            for name, argv in commands.items():
                for version, root in versions.items():
                    times.setdefault((name, version), []).append(_run(root, argv))
    print(f"median of {args.reps}, load average {os.getloadavg()[0]:.1f} (wall s / CPU s)")
    for name in commands:
        cells = [f"{v}: {statistics.median(w for w, _ in times[(name, v)]):5.2f} / "
                 f"{statistics.median(c for _, c in times[(name, v)]):5.2f}" for v in versions]
        print(f"  {name:15s}  " + "   ".join(cells))


if __name__ == "__main__":
    main()
