"""tlsbayes: Bayesian inference for two-level-system (TLS) physics.

Layers (each imports only those above it)::

    physics -> models -> inference -> sampling -> results
            -> io, card, rundir, plotting -> pipelines (fit, batch, ...) -> cli

Every module and the data flow of ``tlsbayes fit``: docs/ARCHITECTURE.md.
"""

__version__ = "0.1.0"
