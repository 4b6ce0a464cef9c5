"""Experiment design: forecast the posterior widths a proposed measurement would give.

A *plan* is a small TOML file, parsed through a whitelist like a model card, that describes
one or more alternative measurements for the data sets of a card::

    [plan]
    name = "B2_lower_T"                 # required; letters, digits, _ . -
    title = "..."                       # optional text
    description = "..."                 # optional text
    pair = ["E_c", "beta"]              # optional: the degeneracy to draw (default: a known
                                        #   pair of the card, e.g. E_c-beta, x-K, C-gamma)
    target = 0.10                       # optional: relative sigma goal, flagged in the table
    check = ["paper"]                   # optional: alternatives to check by simulate-and-fit
                                        #   (true: the first; false: none; default: the first)
    seed = 1                            # optional: seed of the simulate-and-fit check

    [point]                             # optional: parameter values (physical units) at
    E_c = 3.4                           #   which to forecast; see "the forecast point" below
    beta = 0.20

    [[alternative]]                     # one or more
    name = "paper"
    description = "..."                 # optional
    [[alternative.sweep]]               # one or more measurements of card data sets
    dataset = "qi"                      # which card data set (optional if the card has one)
    x = { min = -150, max = -70, n = 33, unit = "dBm" }   # the swept variable; see below
    T = { values = [246], unit = "mK" } # q_power only: one sweep per temperature
    noise = { relative = 0.01 }         # or { absolute = 1e-8 } (SI unit of y)

* ``x`` is ``{min, max, n, unit, scale}`` (``scale = "linear"`` in the declared unit, the
  default, so a dBm grid is evenly spaced in dB; or ``"log"``), or ``{values = [...], unit}``,
  as in a card's ``[simulation]`` table.  The unit must be a unit of the model's ``x``
  (:data:`tlsbayes.io.UNITS`); without one, the unit the card declares for its x column.
  Values are converted to SI once, here.  Omitted: the card's own data points.
* ``T`` (models with a measurement-temperature constant, i.e. ``q_power``): a number in K, or
  a grid table like ``x``.  Each temperature is one more sweep of the same ``x``.
* ``noise``: the true scatter of the proposed data, relative to the prediction or absolute
  in the SI unit of the model's ``y`` (1/Qi for ``q_power``).  Omitted (only with ``x``
  omitted too): the card's quoted sigmas.  A likelihood ``noise_scale`` is evaluated at 1
  (the plan's noise is the real one); other likelihood parameters at the forecast point.

Every unknown table or key is a :class:`~tlsbayes.errors.CardError` naming the key and the
plan file.

The forecast point
------------------
In order of precedence: the posterior medians of a finished run (``tlsbayes design CARD --plan
PLAN --at RUN_DIR``), the plan's ``[point]`` table, the card's ``[simulation]`` parameters,
and for everything not given the prior median of the card.

The forecast
------------
For data ``y_i`` with mean ``mu_i(theta)`` and scale ``c_i(theta)`` (sigma, or
``noise_scale * sigma`` ...), the expected Fisher information in the card's sampling
coordinates ``theta`` (``ln x`` for log-uniform parameters) is

    Gaussian:  F = sum_i [ d mu_i d mu_i^T / c_i^2 + 2 d ln c_i d ln c_i^T ]
    Student-t: F = sum_i [ (nu+1)/(nu+3) d mu_i d mu_i^T / c_i^2
                           + 2 nu/(nu+3) d ln c_i d ln c_i^T ] (+ the nu terms if nu is free)

(the Gaussian one is the standard result for a mean and a variance that depend on the
parameters; Student-t: Lange, Little & Taylor, JASA 84, 881 (1989)).  The derivatives are
five-point central differences whose steps are a tenth of the forecast width of each
parameter (found by one refinement pass); the difference between steps h and 2h is reported
as the numerical error.  The prior enters as a Gaussian of the same variance (uniform of width
w: w^2/12 in the sampling coordinate), so a direction the data do not constrain keeps its prior
width instead of blowing up.  The forecast covariance is ``(F + P)^-1``.

The Fisher forecast is a local, Gaussian approximation; :func:`simulate_and_fit` checks it by
simulating the plan's data at the point and fitting them with :func:`tlsbayes.fit.run_fit`.

Modules: :mod:`~tlsbayes.design.plan` (plan files), :mod:`~tlsbayes.design.point` (the forecast
point and the plan's posterior), :mod:`~tlsbayes.design.fisher` (Fisher information and the
forecast), :mod:`~tlsbayes.design.validate` (simulate-and-fit), :mod:`~tlsbayes.design.report`
(Markdown, JSON, ellipses), :mod:`~tlsbayes.design.run` (the ``tlsbayes design`` command).
"""

from __future__ import annotations

from .fisher import Forecast, fisher_information, forecast, prior_precision
from .plan import (ALTERNATIVE_KEYS, PLAN_KEYS, PLAN_TOP_KEYS, SWEEP_KEYS, Alternative, Plan,
                   Sweep, load_plan, parse_plan)
from .point import forecast_point, plan_posterior
from .report import DesignResult, design_json, design_markdown, ellipse_points, plot_ellipses
from .run import run_design
from .validate import simulate_and_fit

__all__ = [
    "PLAN_TOP_KEYS",
    "PLAN_KEYS",
    "ALTERNATIVE_KEYS",
    "SWEEP_KEYS",
    "Sweep",
    "Alternative",
    "Plan",
    "Forecast",
    "DesignResult",
    "load_plan",
    "parse_plan",
    "forecast_point",
    "plan_posterior",
    "prior_precision",
    "fisher_information",
    "forecast",
    "simulate_and_fit",
    "run_design",
    "design_markdown",
    "design_json",
    "ellipse_points",
    "plot_ellipses",
]
