"""Raw resonator traces (S21) to per-trace posteriors.

* :mod:`.readers`, :mod:`.readers_db` — trace files in (text, Touchstone, HDF5/NetCDF, QCoDeS);
* :mod:`.circle` — the circle-fit start (delay, Pratt circle, phase fit; Probst et al. 2015);
* :mod:`.lsq` — least-squares refinement and the two noise estimates;
* :mod:`.quality` — status (ok/flagged/failed) and a one-line reason per trace;
* :mod:`.trace` — the posterior of one trace (named parameters, priors, log-probability);
* :mod:`.simulate` — simulated traces with known truth;
* :mod:`.run` — ``tlsbayes s21``: many trace files to ``traces.csv`` and NetCDF posteriors;
* :mod:`.figures` — the figure of one fitted trace.

The models themselves are in :mod:`tlsbayes.physics.s21`.
"""
