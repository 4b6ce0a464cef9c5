"""tlsbayes: Bayesian inference for two-level-system (TLS) physics.

Layers (each imports only those above it)::

    physics -> models -> inference (priors, likelihood, posterior) -> sampling -> results
            -> plotting, io, card, cli
"""

__version__ = "0.1.0"
