r"""Slow, obviously-correct twin of tlsbayes.physics.quasiparticle (mpmath, 30 digits).

Nothing here shares code or method with the kernels:

* the BCS gap comes from the **Matsubara-sum** form of the weak-coupling gap equation
  (the imaginary-frequency form of Abrikosov, Gor'kov & Dzyaloshinskii),

  .. math::

      \ln\frac{T_c}{T} = 2\pi k_B T \sum_{n\ge 0}
          \left[\frac{1}{\omega_n} - \frac{1}{\sqrt{\omega_n^2+\Delta^2}}\right],
      \qquad \omega_n = \pi k_B T (2n+1),

  with :math:`\Delta_0 = \pi e^{-\gamma_E} k_B T_c`, summed by ``mpmath.nsum`` and solved by
  ``mpmath.findroot`` (the kernel integrates the real-energy form by the trapezoid rule);
* the Mattis–Bardeen integrals are done **literally in the energy E**, with the Fermi
  function written as :math:`1/(e^{E/k_BT}+1)` and the square-root endpoint singularities left
  to mpmath's tanh-sinh quadrature (the kernel substitutes them away and uses Gauss–Legendre).

Everything is in reduced units: energies in units of the BCS Δ0 for the gap, of ħω for the
conductivity (θ = k_BT/ħω, d = Δ/ħω).
"""

import mpmath as mp

mp.mp.dps = 30
R_BCS = mp.pi * mp.exp(-mp.euler)  # Δ0 / k_B Tc


def gap_equation(delta, t):
    """Matsubara form: ln(1/t) - 2π τ Σ [1/ω_n - 1/sqrt(ω_n² + δ²)], energies in Δ0 (τ = t/R)."""
    tau = t / R_BCS

    def term(n):
        w = mp.pi * tau * (2 * n + 1)
        return 1 / w - 1 / mp.sqrt(w * w + delta * delta)

    return mp.log(1 / t) - 2 * mp.pi * tau * mp.nsum(term, [0, mp.inf])


def gap_fraction(t):
    """Δ(T)/Δ0 at t = T/Tc, from the Matsubara-sum gap equation (bisection-safe root)."""
    t = mp.mpf(t)
    if t >= 1:
        return mp.mpf(0)
    # the left side is decreasing in δ, positive at 0, negative at 1 for t < 1
    lo, hi = mp.mpf("1e-12"), mp.mpf(1)
    if gap_equation(hi, t) >= 0:
        return mp.mpf(1)
    return mp.findroot(lambda x: gap_equation(x, t), (lo, hi), solver="anderson")


def fermi(E, theta):
    return 1 / (mp.exp(E / theta) + 1)


def _two_sided(fun, a, b):
    """∫_a^b fun(E, E - a, b - E) dE with both endpoint distances exact.

    tanh-sinh nodes crowd the endpoints; computing E - a and b - E from a local variable keeps
    the square-root singularities there from rounding to zero.
    """
    m = (a + b) / 2
    left = mp.quad(lambda x: fun(a + x, x, b - a - x), [0, m - a])
    right = mp.quad(lambda x: fun(b - x, b - a - x, x), [0, b - m])
    return left + right


def sigma1(theta, d):
    """σ1/σn, Mattis & Bardeen (1958), units ħω = 1."""
    theta, d = mp.mpf(theta), mp.mpf(d)
    # mpmath's quadrature tolerance is absolute: scale the integrand (~ e^(-d/θ)) to O(1)
    scale = mp.exp(d / theta)

    def a(x):  # E = d + x above the gap
        E = d + x
        g = (E * E + d * d + E) / (mp.sqrt(x * (E + d)) * mp.sqrt((x + 1) * (E + 1 + d)))
        return scale * (fermi(E, theta) - fermi(E + 1, theta)) * g

    # break points on the scales of the integrand: ħω (= 1) and k_BT (= θ) above the gap
    pts = [0] + sorted([1] + [k * theta for k in (0.1, 1, 3, 10, 30, 100)]) + [mp.inf]
    out = 2 * mp.quad(a, pts) / scale
    if d < mp.mpf(1) / 2:
        # E in [d - 1, -d]: E² - d² = (-E - d)(d - E), (E+1)² - d² = (E + 1 - d)(E + 1 + d)
        def b(E, from_lo, from_hi):
            g = (E * E + d * d + E) / (mp.sqrt(from_hi * (d - E))
                                       * mp.sqrt(from_lo * (E + 1 + d)))
            return (1 - 2 * fermi(E + 1, theta)) * abs(g)

        out += _two_sided(b, d - 1, -d)
    return out


def sigma2(theta, d):
    """σ2/σn, Mattis & Bardeen (1958), units ħω = 1 (θ = 0 means T = 0)."""
    theta, d = mp.mpf(theta), mp.mpf(d)
    lo = max(d - 1, -d)

    def g(E, from_lo, from_hi):
        occ = 1 if theta == 0 else 1 - 2 * fermi(E + 1, theta)
        # d² - E² = (d - E)(d + E); (E+1)² - d² = (E + 1 - d)(E + 1 + d); the factor that
        # vanishes at each end is the exact distance to it
        if d >= mp.mpf(1) / 2:
            den = mp.sqrt(from_hi * (d + E)) * mp.sqrt(from_lo * (E + 1 + d))
        else:
            den = mp.sqrt(from_hi * from_lo) * mp.sqrt((E + 1) ** 2 - d * d)
        return occ * (E * E + d * d + E) / den

    return _two_sided(g, lo, d)
