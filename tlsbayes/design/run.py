"""The design command: forecast every alternative of a plan, check some, write the report."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..atomic import atomic_output, atomic_write_text
from ..card import build_posterior
from ..errors import CardError
from ..models.degeneracy import KNOWN_DEGENERACIES
from .fisher import Forecast, forecast
from .plan import Plan
from .point import forecast_point, plan_posterior, true_noise_theta
from .report import DesignResult, design_json, design_markdown, plot_ellipses
from .validate import simulate_and_fit

__all__ = ["run_design"]

#: Degeneracies to draw by default, in the order the papers write them.
_PAIRS = (("E_c", "beta"), ("n_c", "beta"), ("P_c", "beta"), ("x", "K"), ("C", "gamma"),
          ("delta0", "delta_other"))


def _default_pair(names, first: Forecast | None):
    known = list(_PAIRS) + [tuple(sorted(p)) for p in KNOWN_DEGENERACIES]
    for a, b in known:
        if a in names and b in names:
            return (a, b)
    if first is not None and len(names) >= 2:
        c = np.abs(first.corr - np.eye(len(names)))
        i, j = np.unravel_index(np.argmax(c), c.shape)
        return (names[min(i, j)], names[max(i, j)])
    return None



def run_design(card, plan: Plan, *, posterior=None, run_dir=None, outdir=None, check=True,
               print_fn=print) -> DesignResult:
    """Forecast every alternative of ``plan``, check some by simulate-and-fit, write a report.

    Parameters
    ----------
    card : tlsbayes.card.Card
    plan : Plan
    posterior : Posterior, optional
        The card's posterior (built from the card if not given).
    run_dir : path-like, optional
        A finished run of the card: forecast at its posterior medians.
    outdir : path-like, optional
        Where to write ``design.md``, ``design.json`` and ``design_ellipses.png`` (atomically);
        nothing is written if ``None``.
    check : bool
        Run the plan's simulate-and-fit checks.
    """
    if posterior is None:
        posterior, _ = build_posterior(card)
    sim = (getattr(card, "simulation", None) or {}).get("parameters", {})
    theta0, source = forecast_point(posterior, point=plan.point, card_point=sim,
                                    run_dir=run_dir)
    theta0 = true_noise_theta(posterior, theta0)
    forecasts, plan_posts = {}, {}
    for alt in plan.alternatives:
        pp = plan_posterior(posterior, alt, theta0)
        plan_posts[alt.name] = pp
        forecasts[alt.name] = forecast(pp, theta0)
    names = posterior.free_names
    pair = plan.pair or _default_pair(names, next(iter(forecasts.values()), None))
    if pair is not None and not all(p in names for p in pair):
        fixed = [p for p in pair if p not in names]
        raise CardError(f"{plan.path}: [plan] pair: {fixed[0]!r} is fixed in the card, not a "
                        "free parameter")
    checks = {}
    if check:
        for k, aname in enumerate(plan.check):
            print_fn(f"simulate-and-fit check of {aname!r} ...")
            checks[aname] = simulate_and_fit(plan_posts[aname], theta0, seed=plan.seed + k)
    res = DesignResult(plan=plan, theta=theta0, point_source=source, forecasts=forecasts,
                       checks=checks, pair=pair)
    text = design_markdown(card, res)
    print_fn(text)
    if outdir is not None:
        out = Path(outdir)
        out.mkdir(parents=True, exist_ok=True)
        files = [atomic_write_text(out / "design.md", text),
                 atomic_write_text(out / "design.json", json.dumps(design_json(card, res),
                                                                   indent=1))]
        if pair is not None:
            with atomic_output(out / "design_ellipses.png") as tmp:
                plot_ellipses(res, tmp, param_info=posterior.parameter_info())
            files.append(out / "design_ellipses.png")
        res.outdir, res.files = out, tuple(files)
    return res

