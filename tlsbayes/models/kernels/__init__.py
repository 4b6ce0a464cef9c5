"""The models' numba kernels, one module per model module, imported on first prediction.

Each ``predict_*(P (nwalkers, k), x (n,), consts) -> (nwalkers, n)`` reads the columns that
:mod:`tlsbayes.models` declares by name; see :class:`tlsbayes.models.base.lazy_kernel`.
"""
