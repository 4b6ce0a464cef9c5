"""The three figures of a fit, drawn by this checkout's renderers (SVG and matplotlib's PNG)
and, optionally, by an older checkout's ``tlsbayes/plotting.py``.

    python benchmarks/figures_side_by_side.py RUN_DIR [--old /path/to/older/checkout] [--reps 8]

Everything is loaded into one process (this checkout's package builds the inputs from
``RUN_DIR``, a run directory of ``tlsbayes fit``; ``--old`` must be a checkout from before
plotting became a package), numba is warmed, and ``plot_fit``, ``plot_corner`` and
``plot_trace`` are drawn ``--reps`` times by each renderer, alternated, into memory.  Prints the
minimum CPU seconds of each figure (the steady state: the first figure of a process also pays
matplotlib's font loading; importing matplotlib is not counted); on a shared machine the
minimum over alternated repeats is the figure to compare.
"""

from __future__ import annotations

import argparse
import importlib.util
import inspect
import io
import time
from pathlib import Path

import numpy as np

from tlsbayes import fit_report, plotting, rundir
from tlsbayes import results as R
from tlsbayes.reporting import run_context
from tlsbayes.results.curves import fit_curves
from tlsbayes.sampling import read_checkpoint

ROOT = Path(__file__).resolve().parents[1]
FIGURES = ("fit", "corner", "trace")


def _load(path: Path, tag: str):
    spec = importlib.util.spec_from_file_location(f"plotting_{tag}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _draw_fit(m, posterior, theta, title, axes_of):
    """The fit figure, model evaluation included: a plotting.py whose ``plot_fit`` draws a
    :class:`~tlsbayes.results.curves.FitCurves` gets them from this checkout's
    :func:`~tlsbayes.results.curves.fit_curves`; an older one evaluates the model itself."""
    if "posterior" in inspect.signature(m.plot_fit).parameters:
        return m.plot_fit(posterior, theta, io.BytesIO(), title=title, axes_of=axes_of)
    return m.plot_fit(fit_curves(posterior, theta, title=title, axes_of=axes_of), io.BytesIO())


def _drawers(m, run: Path) -> dict:
    _, posterior, _ = rundir.load_run(run)
    idata = R.load(run / rundir.POSTERIOR_FILE)
    ctx = run_context(run, R.attrs_of(idata), posterior)
    chain = read_checkpoint(run / rundir.CHECKPOINT_FILE).chain
    log_params = R.attrs_of(idata)["extra"]["log_params"]
    names = list(posterior.free_names)
    samples = np.column_stack([idata.posterior[n].values.reshape(-1) for n in names])
    theta = posterior.priors.from_params({n: samples[:, i] for i, n in enumerate(names)})
    posterior.log_prob(theta[:2])  # numba's cached kernels loaded before any timing
    info = posterior.parameter_info()
    shown, logs = fit_report.corner_coordinates(chain, names, posterior.priors, log_params)
    axes_of = {d.name: (d.x_axis, d.y_axis) for d in ctx.datasets}
    title = ctx.figure_title
    labels = [plotting.axis_label(info, n, lg) for n, lg in zip(names, logs)]
    return {
        "fit": lambda: _draw_fit(m, posterior, theta, title, axes_of),
        "corner": lambda: m.plot_corner(samples, names, io.BytesIO(), param_info=info,
                                        log_params=log_params, title=title),
        "trace": lambda: m.plot_trace(shown, names, io.BytesIO(), burn=100, labels=labels,
                                      title=title),
    }


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run", type=Path)
    ap.add_argument("--old", type=Path, help="older checkout (with tlsbayes/plotting.py)")
    ap.add_argument("--reps", type=int, default=8)
    args = ap.parse_args(argv)
    drawers = {fmt: _drawers(plotting.renderer(fmt), args.run) for fmt in plotting.FORMATS}
    if args.old is not None:
        drawers["old"] = _drawers(_load(args.old / "tlsbayes" / "plotting.py", "old"), args.run)
    best = {}
    for _ in range(args.reps):
        for tag, figs in drawers.items():
            for name, draw in figs.items():
                start = time.process_time()
                draw()
                best[tag, name] = min(best.get((tag, name), np.inf), time.process_time() - start)
    for tag in drawers:
        cells = "  ".join(f"{n} {best[tag, n]:.3f}" for n in FIGURES)
        print(f"{tag}: {cells}  sum {sum(best[tag, n] for n in FIGURES):.3f} s CPU (min of "
              f"{args.reps})")


if __name__ == "__main__":
    main()
