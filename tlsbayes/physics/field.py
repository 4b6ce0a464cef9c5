"""The readout field of a resonator from its power (Defrance Eq. 6), without numba.

Plain Python on floats or numpy arrays, so that code that only inspects data (the
identification verdict's data spans) needs no compiler; :func:`tlsbayes.physics.qpower.field_constant`
is this function compiled by numba for the kernels.
"""

import math

from .constants import eps0


def field_constant(P_read, f, Qc, A0, d, eps_r):
    """``k = |E|²/Qr²`` of Eq. 6 [V² m⁻²]: the part of the field that does not depend on Qi.

    Parameters
    ----------
    P_read : float or ndarray
        Readout power at the device [W].
    f : float
        Resonance frequency [Hz].
    Qc : float
        Coupling quality factor.
    A0 : float
        Capacitor area [m²].
    d : float
        Dielectric thickness [m].
    eps_r : float
        Relative permittivity of the dielectric.
    """
    return P_read / (2.0 * math.pi * f) / Qc / (eps_r * eps0 * A0 * d)
