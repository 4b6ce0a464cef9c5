"""Fixed costs of a fit, side by side: ``tlsbayes fit`` against what any emcee fit pays.

``tlsbayes bench`` runs, one after the other in the same session and with the same Python,

* the **reference**: a fresh process that imports what any emcee fit of a resonator needs
  (``numpy, scipy.optimize, numba, emcee``) and does one ``scipy.optimize.curve_fit`` of the
  same points (the standard TLS loss tangent, ``1/Q = F delta0 / sqrt(1 + (P/Pc)^beta) +
  1/Q_other``); and
* **tlsbayes**: a fresh process that imports ``tlsbayes.fit`` and runs
  :func:`tlsbayes.fit.fit_card` on the card (result, summary, report and figures),

each timed from process start to exit (the numba cache is warmed by a first fit, not timed; so is
the bytecode cache where it is kept in a temporary folder: :func:`child_environment`).
The tlsbayes child sets its process up as the ``tlsbayes`` command does (:mod:`tlsbayes.process`:
one OpenBLAS thread, the garbage collector's exit work skipped); every child, the reference
too, gets the command's BLAS thread setting, so that the ratio compares work, not threads.
It prints the phase breakdown of the fit (imports, MAP, sampling, results, report, plots,
from :attr:`tlsbayes.fit.FitResult.phases`) and the ratio of the two wall times (target:
at most 3x).  The default card is the real Ta resonator of issue 13.

Then, to show what the fixed costs are made of: the same fit with ``--plots none``, a process
that only imports matplotlib's Agg canvas (what drawing figures costs before the first line),
and the commands that do little (targets: ``report`` under 2 s, the others well under 1 s):
``tlsbayes report`` of the run (all figures redrawn), a ``resume`` with nothing to do, a card
with a typo, ``tlsbayes models`` and ``tlsbayes --help``, each a fresh ``tlsbayes`` process.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from . import process

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CARD = ROOT / "models" / "real" / "ta_LGS1_5p70GHz_qpower.toml"
PHASES = ("imports", "map", "sampling", "results", "report", "plots")

# The child processes: kept as source text so that each starts from nothing.
_REFERENCE = """
import sys, time, json
t0 = time.perf_counter()
import numpy as np, scipy.optimize, numba, emcee
t1 = time.perf_counter()
x, y = np.load(sys.argv[1])
def inv_q(logx, a, logxc, beta, b):
    return a / np.sqrt(1.0 + np.exp(beta * (logx - logxc))) + b
lx = np.log(x)
p0 = [max(y.max() - y.min(), 1e-12), float(np.median(lx)), 1.0, max(y.min(), 1e-12)]
try:
    scipy.optimize.curve_fit(inv_q, lx, y, p0=p0, maxfev=20000)
except RuntimeError:
    pass  # the cost of trying is what is measured
print(json.dumps({"imports": t1 - t0, "curve_fit": time.perf_counter() - t1}))
"""

_MATPLOTLIB = """
import numpy, matplotlib.figure, matplotlib.backends.backend_agg
print("{}")
"""

# The fit as ``tlsbayes fit`` runs it, process set-up and exit included (tlsbayes.process).
_TLSBAYES = """
import sys, time, json
t0, c0 = time.perf_counter(), time.process_time()
from tlsbayes import process
process.setup()
from tlsbayes.fit import fit_card
t1, c1 = time.perf_counter(), time.process_time()
res = fit_card(sys.argv[1], out=sys.argv[2], plots=sys.argv[3], print_fn=lambda *a, **k: None)
print(json.dumps({"imports": t1 - t0, **res.phases,
                  "cpu": {"imports": c1 - c0, **res.phases_cpu}}))
process.finish()
"""


def _points(card_path) -> tuple[np.ndarray, np.ndarray]:
    """The (x, y) points of the card's first data set, as the reference fits them."""
    from .fit import prepare_fit

    _, posterior, _, _ = prepare_fit(card_path)
    ds = posterior.datasets[0]
    return np.asarray(ds.x, dtype=float), np.asarray(ds.y, dtype=float)


def _children_cpu() -> float:
    use = resource.getrusage(resource.RUSAGE_CHILDREN)
    return use.ru_utime + use.ru_stime


#: CPU seconds (user + system) of the last child run by :func:`_timed`: on a shared machine
#: the wall time says how busy the others are, the CPU time what the child itself cost.
LAST_CPU = [0.0]


def child_environment(tmp: Path) -> tuple[dict, bool]:
    """The environment of the bench's children, and whether their bytecode is cached in ``tmp``.

    The children get the BLAS thread setting of a ``tlsbayes`` command (the reference too).
    Where ``PYTHONDONTWRITEBYTECODE`` is set (as in some sandboxes), every child would compile
    tlsbayes' modules from source at each start (~0.1 s CPU of a fit, not paid by an installed
    package, whose .pyc files pip writes): the children then cache their bytecode under ``tmp``
    (``PYTHONPYCACHEPREFIX``), filled by the untimed warm-up runs, and nothing is written in
    the source tree.
    """
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    process.single_blas_thread(env)
    cached = env.pop("PYTHONDONTWRITEBYTECODE", None) is not None
    if cached:
        env["PYTHONPYCACHEPREFIX"] = str(Path(tmp) / "pycache")
    return env, cached


def _timed(argv: list, ok=(0, 3), env=None) -> tuple[float, str]:
    """Run ``argv`` (a fresh interpreter, environment ``env``); return (wall s, its stdout)."""
    start, cpu = time.perf_counter(), _children_cpu()
    proc = subprocess.run(argv, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - start
    LAST_CPU[0] = _children_cpu() - cpu
    if proc.returncode not in ok:
        raise RuntimeError(f"bench child {argv[1:3]} failed ({proc.returncode}): "
                           f"{proc.stderr.strip().splitlines()[-1:]}")
    return wall, proc.stdout


def _child(code: str, *args, env=None) -> tuple[float, dict]:
    """Run ``code`` in a fresh interpreter; return (wall seconds, its JSON line)."""
    wall, out = _timed([sys.executable, "-c", code, *map(str, args)], env=env)
    return wall, json.loads(out.strip().splitlines()[-1])


def _quick_commands(card, run_dir: Path, tmp: Path, env=None) -> dict:
    """``(wall, cpu)`` seconds of the commands that do little, each a fresh process."""
    cli = [sys.executable, "-m", "tlsbayes.cli"]
    typo = tmp / "typo.toml"
    typo.write_text(Path(card).read_text(encoding="utf-8").replace("[sampler]", "[sampler]\n"
                    "nwalker = 32", 1), encoding="utf-8")
    commands = {
        "report (re-plot, all figures)": ([*cli, "report", str(run_dir)], (0,)),
        "resume, nothing to do": ([*cli, "resume", str(run_dir)], (0,)),
        "fit of a card with a typo": ([*cli, "fit", str(typo), "--out", str(tmp / "typo_run")],
                                      (2,)),
        "models": ([*cli, "models"], (0,)),
        "--help": ([*cli, "--help"], (0,)),
    }
    out = {}
    for name, (argv, ok) in commands.items():
        try:
            wall = _timed(argv, ok=ok, env=env)[0]
            out[name] = (wall, LAST_CPU[0])
        except RuntimeError as err:  # one broken command must not lose the other figures
            print(f"tlsbayes: warning: bench --startup: {err}", file=sys.stderr)
            out[name] = (float("nan"), float("nan"))
    return out


def measure(card=DEFAULT_CARD, *, plots="all", warm=True) -> dict:
    """Time the reference and ``tlsbayes fit`` of ``card`` side by side (see module doc).

    Returns
    -------
    dict
        ``reference_s``, ``tlsbayes_s`` (wall, process start to exit), ``ratio``,
        ``reference_cpu_s``, ``tlsbayes_cpu_s`` (CPU seconds, user + system),
        ``phases`` (seconds per phase of the fit), ``reference`` (its imports and
        curve_fit seconds), ``no_plots_s`` and ``no_plots_phases`` (the fit with ``--plots
        none``), ``matplotlib_s`` (a process importing numpy and matplotlib's Agg canvas) and
        ``quick`` (command -> wall seconds, see the module docstring).
    """
    with tempfile.TemporaryDirectory(prefix="tlsbayes-bench-") as tmp:
        tmp = Path(tmp)
        pts = tmp / "points.npy"
        np.save(pts, np.vstack(_points(card)))
        env, cached = child_environment(tmp)
        if warm:  # numba cache, the OS file cache and the bytecode cache, not timed
            _child(_TLSBAYES, card, tmp / "warm", "all", env=env)
            if cached:  # every child's modules compiled once
                _child(_REFERENCE, pts, env=env)
                _child(_MATPLOTLIB, env=env)
                _quick_commands(card, tmp / "warm", tmp, env=env)
        ref_wall, ref = _child(_REFERENCE, pts, env=env)
        ref_cpu = LAST_CPU[0]
        fit_wall, phases = _child(_TLSBAYES, card, tmp / "run", plots, env=env)
        fit_cpu = LAST_CPU[0]
        bare_wall, bare = _child(_TLSBAYES, card, tmp / "bare", "none", env=env)
        mpl_wall, _ = _child(_MATPLOTLIB, env=env)
        quick = _quick_commands(card, tmp / "run", tmp, env=env)
    return {"reference_s": ref_wall, "tlsbayes_s": fit_wall, "ratio": fit_wall / ref_wall,
            "reference_cpu_s": ref_cpu, "tlsbayes_cpu_s": fit_cpu,
            "phases": phases, "reference": ref, "no_plots_s": bare_wall,
            "no_plots_phases": bare, "matplotlib_s": mpl_wall, "quick": quick,
            "bytecode_cached": cached}


def report_lines(m: dict, card=DEFAULT_CARD) -> list:
    """The side-by-side table of :func:`measure`."""
    ph = m["phases"]
    known = sum(ph.get(k, 0.0) for k in PHASES)
    lines = [f"fixed costs, side by side: {Path(card).name} (process start to exit)",
             *(["  (PYTHONDONTWRITEBYTECODE is set here: the children cache their bytecode "
                "in a temporary folder, as an installed package has its .pyc files)"]
               if m.get("bytecode_cached") else []),
             f"  reference (import numpy, scipy.optimize, numba, emcee; one curve_fit): "
             f"{m['reference_s']:.2f} s (imports {m['reference']['imports']:.2f} s, "
             f"curve_fit {m['reference']['curve_fit'] * 1e3:.1f} ms)",
             f"  tlsbayes fit with report and figures: {m['tlsbayes_s']:.2f} s = "
             f"{m['ratio']:.1f}x the reference (target <= 3x)",
             *([f"  CPU seconds (user + system; the wall time also counts other processes): "
                f"reference {m['reference_cpu_s']:.2f}, tlsbayes {m['tlsbayes_cpu_s']:.2f} = "
                f"{m['tlsbayes_cpu_s'] / m['reference_cpu_s']:.1f}x"]
               if m.get("reference_cpu_s") else []),
             "  phase     wall s   CPU s"]
    cpu = ph.get("cpu", {})
    lines += [f"  {k:<9} {ph.get(k, float('nan')):6.2f}  {cpu.get(k, float('nan')):6.2f}"
              for k in PHASES]
    lines.append(f"  {'other':<9} {m['tlsbayes_s'] - known:6.2f}  (interpreter start, card, "
                 "data, exit)")
    fixed_keys = ("imports", "results", "report", "plots")
    fixed = sum(ph.get(k, 0.0) for k in fixed_keys)
    lines.append(f"  fixed costs (imports + results + report + plots): {fixed:.2f} s wall, "
                 f"{sum(cpu.get(k, 0.0) for k in fixed_keys):.2f} s CPU (target < 0.5 s)")
    if "no_plots_s" in m:
        bare = m["no_plots_phases"]
        bare_cpu = bare.get("cpu", {})
        bare_fixed = sum(bare_cpu.get(k, 0.0) for k in ("imports", "results", "report"))
        lines += [f"  the same fit with --plots none: {m['no_plots_s']:.2f} s = "
                  f"{m['no_plots_s'] / m['reference_s']:.1f}x the reference; fixed costs "
                  f"{bare_fixed:.2f} s CPU (imports {bare_cpu.get('imports', 0):.2f}, results "
                  f"{bare_cpu.get('results', 0):.2f}, report {bare_cpu.get('report', 0):.2f})",
                  f"  a process importing numpy + matplotlib (Agg canvas) alone: "
                  f"{m['matplotlib_s']:.2f} s",
                  "  commands that do little (fresh process):  wall s   CPU s"]
        lines += [f"    {k:<37} {w:6.2f}  {c:6.2f}" for k, (w, c) in m["quick"].items()]
    return lines


def run(print_fn=print, card=DEFAULT_CARD) -> dict:
    """Measure and print; see :func:`measure`."""
    m = measure(card)
    for line in report_lines(m, card):
        print_fn(line)
    return m
