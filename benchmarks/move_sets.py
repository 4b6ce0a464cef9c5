"""Move sets side by side on real cards: tau, ESS per CPU second, and whether the walkers fill
the P_c shelf of the Ta curve SGS1_4.90GHz (H2A2_cooldown2).

Each (target, move set, seed) runs a fixed number of steps from the same MAP ball (the card's
sampler settings, gate off); the second half of the chain gives tau per parameter
(:func:`tlsbayes.sampling.diagnostics.integrated_time`) and the ESS ``nwalkers * n / max tau``.
Every set runs on emcee's engine (the compiled engine covers DE and stretch only, so CPU
times would not compare).  CPU time is process time (less sensitive than wall time to other processes on a shared
machine).  For the shelf curve it also prints the fraction of second-half draws with
``ln P_c < -30`` (P_c < 1e-13 W) and, with ``--reference``, the same fraction from a Laplace
integration over a grid of ln P_c (the other four parameters maximised and their Hessian taken
at each grid point; ~1 min): a set whose fraction stays far below it has not found the shelf,
whatever its tau says.

    python benchmarks/move_sets.py --seeds 2 --steps 20000 6000 --reference
    python benchmarks/move_sets.py --sets de de+kde --targets shelf   # one target

Needs the shared real data (``TLSBAYES_REAL_DATA``).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import time
from pathlib import Path

import numpy as np

from tlsbayes import card as tcard
from tlsbayes import io as tio
from tlsbayes.sampling import moves as tmoves
from tlsbayes.sampling import run, sample
from tlsbayes.sampling.diagnostics import integrated_time

ROOT = Path(__file__).resolve().parents[1]
CARDS = {"ta_LGS1_5p70": "models/real/ta_LGS1_5p70GHz_qpower.toml",
         "ta_SGS1_5p68": "models/real/ta_SGS1_5p68GHz_qpower.toml",
         "nyu_fshift_tls_qp": "models/real/nyu_al_inp_fshift_tls_qp.toml",
         "maillet_N": "models/maillet_SiN_damping_N.toml"}
SHELF = ("SGS1_4.90GHz", "H2A2_cooldown2")
LN_PC_SHELF = -30.0  # ln P_c below which the posterior is flat (P_c < 1e-13 W)


def _stretch():
    import emcee

    return emcee.moves.StretchMove()


SETS = {
    "de": lambda: [(tmoves.DEMove(), 1.0)],
    "de+kde": lambda: [(tmoves.DEMove(), 0.5), (tmoves.KDEMove(), 0.5)],
    "de+stretch": lambda: [(tmoves.DEMove(), 0.5), (_stretch(), 0.5)],
    "de+snooker": lambda: [(tmoves.DEMove(snooker=0.5), 1.0)],
    "stretch": lambda: [(_stretch(), 1.0)],
}


def shelf_card():
    """The Ta curve of tests/test_real_data.py, built the same way from the LGS1 card."""
    card = tcard.load_card(ROOT / CARDS["ta_LGS1_5p70"])
    spec = card.datasets[0]
    real = os.environ.get("TLSBAYES_REAL_DATA") or str(tio.real_data_dir())
    table = tio.read_table(Path(spec.data["file"].replace("{real}", real)))
    rows = [i for i in range(table.n_rows) if table.cells["flag_bad_fit"][i] == "0"
            and (table.cells["resonator"][i], table.cells["cooldown"][i]) == SHELF]
    med = {c: float(np.median(table.numeric(c, rows))) for c in ("temperature_K", "f_res_Hz")}
    data = {k: v for k, v in spec.data.items() if k != "window"}
    data["group"] = {"column": "resonator", "value": SHELF[0]}
    data["filter"] = f"flag_bad_fit == 0 and cooldown == '{SHELF[1]}'"
    spec = dataclasses.replace(spec, data=data, constants=dict(
        spec.constants, T=med["temperature_K"], f=med["f_res_Hz"]))
    return dataclasses.replace(card, datasets=(spec,))


def shelf_reference(post, theta_map, ipc):
    """P(ln P_c < LN_PC_SHELF) from a Laplace integration over a grid of ln P_c."""
    from scipy.optimize import minimize

    grid = np.arange(-46.0, -17.9, 0.5)
    rest = np.delete(theta_map, ipc)
    log_mass = {}
    for lpc in grid[np.argsort(np.abs(grid - theta_map[ipc]))]:  # outwards from the MAP
        def f(v, lpc=lpc):
            return -float(post.log_prob(np.insert(v, ipc, lpc)[None])[0][0])
        rest = minimize(f, rest, method="Nelder-Mead",
                        options=dict(maxiter=6000, xatol=1e-7, fatol=1e-9)).x
        n, h, e = rest.size, 1e-4, np.eye(rest.size)
        hess = np.array([[(f(rest + h * e[i] + h * e[j]) - f(rest + h * e[i] - h * e[j])
                           - f(rest - h * e[i] + h * e[j]) + f(rest - h * e[i] - h * e[j]))
                          / (4 * h * h) for j in range(n)] for i in range(n)])
        log_mass[lpc] = -f(rest) - 0.5 * np.linalg.slogdet(hess)[1]
    lm = np.array([log_mass[g] for g in grid])
    w = np.exp(lm - lm.max())
    return float(w[grid < LN_PC_SHELF].sum() / w.sum())


def targets(names):
    for name in names:
        card = shelf_card() if name == "shelf" else tcard.load_card(ROOT / CARDS[name])
        post, _ = tcard.build_posterior(card)
        settings = tcard.sampler_settings(card, progress=False)
        first = sample(post, settings, rng=np.random.default_rng(settings.seed))
        yield name, post, first, settings


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seeds", type=int, default=2)
    p.add_argument("--sets", nargs="+", default=list(SETS), choices=list(SETS))
    p.add_argument("--targets", nargs="+", default=["shelf", *CARDS],
                   choices=["shelf", *CARDS])
    p.add_argument("--steps", type=int, nargs=2, default=[20000, 6000],
                   metavar=("SHELF", "OTHERS"))
    p.add_argument("--reference", action="store_true",
                   help="the shelf's mass from a Laplace grid integration (~1 min)")
    args = p.parse_args(argv)
    print(f"{'target':18s} {'moves':11s} {'steps':>6s} {'max tau':>8s} {'ESS':>6s} "
          f"{'CPU s':>6s} {'ESS/CPU s':>9s} {'shelf':>6s}")
    default_factory = tmoves.MOVES["de"]
    try:
        for name, post, first, settings in targets(args.targets):
            steps = args.steps[0] if name == "shelf" else args.steps[1]
            rows = {s: [] for s in args.sets}
            for seed in range(args.seeds):
                for s in args.sets:  # interleaved: the machine's load hits every set alike
                    tmoves.MOVES["de"] = SETS[s]
                    fixed = dataclasses.replace(settings, moves="de", seed=seed, max_steps=steps,
                                                chunk=steps, target_ess=1e12, engine="emcee")
                    c0 = time.process_time()
                    r = run(post.log_prob, first.p0, fixed)
                    cpu = time.process_time() - c0
                    half = r.chain[steps // 2:]
                    tau = float(np.max(integrated_time(half)))
                    ess = half.shape[0] * half.shape[1] / tau
                    shelf = (float(np.mean(half[..., list(post.free_names).index("P_c")]
                                           < LN_PC_SHELF)) if name == "shelf" else np.nan)
                    rows[s].append((tau, ess, cpu, shelf))
            for s, v in rows.items():
                tau, ess, cpu, shelf = (statistics.mean(c) for c in zip(*v))
                print(f"{name:18s} {s:11s} {steps:6d} {tau:8.1f} {ess:6.0f} {cpu:6.1f} "
                      f"{ess / cpu:9.0f} {shelf:6.3f}", flush=True)
            if name == "shelf" and args.reference:
                ipc = list(post.free_names).index("P_c")
                print(f"shelf reference P(ln P_c < {LN_PC_SHELF}) = "
                      f"{shelf_reference(post, first.map.theta, ipc):.3f}", flush=True)
    finally:
        tmoves.MOVES["de"] = default_factory
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
