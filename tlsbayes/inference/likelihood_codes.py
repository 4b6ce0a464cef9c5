"""Codes of the likelihood kinds and columns of their ``extra`` matrix, declared once.

Plain Python: imported by :mod:`~tlsbayes.inference.likelihood` (read with every card) and by
the compiled functions of :mod:`~tlsbayes.inference.kernels`.
"""

KINDS = ("gaussian", "gaussian_noise_scale", "gaussian_jitter", "student_t", "trace_posterior")
KIND_GAUSSIAN = KINDS.index("gaussian")
KIND_NOISE_SCALE = KINDS.index("gaussian_noise_scale")
KIND_JITTER = KINDS.index("gaussian_jitter")
KIND_STUDENT_T = KINDS.index("student_t")
KIND_TRACE_POSTERIOR = KINDS.index("trace_posterior")

#: Columns of the ``extra`` matrix: the likelihood's own parameters in the order of
#: :attr:`Likelihood.parameters` (``noise_scale`` or ``jitter`` first, then ``nu``), padded with
#: ones.
EXTRA_COLUMNS = ("scale", "nu")
X_SCALE = EXTRA_COLUMNS.index("scale")
X_NU = EXTRA_COLUMNS.index("nu")
