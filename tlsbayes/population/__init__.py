"""Populations of resonators: two-stage hierarchical inference by importance reweighting.

Stage 1 fits every resonator on its own (``tlsbayes fit``), each with its own prior
``π_i(θ)`` recorded in its ``posterior.nc``.  Stage 2 infers the hyperparameters ``Λ`` of a
population model ``π_pop(θ | Λ)`` from those posteriors alone, as in gravitational-wave
population inference (Thrane & Talbot 2019, PASA 36, e010, Sec. on hierarchical
models; Mandel, Farr & Gair 2019, MNRAS 486, 1086):

    L(Λ) = Π_i ∫ L_i(θ) π_pop(θ | Λ) dθ  ∝  Π_i (1/K_i) Σ_k π_pop(θ_ik | Λ) / π_i(θ_ik),

where ``θ_ik`` are the ``K_i`` posterior draws of resonator ``i`` (the evidence of each fit is a
constant factor).  The population model here is

    z_i = ln θ_i  ~  Normal(μ_g, σ_g)      (``scale="log"``; ``z = θ`` for ``scale="linear"``),

one ``(μ_g, σ_g)`` per group ``g`` (a film, a deposition recipe), for one named parameter
(``delta0`` by default).  Both the population density and ``π_i`` are taken in the coordinate
``z`` (``π_i(z) = π_i(θ) |dθ/dz|``), so the ratio is Jacobian-free.

Validity and diagnostics
------------------------
* The estimator is unbiased for ``L(Λ)`` (not for ``ln L``).  Its quality at ``Λ`` is the
  effective number of draws of each resonator, ``ESS_i = (Σ_k w_ik)² / Σ_k w_ik²`` with
  ``w_ik = π_pop(z_ik | Λ) / π_i(z_ik)``; the variance of the estimated ``ln L`` is about
  ``Σ_i (1/ESS_i − 1/K_i)`` (Talbot & Golomb 2023, MNRAS 526, 3495).  Both are computed over
  the hyper-posterior and reported; a warning is raised when a resonator's median ESS falls
  below ``min_ess`` or the ln L variance exceeds 1.  Low ESS happens when the population is
  much narrower than a resonator's posterior, or sits where that resonator has few draws.
* Where that variance exceeds ``max_variance`` (1 by default) the hyperparameters are
  treated as impossible, as gwpopulation's ``maximum_uncertainty`` does: below the members'
  posterior widths the estimate becomes a spiky kernel-density estimate of bandwidth σ, in
  which a sampler gets stuck.  The share of the hyper-posterior close to that cut is
  reported; a large share means more stage-1 draws are needed to resolve small σ.
* The population density is not renormalised to the per-resonator prior support; keep those
  supports wide (they are, for the shipped cards: decades in δ0).

Speed: every draw of every resonator is packed into flat arrays once; one numba kernel
evaluates the ``(walkers × resonators × draws)`` sum (3-6 ns per term, one exponential
each): 300 resonators with the default 1000 draws cost 30-60 ms per ensemble step of 32
walkers on a shared 2-core machine (``results/populations.md``), linear in resonators × draws.

Rooms: :mod:`~tlsbayes.population.members` (stage-1 draws), :mod:`~tlsbayes.population.model`
(the kernel and :class:`Population`), :mod:`~tlsbayes.population.fit`,
:mod:`~tlsbayes.population.report`, :mod:`~tlsbayes.population.joint`.

A direct joint posterior (every resonator's parameters and the hyperparameters sampled
together), :class:`JointPopulation`, is provided as the reference for small populations; the
tests hold the two-stage result to it.
"""

from __future__ import annotations

from .fit import PopulationResult, fit_population, population_from_runs
from .joint import JointPopulation
from .members import SCALES, Member, load_member
from .model import Population, default_hyperpriors
from .report import format_population, group_contrast, population_markdown, write_population

__all__ = [
    "Member",
    "load_member",
    "Population",
    "PopulationResult",
    "JointPopulation",
    "default_hyperpriors",
    "fit_population",
    "group_contrast",
    "population_markdown",
    "population_from_runs",
    "format_population",
    "write_population",
    "SCALES",
]
