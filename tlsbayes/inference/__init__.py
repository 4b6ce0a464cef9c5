"""Inference: priors, likelihoods and the posterior they make with the models.

* :mod:`~tlsbayes.inference.priors` — one-dimensional priors, each with its compiled row;
* :mod:`~tlsbayes.inference.prior_set` — :class:`PriorSet`, card parsing
  (:func:`prior_from_dict`) and the one compiled log-prior evaluator;
* :mod:`~tlsbayes.inference.likelihood` — noise models (``KIND_*`` codes in
  :mod:`~tlsbayes.inference.likelihood_codes`);
* :mod:`~tlsbayes.inference.kernels` — the compiled likelihoods and prior evaluator (numba,
  imported on first evaluation);
* :mod:`~tlsbayes.inference.posterior` — :class:`Dataset` and :class:`Posterior`.
"""

from ..lazy import lazy_getattr
from .likelihood import KINDS, Likelihood
from .prior_set import PriorSet, prior_from_dict
from .priors import Fixed, LogUniform, Normal, Prior, TruncatedNormal, Uniform


def _load(owner):
    from . import posterior

    return posterior


# Imported on first use (PEP 562): the posterior imports the compiled kernels (numba), which
# reading a card does not need.
__getattr__ = lazy_getattr(__name__, {"Dataset": "posterior", "Posterior": "posterior"},
                           globals(), _load)

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
