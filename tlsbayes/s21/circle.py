"""A start for an S21 fit without hand tuning: cable delay, algebraic circle fit, phase fit.

The procedure of Probst et al., Rev. Sci. Instrum. 86, 024706 (2015), Sec. III (implemented
here from the paper, not from their code):

1. **Delay.**  A first guess from the slope of the unwrapped phase on the two off-resonant
   edges of the span (one common slope, one intercept per edge, so that a 2π jump through
   the dip does not matter); then the delay that makes the points most circular: the
   residual of the algebraic circle fit is scanned over ``±1/(2·span)`` around the
   guess (half a turn of extra phase across the span) and refined by Brent's method.
   The residual is the absolute one: the ratio rms/radius would favour the nearly straight
   arc that a grossly wrong delay makes of the off-resonant points.
2. **Circle.**  Pratt's algebraic fit (V. Pratt, Comput. Graph. 21, 145 (1987); Chernov &
   Lesort, J. Math. Imaging Vision 23, 239 (2005)): the circle ``A|z|² + B x + C y + D = 0``
   minimising ``Σ (A|z_j|² + B x_j + C y_j + D)²`` under ``B² + C² - 4AD = 1``, the
   generalised eigenvector of the moment matrix with the smallest non-negative eigenvalue.
   No iteration, no start.
3. **Phase.**  Around the circle's centre the angle is ``θ(f) = θ0 + 2 arctan(2 Q_l (1 -
   f/f_r))``; a least-squares fit of (θ0, Q_l, f_r) from a start read off the data (f_r at
   the point farthest from the off-resonant point, Q_l from the half-power width).
4. **Environment and couplings.**  The off-resonant point ``P = z_c + r e^{i(θ0 + π)}`` gives
   a = |P| and α = arg P; in units of P the circle has its centre at ``1 - (d/2) e^{iφ}`` with
   diameter ``d = Q_l/|Q_c|`` (notch) or ``2 Q_l/|Q_c|`` (reflection), which gives φ and |Q_c|.

These values start the least-squares refinement and the sampler; they are not the answer.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import linalg, optimize

from ..physics import s21 as k

__all__ = ["Circle", "CircleStart", "fit_circle", "estimate_delay", "circle_start"]

# Pratt's constraint B² + C² - 4AD as a quadratic form in (A, B, C, D).
_PRATT = np.array([[0.0, 0.0, 0.0, -2.0],
                   [0.0, 1.0, 0.0, 0.0],
                   [0.0, 0.0, 1.0, 0.0],
                   [-2.0, 0.0, 0.0, 0.0]])
_EDGE_FRACTION = 0.15  # fraction of the points on each side taken as off-resonant for the guess
_DELAY_GRID = 41


@dataclass(frozen=True)
class Circle:
    """A fitted circle in the complex plane.

    Attributes
    ----------
    center : complex
    radius : float
    rms : float
        Root-mean-square of the radial residuals ``|z - center| - radius``.
    """

    center: complex
    radius: float
    rms: float


@dataclass(frozen=True)
class CircleStart:
    """Start of an S21 fit from the circle method.

    Attributes
    ----------
    theta : ndarray, shape (NPARAMS,)
        Parameters in the order of :data:`tlsbayes.physics.s21.PARAMS`.
    f_ref : float
        Reference frequency of α and the amplitude slope (the span's midpoint) [Hz].
    geometry : int
    circle : Circle
        The circle of the delay-corrected data.
    """

    theta: np.ndarray
    f_ref: float
    geometry: int
    circle: Circle


def fit_circle(z) -> Circle:
    """Pratt's algebraic circle fit of complex points ``z`` (see the module docstring).

    Parameters
    ----------
    z : array_like of complex, shape (m,), m >= 3

    Returns
    -------
    Circle
        ``radius = inf`` when the points are collinear.
    """
    z = np.asarray(z, dtype=complex)
    mean = z.mean()
    w = z - mean
    scale = np.sqrt(np.mean(np.abs(w) ** 2))
    if not np.isfinite(scale) or scale == 0.0:
        return Circle(complex(mean), 0.0, 0.0)
    w = w / scale  # centred and scaled for a well-conditioned moment matrix
    x, y = w.real, w.imag
    design = np.column_stack([x * x + y * y, x, y, np.ones_like(x)])
    moments = design.T @ design / x.size
    vals, vecs = linalg.eig(moments, _PRATT)
    vals = vals.real
    ok = np.isfinite(vals) & (vals >= -1e-12 * np.abs(vals[np.isfinite(vals)]).max(initial=1.0))
    if not ok.any():
        return Circle(complex(mean), np.inf, np.inf)
    j = np.flatnonzero(ok)[np.argmin(vals[ok])]
    aa, bb, cc, dd = vecs[:, j].real
    if abs(aa) < 1e-14 * max(abs(bb), abs(cc), 1e-300):
        return Circle(complex(mean), np.inf, np.inf)
    center = complex(-bb / (2 * aa), -cc / (2 * aa))
    radius = np.sqrt(max(bb * bb + cc * cc - 4 * aa * dd, 0.0)) / (2 * abs(aa))
    rms = float(np.sqrt(np.mean((np.abs(w - center) - radius) ** 2)))
    return Circle(center * scale + mean, float(radius * scale), rms * float(scale))


def _roundness(tau, f, z, f_ref) -> float:
    # The absolute rms, not rms/radius: removing a delay only rotates each point, so the scale
    # is fixed, while rms/radius would reward the near-straight arc of a wrong delay.
    c = fit_circle(z * np.exp(2j * np.pi * (f - f_ref) * tau))
    return c.rms if np.isfinite(c.rms) else np.inf


def _edge_delay_guess(f, z) -> float:
    m = f.size
    ne = max(3, int(_EDGE_FRACTION * m))
    xs, ys, cols = [], [], []
    for side, sl in enumerate((slice(0, ne), slice(m - ne, m))):
        xs.append(f[sl] - f[sl].mean())
        ys.append(np.unwrap(np.angle(z[sl])))
        cols.append(np.full(ne, side))
    x, y, side = np.concatenate(xs), np.concatenate(ys), np.concatenate(cols)
    design = np.column_stack([x, side == 0, side == 1]).astype(float)
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    return float(-coef[0] / (2 * np.pi))


def estimate_delay(f, z, f_ref=None) -> float:
    """Cable delay τ [s] that makes the resonance most circular (step 1 of the module doc).

    Parameters
    ----------
    f : ndarray, shape (m,)
        Frequencies [Hz], increasing.
    z : ndarray of complex, shape (m,)
    f_ref : float, optional
        Reference frequency of the phase (the result does not depend on it).

    Returns
    -------
    float
    """
    f = np.asarray(f, dtype=float)
    z = np.asarray(z, dtype=complex)
    f_ref = 0.5 * (f[0] + f[-1]) if f_ref is None else f_ref
    guess = _edge_delay_guess(f, z)
    half = 0.5 / (f[-1] - f[0])
    grid = guess + np.linspace(-half, half, _DELAY_GRID)
    cost = np.array([_roundness(t, f, z, f_ref) for t in grid])
    if not np.isfinite(cost).any():
        return guess
    i = int(np.nanargmin(cost))
    lo, hi = grid[max(i - 1, 0)], grid[min(i + 1, grid.size - 1)]
    res = optimize.minimize_scalar(_roundness, bounds=(lo, hi), method="bounded",
                                   args=(f, z, f_ref),
                                   options={"xatol": 1e-4 * (hi - lo) + 1e-15})
    return float(res.x) if res.fun <= cost[i] else float(grid[i])


def _phase_start(f, w, off_guess):
    """f_r at the point farthest from the off-resonant point; Q_l from the half-power width."""
    dist = np.abs(w - off_guess) ** 2
    j = int(np.argmax(dist))
    above = dist >= 0.5 * dist[j]
    # the contiguous run of points around the peak that are above half power
    lo = j
    while lo > 0 and above[lo - 1]:
        lo -= 1
    hi = j
    while hi < f.size - 1 and above[hi + 1]:
        hi += 1
    width = max(f[hi] - f[lo], f[1] - f[0] if f.size > 1 else 1.0)
    return f[j], f[j] / width


def _phase_fit(f, w_centered, fr0, ql0):
    theta_data = np.angle(w_centered)
    fscale = fr0

    def model(p):
        th0, ql_n, fr_n = p
        return th0 + 2.0 * np.arctan(2.0 * ql_n * ql0 * (1.0 - f / (fr_n * fscale)))

    def resid(p):
        return np.angle(np.exp(1j * (theta_data - model(p))))

    # θ0 read off at the resonance, where arctan(...) = 0
    j = int(np.argmin(np.abs(f - fr0)))
    best = None
    for sign in (1.0, -1.0):  # the circle may be traversed either way (time convention)
        p0 = [theta_data[j], sign, 1.0]
        try:
            r = optimize.least_squares(resid, p0, method="lm", xtol=1e-12, ftol=1e-12)
        except (ValueError, np.linalg.LinAlgError):
            continue
        if best is None or r.cost < best.cost:
            best = r
    th0, ql_n, fr_n = best.x
    return float(th0), float(ql_n * ql0), float(fr_n * fscale)


def circle_start(f, z, geometry="notch", f_ref=None) -> CircleStart:
    """Start parameters of an S21 trace by the circle method (the module docstring, 1-4).

    Parameters
    ----------
    f : ndarray, shape (m,)
        Frequencies [Hz], increasing.
    z : ndarray of complex, shape (m,)
        Measured S21 (S11 for reflection).
    geometry : {"notch", "inverse", "reflection"}
    f_ref : float, optional
        Reference frequency; default the midpoint of the span.

    Returns
    -------
    CircleStart
        ``theta[I_INV_QI]`` may be <= 0 (Q_i <= 0) and Q_l negative when the data turn the
        other way round the circle: the caller judges (:mod:`tlsbayes.s21.quality`).
    """
    f = np.asarray(f, dtype=float)
    z = np.asarray(z, dtype=complex)
    code = k.geometry_code(geometry)
    f_ref = 0.5 * (f[0] + f[-1]) if f_ref is None else float(f_ref)
    tau = estimate_delay(f, z, f_ref)
    w = z * np.exp(2j * np.pi * (f - f_ref) * tau)
    circ = fit_circle(w)
    ne = max(3, int(_EDGE_FRACTION * f.size))
    off_guess = np.mean(np.concatenate([w[:ne], w[-ne:]]))
    fr0, ql0 = _phase_start(f, w, off_guess)
    th0, ql, fr = _phase_fit(f, w - circ.center, fr0, ql0)
    off = circ.center + circ.radius * np.exp(1j * (th0 + np.pi))
    a, alpha = abs(off), float(np.angle(off))
    ratio = circ.radius / a  # d/2 in units of the off-resonant point
    phi = float(np.angle(1.0 - circ.center / off))
    diameter = 2.0 * ratio
    qc_abs = ql / (diameter / 2.0 if code == k.REFLECTION else diameter)
    theta = np.zeros(k.NPARAMS)
    theta[k.I_FR] = fr
    theta[k.I_INV_QC] = np.cos(phi) / qc_abs
    theta[k.I_INV_QI] = 1.0 / ql - theta[k.I_INV_QC]
    theta[k.I_PHI] = phi
    theta[k.I_A] = a
    theta[k.I_A1] = 0.0
    theta[k.I_ALPHA] = alpha
    theta[k.I_TAU] = tau
    if code == k.INVERSE:
        theta = k.inverse_from_notch(theta)
    return CircleStart(theta=theta, f_ref=f_ref, geometry=code, circle=circ)
