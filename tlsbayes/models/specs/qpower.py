"""Column layout of the Q-power model's kernels, declared once (plain Python, no numba).

Imported by the models (:mod:`tlsbayes.models.qpower`) and by their kernels
(:mod:`tlsbayes.models.kernels.qpower`); every index is ``tuple.index(name)`` of a layout.
"""

PARAMS = ("delta0", "delta_other", "x_c", "beta")
P_DELTA0 = PARAMS.index("delta0")
P_DELTA_OTHER = PARAMS.index("delta_other")
P_XC = PARAMS.index("x_c")
P_BETA = PARAMS.index("beta")

CONSTS = ("T", "f", "saturation", "Qc", "A0", "d", "eps_r")
C_T = CONSTS.index("T")
C_F = CONSTS.index("f")
C_SATURATION = CONSTS.index("saturation")
C_QC = CONSTS.index("Qc")
C_A0 = CONSTS.index("A0")
C_D = CONSTS.index("d")
C_EPS_R = CONSTS.index("eps_r")

SATURATION_KINDS = ("field", "photon_number", "power", "power_self_consistent")
SAT_FIELD = SATURATION_KINDS.index("field")
SAT_PHOTON_NUMBER = SATURATION_KINDS.index("photon_number")
SAT_POWER = SATURATION_KINDS.index("power")
SAT_SELF_CONSISTENT = SATURATION_KINDS.index("power_self_consistent")

#: Name of the ``x_c`` column for each saturation kind.
CRITICAL_NAME = {"field": "E_c", "photon_number": "n_c", "power": "P_c",
                 "power_self_consistent": "E_c"}
