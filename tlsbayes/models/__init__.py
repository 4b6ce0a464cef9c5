"""Models: named parameters, units, labels and a walker-vectorised ``predict``.

One module per physics module (:mod:`~tlsbayes.models.shift`, :mod:`~tlsbayes.models.qpower`,
:mod:`~tlsbayes.models.nems`, :mod:`~tlsbayes.models.quasiparticle`), each declaring the
column layout of its numba kernels once (``PARAMS``, ``CONSTS``); :mod:`~tlsbayes.models.base`
holds :class:`Parameter`, the :class:`Model` base and the registry of kinds;
:mod:`~tlsbayes.models.papers` the published values of the source papers.

Importing this package registers every model kind in :data:`MODELS`.
"""

# Import order = registration order = the order MODELS lists the kinds in.
# isort: off
from .base import CONSTANT_UNITS, MODELS, Model, Parameter, model_from_dict
from .shift import FrequencyShift, LogShift
from .qpower import SATURATION_KINDS, QPower
from .nems import NemsDamping
from .quasiparticle import GAP_PARAMETERS, FractionalShiftQP, FrequencyShiftQP, InverseQQP

# isort: on

__all__ = [
    "CONSTANT_UNITS",
    "Parameter",
    "Model",
    "FrequencyShift",
    "LogShift",
    "QPower",
    "NemsDamping",
    "FrequencyShiftQP",
    "FractionalShiftQP",
    "InverseQQP",
    "MODELS",
    "GAP_PARAMETERS",
    "SATURATION_KINDS",
    "model_from_dict",
]
