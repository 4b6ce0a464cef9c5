"""Glue shared by the example notebooks: run mode, fitting, inline figures, key numbers.

Only plumbing lives here; every model, prior, sampler and figure comes from tlsbayes.

``TLSBAYES_NB_SMALL=1`` selects the smoke-test mode used by CI (few walkers and steps: rough
posteriors that do not pass the convergence gate).  Without it every fit runs to the library's
gate (τ stable to 2 %, ≥ 50 τ, split R-hat < 1.01, ESS ≥ 1000).  ``TLSBAYES_NB_RESULTS``, if
set, names a JSON file that receives the notebook's key numbers (see ``save_key``).
"""

from __future__ import annotations

import atexit
import io
import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
from IPython.display import Image, display

from tlsbayes import plotting
from tlsbayes import results as R
from tlsbayes.fit import run_fit
from tlsbayes.inference.posterior import Posterior
from tlsbayes.inference.prior_set import PriorSet
from tlsbayes.results.curves import fit_curves
from tlsbayes.sampling import SamplerSettings

SMALL = os.environ.get("TLSBAYES_NB_SMALL", "0") not in ("", "0")
#: Sampler settings of every fit (the seed is given per fit).
SAMPLER = (dict(nwalkers=20, max_steps=1000, chunk=500, map_starts=1) if SMALL
           else dict(max_steps=40_000))
#: Run directories and figure files; removed when the kernel exits.
WORK = Path(tempfile.mkdtemp(prefix="tlsbayes_nb_"))
atexit.register(shutil.rmtree, WORK, ignore_errors=True)


def mode_line() -> str:
    import tlsbayes

    return (f"tlsbayes {tlsbayes.__version__}: "
            + ("SMALL smoke-test mode (rough, unconverged posteriors)" if SMALL
               else "full mode (every fit runs until it passes the convergence gate, "
                  "at most 40 000 steps)"))


def settings(seed: int, **overrides) -> SamplerSettings:
    """The notebook's sampler settings with ``seed`` and any further settings applied."""
    return SamplerSettings(**{**overrides, **SAMPLER, "seed": seed, "progress": False})


def fit_posterior(name, post, seed=1, **overrides):
    """MAP, emcee to the gate, ArviZ result; prints the verdict and returns the FitResult.

    ``overrides`` are further sampler settings (e.g. ``moves="de"``).
    """
    res = run_fit(post, settings(seed, **overrides), WORK / name, plots=False,
                  print_fn=lambda *a: None)
    print(f"{name}: {res.verdict}")
    return res


def fit(name, datasets, priors=None, seed=1):
    """Fit data sets under their default priors, overridden name by name by ``priors``.

    Returns ``(posterior, FitResult)``.
    """
    pri = {}
    for ds in datasets:
        pri.update(ds.default_priors())
    pri.update(priors or {})
    post = Posterior(datasets, PriorSet.from_dict(pri))
    return post, fit_posterior(name, post, seed)


def draws(res, name) -> np.ndarray:
    """Flat posterior draws of one parameter."""
    return np.asarray(res.idata.posterior[name].values, dtype=float).ravel()


def log_params(res) -> list:
    """Parameters with log-uniform priors (sampled, plotted and correlated in log)."""
    return list(R.attrs_of(res.idata)["extra"]["log_params"])


def correlation(res, a, b) -> float:
    """Posterior correlation of ``a`` and ``b`` (log-uniform parameters in log), as the
    library's degeneracy report computes it."""
    rep = R.degeneracy_report(res.idata, log_params=log_params(res))
    return float(rep["correlation"].loc[a, b])


def show_corner(post, res, tag, truths=None, names=None, width=560):
    """The library's corner plot (tlsbayes.plotting.plot_corner), displayed inline."""
    names = list(names or post.free_names)
    samples = np.column_stack([draws(res, n) for n in names])
    path = WORK / f"{tag}_corner.png"
    plotting.plot_corner(samples, names, path, param_info=post.parameter_info(),
                         log_params=[n for n in log_params(res) if n in names], truths=truths)
    display(Image(filename=str(path), width=width))


def show_fit(post, res, tag, width=720):
    """The library's data/posterior-band/residual figure (plotting.plot_fit), inline."""
    theta = post.priors.from_params({n: draws(res, n) for n in post.free_names})
    path = WORK / f"{tag}_fit.png"
    plotting.plot_fit(fit_curves(post, theta), path)
    display(Image(filename=str(path), width=width))


def show(fig, width=None) -> None:
    """Display a matplotlib figure inline as PNG whatever the backend (tlsbayes.plotting
    selects Agg), then close it."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    plt.close(fig)
    display(Image(data=buf.getvalue(), width=width))


def save_key(key: dict) -> None:
    """Print the key numbers and write them to ``$TLSBAYES_NB_RESULTS`` if set."""
    text = json.dumps(key, indent=1, default=float)
    print(text)
    out = os.environ.get("TLSBAYES_NB_RESULTS")
    if out:
        Path(out).write_text(text)
