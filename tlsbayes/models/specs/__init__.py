"""Column layouts of the models' kernels (``PARAMS``, ``CONSTS``, option codes, indices).

One module per model module; plain Python, so that the models (read with every card) and the
numba kernels (imported on the first prediction) share one declaration.
"""
