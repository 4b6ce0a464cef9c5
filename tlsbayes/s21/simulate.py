"""Simulated S21 traces with known truth: recovery tests and coverage benchmarks."""

from __future__ import annotations

import numpy as np

from ..physics import s21 as k

__all__ = ["simulate_trace", "theta_from_q"]


def theta_from_q(f_r, Qi, Qc_abs, phi=0.0, a=1.0, a1=0.0, alpha=0.0, tau=0.0) -> np.ndarray:
    """Kernel parameter vector (:data:`tlsbayes.physics.s21.PARAMS`) from Q_i, |Q_c| and φ."""
    return np.array([f_r, 1.0 / Qi, np.cos(phi) / Qc_abs, phi, a, a1, alpha, tau], dtype=float)


def simulate_trace(f, theta, sigma, rng, f_ref=None, geometry="notch"):
    """Model S21 at ``f`` plus complex Gaussian noise of ``sigma`` per quadrature.

    Parameters
    ----------
    f : ndarray, shape (m,)
        Frequencies [Hz].
    theta : ndarray, shape (NPARAMS,)
    sigma : float
    rng : numpy.random.Generator
    f_ref : float, optional
        Default: the midpoint of ``f``.
    geometry : str or int

    Returns
    -------
    ndarray of complex, shape (m,)
    """
    f = np.ascontiguousarray(f, dtype=float)
    f_ref = 0.5 * (f[0] + f[-1]) if f_ref is None else float(f_ref)
    z = k.s21_batch(f, np.asarray(theta, dtype=float)[None, :], f_ref, k.geometry_code(geometry))[0]
    return z + sigma * (rng.standard_normal(f.size) + 1j * rng.standard_normal(f.size))


def write_trace_file(path, f, z) -> None:
    """A trace as the Boulder text layout: frequency [Hz], |S21| [dB], phase [deg], no header.

    Parameters
    ----------
    path : path-like
        Its name should carry the power and temperature (``..._-60dB_12mK.csv``).
    f : ndarray, shape (m,)
    z : ndarray of complex, shape (m,)
    """
    z = np.asarray(z, dtype=complex)
    cols = np.column_stack([np.asarray(f, dtype=float), 20.0 * np.log10(np.abs(z)),
                            np.degrees(np.angle(z))])
    np.savetxt(path, cols, delimiter=",", fmt="%.10g")
