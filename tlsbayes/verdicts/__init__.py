"""Verdicts on a finished fit beyond convergence: what the data identified, and what misfits.

Layer: results (imports numpy, scipy and tlsbayes.physics only; takes posterior, prior and
data-set objects by their public attributes, so that it depends on no other tlsbayes module).

* :mod:`.identification`: per parameter ``yes`` / ``weak`` / ``no`` with a reason.
* :mod:`.misfit`: per data set ``misfit`` true/false (runs test, lag-1 autocorrelation,
  posterior predictive p-value of -2 ln L) with a reason.
* :mod:`.report`: both from an InferenceData (:func:`evaluate`) and their text for the
  terminal, report.md, summary.csv (``identified``), checks.csv and a batch's index.csv.
"""

from .identification import (DataSpan, Identification, data_spans, identify,
                             identify_posterior)
from .misfit import Misfit, check_dataset, check_posterior
from .report import Verdicts, evaluate

__all__ = ["DataSpan", "Identification", "data_spans", "identify", "identify_posterior",
           "Misfit", "check_dataset", "check_posterior", "Verdicts", "evaluate"]
