"""Column layout of the frequency-shift models' kernels, declared once (plain Python, no numba).

Imported by the models (:mod:`tlsbayes.models.shift`) and by their kernels
(:mod:`tlsbayes.models.kernels.shift`); every index is ``tuple.index(name)`` of a layout.
"""

FREQUENCY_SHIFT_PARAMS = ("f0", "delta0")
FREQUENCY_SHIFT_CONSTS = ()
FS_F0 = FREQUENCY_SHIFT_PARAMS.index("f0")
FS_DELTA0 = FREQUENCY_SHIFT_PARAMS.index("delta0")

LOG_SHIFT_PARAMS = ("C", "T0", "a3")
LOG_SHIFT_CONSTS = ()
LS_C = LOG_SHIFT_PARAMS.index("C")
LS_T0 = LOG_SHIFT_PARAMS.index("T0")
LS_A3 = LOG_SHIFT_PARAMS.index("a3")
