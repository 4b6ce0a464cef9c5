"""What a report needs from the model, evaluated once, when the result is written.

Three parts of a fit's report evaluate the model (numba's kernels) at posterior draws: the fit
figure (:class:`~tlsbayes.results.curves.FitCurves`), the misfit verdicts
(:func:`tlsbayes.verdicts.misfit.check_posterior`: predictions and likelihoods at up to 400
draws) and the noise guidance (the model at the posterior-median parameters).
:func:`evaluate_model` computes them together; :class:`ModelOutputs` holds the results as
arrays, strings and numbers and converts them to and from JSON exactly, so that a run
directory can keep them next to posterior.nc and a re-plot needs neither the model nor numba
(:mod:`tlsbayes.fit_report` stores and reuses them, keyed by posterior.nc's sha256).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

import numpy as np

from ..verdicts.misfit import Misfit, check_posterior
from .curves import FitCurves, fit_curves

__all__ = ["ModelOutputs", "evaluate_model", "median_prediction"]


@dataclass(frozen=True, eq=False)
class ModelOutputs:
    """The model evaluated on a posterior, for the report.

    Attributes
    ----------
    curves : FitCurves
        What the fit figure draws (its ``title`` None: the figure title is the run's, given
        when it is drawn).
    misfit : tuple of tlsbayes.verdicts.Misfit
        The misfit verdict of each data set, in the posterior's order (``check_posterior``
        with its default seed: the verdicts of this result).
    at_median : dict
        ``data set name -> ndarray, shape (n,)``: the model at the posterior-median
        parameters (the summary's ``median`` column), at the data points, fit (SI) units.
    """

    curves: FitCurves
    misfit: tuple
    at_median: dict

    def to_json(self) -> dict:
        """A JSON-ready dict (floats survive ``json.dumps``/``json.loads`` exactly)."""
        return {"curves": self.curves.to_json(),
                "misfit": [asdict(m) for m in self.misfit],
                "at_median": {k: np.asarray(v).tolist() for k, v in self.at_median.items()}}

    @classmethod
    def from_json(cls, doc: dict) -> ModelOutputs:
        """Inverse of :meth:`to_json`; KeyError/TypeError/ValueError on a malformed one."""
        misfit = []
        for m in doc["misfit"]:
            kw = {}
            for f in fields(Misfit):
                v = m[f.name]
                kw[f.name] = {"str": str, "bool": bool, "int": int}.get(f.type, float)(v)
            misfit.append(Misfit(**kw))
        at_median = {str(k): np.asarray(v, dtype=np.float64)
                     for k, v in dict(doc["at_median"]).items()}
        return cls(FitCurves.from_json(doc["curves"]), tuple(misfit), at_median)


def median_prediction(posterior, median: dict) -> dict:
    """``data set name -> (n,)`` model at the parameters ``median`` (name -> physical value,
    every free parameter), at each data set's points."""
    theta = posterior.priors.from_params(
        {n: median[n] for n in posterior.free_names if n in median})
    mus = posterior.predict(np.asarray(theta, dtype=np.float64)[None, :])
    return {name: mu[0] for name, mu in mus.items()}


def evaluate_model(posterior, theta, median: dict, *, axes_of=None) -> ModelOutputs:
    """Everything the report needs from the model (this is where numba's kernels run).

    Parameters
    ----------
    posterior : tlsbayes.inference.posterior.Posterior
    theta : ndarray, shape (nsamples, ndim)
        Posterior draws in sampling coordinates (all of them, in the result's order).
    median : dict
        ``name -> posterior median`` (physical) of every free parameter.
    axes_of : dict, optional
        The data's display axes (:func:`tlsbayes.results.curves.fit_curves`).
    """
    return ModelOutputs(curves=fit_curves(posterior, theta, axes_of=axes_of),
                        misfit=tuple(check_posterior(posterior, theta)),
                        at_median=median_prediction(posterior, median))
