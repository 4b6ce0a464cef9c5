"""Inference: priors, likelihoods and the posterior they make with the models.

* :mod:`~tlsbayes.inference.priors` — one-dimensional priors, each with its compiled row;
* :mod:`~tlsbayes.inference.prior_set` — :class:`PriorSet`, card parsing
  (:func:`prior_from_dict`) and the one compiled log-prior evaluator;
* :mod:`~tlsbayes.inference.likelihood` — noise models (``KIND_*`` codes), compiled;
* :mod:`~tlsbayes.inference.posterior` — :class:`Dataset` and :class:`Posterior`.
"""

from .likelihood import KINDS, Likelihood
from .posterior import Dataset, Posterior
from .prior_set import PriorSet, prior_from_dict
from .priors import Fixed, LogUniform, Normal, Prior, TruncatedNormal, Uniform

__all__ = [
    "Prior",
    "Uniform",
    "LogUniform",
    "Normal",
    "TruncatedNormal",
    "Fixed",
    "PriorSet",
    "prior_from_dict",
    "KINDS",
    "Likelihood",
    "Dataset",
    "Posterior",
]
