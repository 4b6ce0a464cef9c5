"""Physical constants (CODATA, the values of :mod:`scipy.constants`), in SI units.

Module-level floats so that numba kernels capture them as compile-time constants.  Written out
rather than read from :mod:`scipy.constants` so that reading a card or a run directory does not
import scipy (tests/test_quick_commands.py checks them against scipy's).
"""

import math

h = 6.62607015e-34  #: Planck constant [J s] (exact, SI 2019)
hbar = h / (2.0 * math.pi)  #: reduced Planck constant [J s]
k_B = 1.380649e-23  #: Boltzmann constant [J/K] (exact, SI 2019)
e = 1.602176634e-19  #: elementary charge [C] (exact, SI 2019); also J per eV
eps0 = 8.8541878188e-12  #: vacuum permittivity [F/m] (CODATA 2022)
EPS_R_SILICON = 11.68  #: relative permittivity of (a-Si:H) silicon used by Defrance et al.
#: Δ0/(k_B Tc) of weak-coupling BCS theory, π e^(-γ_E) = 1.7638769...
BCS_GAP_RATIO = math.pi * math.exp(-0.57721566490153286061)
