"""Physical constants (CODATA, from :mod:`scipy.constants`), in SI units.

Module-level floats so that numba kernels capture them as compile-time constants.
"""

from scipy import constants as _c

h = float(_c.h)  #: Planck constant [J s]
hbar = float(_c.hbar)  #: reduced Planck constant [J s]
k_B = float(_c.k)  #: Boltzmann constant [J/K]
e = float(_c.e)  #: elementary charge [C]; also J per eV
eps0 = float(_c.epsilon_0)  #: vacuum permittivity [F/m]
EPS_R_SILICON = 11.68  #: relative permittivity of (a-Si:H) silicon used by Defrance et al.
