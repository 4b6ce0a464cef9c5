"""Column layout of the NEMS damping model's kernels, declared once (plain Python, no numba).

Imported by the models (:mod:`tlsbayes.models.nems`) and by their kernels
(:mod:`tlsbayes.models.kernels.nems`); every index is ``tuple.index(name)`` of a layout.
"""

PARAMS = ("C", "gamma", "n_ph", "x", "K")
P_C = PARAMS.index("C")
P_GAMMA = PARAMS.index("gamma")
P_N_PH = PARAMS.index("n_ph")
P_X = PARAMS.index("x")
P_K = PARAMS.index("K")
#: Columns the superconducting state uses (it has no electron channel: x and K are absent).
N_PARAMS_S = PARAMS.index("x")

CONSTS = ("omega", "rho", "e", "w", "c_l", "state", "phonon")
C_OMEGA = CONSTS.index("omega")
C_RHO = CONSTS.index("rho")
C_E = CONSTS.index("e")
C_W = CONSTS.index("w")
C_C_L = CONSTS.index("c_l")
C_STATE = CONSTS.index("state")
C_PHONON = CONSTS.index("phonon")

STATES = ("S", "N")
STATE_S = STATES.index("S")
STATE_N = STATES.index("N")
PHONON_MODELS = ("1d_beam", "free")
PHONON_1D_BEAM = PHONON_MODELS.index("1d_beam")
PHONON_FREE = PHONON_MODELS.index("free")
