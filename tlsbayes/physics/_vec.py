"""Glue between the public, keyword-friendly API and the 1-D numba loops."""

import numpy as np

_ndarray = np.ndarray
_f8 = np.dtype(np.float64)


def as_flat(x):
    """Return ``(array, flat)``: ``x`` as a float64 array and a contiguous 1-D view of it."""
    # Fast path for the common case (a 1-D float64 array): the wrapper must cost far less
    # than the 40-point kernels it wraps (~2 µs).
    if type(x) is _ndarray and x.dtype is _f8 and x.ndim == 1 and x.flags.c_contiguous:
        return x, x
    arr = np.asarray(x, dtype=np.float64)
    return arr, np.ascontiguousarray(arr).reshape(-1)


def restore(out, arr):
    """Give ``out`` (1-D) the shape of ``arr``; a 0-d input gives a Python float back."""
    if arr.ndim == 1:
        return out
    return out.reshape(arr.shape) if arr.ndim else float(out[0])
