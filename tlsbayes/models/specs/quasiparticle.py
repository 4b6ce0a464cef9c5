"""Column layout of the thermal-quasiparticle models' kernels, declared once (plain Python, no numba).

Imported by the models (:mod:`tlsbayes.models.quasiparticle`) and by their kernels
(:mod:`tlsbayes.models.kernels.quasiparticle`); every index is ``tuple.index(name)`` of a layout.
"""

GAP_PARAMETERS = ("Tc", "Delta0")
GAP_TC = GAP_PARAMETERS.index("Tc")
GAP_DELTA0 = GAP_PARAMETERS.index("Delta0")

FREQUENCY_SHIFT_QP_PARAMS = ("f0", "delta0", "alpha", "gap")
FS_F0 = FREQUENCY_SHIFT_QP_PARAMS.index("f0")
FS_DELTA0 = FREQUENCY_SHIFT_QP_PARAMS.index("delta0")
FS_ALPHA = FREQUENCY_SHIFT_QP_PARAMS.index("alpha")
FS_GAP = FREQUENCY_SHIFT_QP_PARAMS.index("gap")

FRACTIONAL_SHIFT_QP_PARAMS = ("delta0", "alpha", "gap", "shift_offset")
XS_DELTA0 = FRACTIONAL_SHIFT_QP_PARAMS.index("delta0")
XS_ALPHA = FRACTIONAL_SHIFT_QP_PARAMS.index("alpha")
XS_GAP = FRACTIONAL_SHIFT_QP_PARAMS.index("gap")
XS_OFFSET = FRACTIONAL_SHIFT_QP_PARAMS.index("shift_offset")

INVERSE_Q_QP_PARAMS = ("delta_tls", "delta_other", "alpha", "gap")
IQ_DELTA_TLS = INVERSE_Q_QP_PARAMS.index("delta_tls")
IQ_DELTA_OTHER = INVERSE_Q_QP_PARAMS.index("delta_other")
IQ_ALPHA = INVERSE_Q_QP_PARAMS.index("alpha")
IQ_GAP = INVERSE_Q_QP_PARAMS.index("gap")

#: Constants of the three kernels (``f`` is unused, and absent, for f(T): there f = f0).
QP_CONSTS = ("gap", "gap_ratio", "f")
C_GAP = QP_CONSTS.index("gap")
C_GAP_RATIO = QP_CONSTS.index("gap_ratio")
C_F = QP_CONSTS.index("f")
