"""Physics kernels of tlsbayes, in SI units (T in K, f in Hz, ω in rad/s, E in V/m, P in W).

Public functions (the names and keywords are a contract):

* :func:`tls_frequency_shift`, :func:`tls_log_shift` — resonant TLS frequency shift;
* :func:`tls_inverse_q`, :func:`field_from_power`, :func:`photon_number`,
  :func:`self_consistent_qi` — TLS loss versus field or power;
* :func:`nems_universal_F`, :func:`nems_damping`, :func:`phonon_rate_prefactor_1d`,
  :func:`electron_rate_prefactor`, :func:`crossover_temperature` — NEMS damping;
* :func:`bcs_gap`, :func:`mattis_bardeen_sigma`, :func:`qp_frequency_shift`,
  :func:`qp_inverse_q` — thermal quasiparticles (BCS gap, Mattis–Bardeen conductivity).

The numba scalar kernels they are built on (``shift_bracket``, ``inverse_q_scalar``,
``nems_universal_F_scalar``, ``damping_over_Comega``, ``phonon_rate_prefactor_1d_scalar``,
``electron_rate_prefactor_scalar``, ...) can be called from other numba code.
"""

from ..lazy import lazy_getattr
from . import constants

# Imported on first use (PEP 562): numba and the kernels' import-time tables take about a
# second, and commands that only read cards or run directories (``models``, a rejected card,
# a no-op ``resume``) need the constants at most.
_LAZY = {
    "crossover_temperature": "nems",
    "damping_over_Comega": "nems",
    "electron_rate_prefactor": "nems",
    "electron_rate_prefactor_scalar": "nems",
    "nems_damping": "nems",
    "nems_universal_F": "nems",
    "nems_universal_F_scalar": "nems",
    "phonon_rate_prefactor_1d": "nems",
    "phonon_rate_prefactor_1d_scalar": "nems",
    "universal_F_of_log": "nems",
    "v_integral": "nems",
    "field_constant": "qpower",
    "field_from_power": "qpower",
    "inverse_q_scalar": "qpower",
    "photon_number": "qpower",
    "saturation_factor": "qpower",
    "self_consistent_core": "qpower",
    "self_consistent_inverse_q": "qpower",
    "self_consistent_inverse_q_into": "qpower",
    "self_consistent_qi": "qpower",
    "self_consistent_scalar": "qpower",
    "tls_inverse_q": "qpower",
    "BCS_GAP_RATIO": "quasiparticle",
    "bcs_gap": "quasiparticle",
    "bcs_gap_fraction": "quasiparticle",
    "mattis_bardeen_sigma": "quasiparticle",
    "mb_sigma_reduced": "quasiparticle",
    "qp_frequency_shift": "quasiparticle",
    "qp_inverse_q": "quasiparticle",
    "shift_bracket": "shift",
    "tls_frequency_shift": "shift",
    "tls_log_shift": "shift",
}


def _load(owner):
    if owner == "nems":
        from . import nems as module
    elif owner == "qpower":
        from . import qpower as module
    elif owner == "quasiparticle":
        from . import quasiparticle as module
    else:
        from . import shift as module
    return module


__getattr__ = lazy_getattr(__name__, _LAZY, globals(), _load)

__all__ = [
    "BCS_GAP_RATIO",
    "bcs_gap",
    "bcs_gap_fraction",
    "constants",
    "crossover_temperature",
    "damping_over_Comega",
    "electron_rate_prefactor",
    "electron_rate_prefactor_scalar",
    "field_constant",
    "field_from_power",
    "inverse_q_scalar",
    "mattis_bardeen_sigma",
    "mb_sigma_reduced",
    "nems_damping",
    "nems_universal_F",
    "nems_universal_F_scalar",
    "phonon_rate_prefactor_1d",
    "phonon_rate_prefactor_1d_scalar",
    "photon_number",
    "qp_frequency_shift",
    "qp_inverse_q",
    "saturation_factor",
    "self_consistent_core",
    "self_consistent_inverse_q",
    "self_consistent_inverse_q_into",
    "self_consistent_qi",
    "self_consistent_scalar",
    "shift_bracket",
    "tls_frequency_shift",
    "tls_inverse_q",
    "tls_log_shift",
    "universal_F_of_log",
    "v_integral",
]
