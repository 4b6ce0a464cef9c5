"""Both verdicts of a finished fit, and their text for the terminal, report.md and the tables.

:func:`evaluate` runs :func:`~.identification.identify_posterior` and
:func:`~.misfit.check_posterior` on an InferenceData's posterior draws; the other functions
only format what it returned:

* ``summary.csv`` column ``identified`` (:func:`identified_column`);
* ``checks.csv``, one row per data set (:func:`checks_table`);
* a batch's ``index.csv`` fields ``unidentified`` and ``misfit`` (:func:`index_fields`);
* terminal lines (:func:`terminal_lines`) and a report.md section (:func:`markdown_section`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from .identification import identify_posterior
from .misfit import check_posterior

__all__ = ["Verdicts", "evaluate", "identified_column", "checks_table", "index_fields",
           "terminal_lines", "markdown_section", "CHECKS_COLUMNS"]

#: Columns of checks.csv, in order.
CHECKS_COLUMNS = ("dataset", "n", "misfit", "runs", "runs_expected", "p_runs", "r1", "p_r1",
                  "p_discrepancy", "max_abs_residual", "reason")


@dataclass(frozen=True)
class Verdicts:
    """Identification per parameter (dict name -> Identification) and misfit per data set."""

    identification: dict
    misfit: list

    @property
    def unidentified(self) -> list:
        """Names of the parameters whose verdict is ``no``."""
        return [n for n, v in self.identification.items() if v.verdict == "no"]

    @property
    def any_misfit(self) -> bool:
        return any(m.misfit for m in self.misfit)


def evaluate(posterior, idata, *, rng=None, misfit=None) -> Verdicts:
    """Both verdicts from a fit's InferenceData.

    Parameters
    ----------
    posterior : Posterior
        The fitted posterior (priors, data sets).
    idata : arviz.InferenceData
        With a ``posterior`` group holding every free parameter in physical units.
    rng : numpy.random.Generator, optional
        Default ``default_rng(0)``: the same result gives the same verdicts.
    misfit : sequence of Misfit, optional
        The misfit verdicts, already computed from these draws (e.g. stored with the run:
        :class:`tlsbayes.results.model_outputs.ModelOutputs`); the model is then not
        evaluated (the identification verdict needs only the priors and the data).
    """
    names = list(posterior.free_names)
    draws = {n: np.asarray(idata.posterior[n].values, dtype=float).reshape(-1) for n in names}
    ident = identify_posterior(posterior, draws)
    if misfit is None:
        misfit = check_posterior(posterior, posterior.priors.from_params(draws), rng=rng)
    return Verdicts(ident, list(misfit))


def identified_column(verdicts: Verdicts, names) -> list:
    """``yes``/``weak``/``no`` for each of ``names`` (``""`` for a parameter with no verdict)."""
    return [verdicts.identification[n].verdict if n in verdicts.identification else ""
            for n in names]


def checks_table(verdicts: Verdicts):
    """checks.csv as a :class:`~tlsbayes.results.table.Table`, one row per data set (rows 0,
    1, ...; :data:`CHECKS_COLUMNS`)."""
    from ..results.table import Table

    rows = []
    for m in verdicts.misfit:
        d = asdict(m)
        rows.append({c: ("true" if d[c] else "false") if c == "misfit" else d[c]
                     for c in CHECKS_COLUMNS})
    return Table(rows, CHECKS_COLUMNS)


def index_fields(verdicts: Verdicts) -> dict:
    """A batch index.csv's ``unidentified`` (names, space separated) and ``misfit`` cells."""
    return {"unidentified": " ".join(verdicts.unidentified),
            "misfit": "true" if verdicts.any_misfit else "false"}


def terminal_lines(verdicts: Verdicts) -> list:
    """One line per parameter that is not plainly identified and per misfitting data set."""
    ident = verdicts.identification
    ok = [n for n, v in ident.items() if v.verdict == "yes"]
    out = [f"identified: {', '.join(ok) if ok else 'none'}"]
    out += [f"{v.verdict.upper()}: {v.reason}" for v in ident.values() if v.verdict != "yes"]
    for m in verdicts.misfit:
        out.append(f"MISFIT data set {m.dataset}: {m.reason}" if m.misfit else
                   f"data set {m.dataset}: no misfit found (runs test p = {m.p_runs:.2g}, "
                   f"lag-1 p = {m.p_r1:.2g}, predictive p = {m.p_discrepancy:.2g})")
    return out


def markdown_section(verdicts: Verdicts) -> str:
    """report.md section: what the data identified, and the misfit checks."""
    lines = ["## What these data identify", "",
             "Width ratio: posterior / prior 16-84 % width in the prior's coordinate (log10 for "
             "a log-uniform prior); thresholds in `tlsbayes/verdicts/identification.py`.", "",
             "| parameter | identified | width ratio | why |", "|---|---|---|---|"]
    for n, v in verdicts.identification.items():
        lines.append(f"| {n} | {v.verdict} | {v.width_ratio:.3g} | {v.reason} |")
    lines += ["", "## Misfit checks", ""]
    for m in verdicts.misfit:
        head = f"- data set `{m.dataset}` ({m.n} points): "
        if m.misfit:
            lines.append(head + f"**misfit**: {m.reason}.")
        else:
            lines.append(head + f"no misfit found (runs test p = {m.p_runs:.2g}, lag-1 "
                                f"autocorrelation {m.r1:+.2f} p = {m.p_r1:.2g}, posterior "
                                f"predictive p = {m.p_discrepancy:.2g}).")
    return "\n".join(lines) + "\n"
