"""How far below 246 mK, or how far in power, to pin E_c and beta to 10 %?

Defrance et al. (arXiv:2403.03534) find E_c and beta "fairly degenerate" and conclude that
"data at lower temperature may thus provide a larger sloped region, improving the
determination of beta and E_c".  This script puts numbers on that for the B(2) 809 MHz
resonator (card models/defrance_B2_809MHz_qpower.toml: self-consistent field of Eq. 6, Table 1
geometry, Qc = 8000), at the Table 3 values delta0 = 8.9e-6, delta_other = 0.9e-6,
E_c = 3.4 V/m, beta = 0.20:

* T scan: the paper's power sweep (-150 to -70 dBm, 33 points, 2.5 dB apart) moved to a lower
  temperature T;
* P_max scan: at 246 mK, the sweep extended above -70 dBm at the same 2.5 dB spacing;
* P_min scan: at 246 mK, the sweep extended below -150 dBm;

each for a relative noise on 1/Qi of 1, 2, 3 and 5 %.  The forecast is the Fisher matrix in
the card's sampling coordinates (ln delta0, ln delta_other, ln E_c, beta) with the card's priors
as Gaussians (tlsbayes.design); two points are cross-checked by simulating data and fitting
them with tlsbayes.fit.run_fit.

Model assumption: E_c and beta do not depend on temperature (as in Eq. 4 and the paper's
fits).  In the standard tunnelling model the saturation field grows with T, so a real
low-temperature sweep would also move E_c; and at high power the superconductor may turn
non-linear before the model's regime is reached.  The numbers below are what the model itself
allows, not a guarantee.

Run:  python results/design_Ec_beta.py            (about a minute; writes
      results/design_Ec_beta.md and results/design_Ec_beta.png)
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

import numpy as np

from tlsbayes import card as tcard
from tlsbayes import design
from tlsbayes.atomic import atomic_output, atomic_write_text

HERE = Path(__file__).resolve().parent
CARD = HERE.parent / "models" / "defrance_B2_809MHz_qpower.toml"
TRUTH = {"delta0": 8.9e-6, "delta_other": 0.9e-6, "E_c": 3.4, "beta": 0.20}  # Table 3
NOISES = (0.01, 0.02, 0.03, 0.05)
GOAL = 0.10
STEP_DB = 2.5
T_GRID_MK = np.geomspace(5.0, 246.0, 40)
PMAX_GRID = np.arange(-70.0, -4.9, STEP_DB)
PMIN_GRID = np.arange(-150.0, -215.1, -STEP_DB)
CHECK_NOISE = 0.03
COMBINED_T_MK = (246.0, 100.0, 30.0, 10.0)
COMBINED_PMAX = (-70.0, -50.0, -30.0, -10.0)
COMBINED_NOISES = (0.03, 0.05)


def dbm_grid(p_lo, p_hi):
    n = int(round((p_hi - p_lo) / STEP_DB)) + 1
    return 1e-3 * 10.0 ** (np.linspace(p_lo, p_hi, n) / 10.0)


def alternative(T, p_lo=-150.0, p_hi=-70.0, noise=0.01, name="alt"):
    sweep = design.Sweep("qi", x=dbm_grid(p_lo, p_hi), temperatures=(float(T),),
                         noise=("relative", float(noise)))
    return design.Alternative(name, (sweep,))


def widths(post, theta, alt):
    """(relative sigma of E_c, relative sigma of beta, rho(E_c, beta), forecast)."""
    fc = design.forecast(design.plan_posterior(post, alt, theta), theta)
    i, j = fc.names.index("E_c"), fc.names.index("beta")
    return fc.rel[i], fc.rel[j], fc.corr[i, j], fc


def crossing(xs, ys, goal, log_x=False):
    """First x where y falls to goal (linear interpolation), or None."""
    ys = np.asarray(ys)
    ok = np.flatnonzero(ys <= goal)
    if ok.size == 0:
        return None
    k = ok[0]
    if k == 0:
        return xs[0]
    x0, x1 = (math.log(xs[k - 1]), math.log(xs[k])) if log_x else (xs[k - 1], xs[k])
    t = (ys[k - 1] - goal) / (ys[k - 1] - ys[k])
    x = x0 + t * (x1 - x0)
    return math.exp(x) if log_x else x


def main():
    t_start = time.time()
    card = tcard.load_card(CARD)
    post, _ = tcard.build_posterior(card)
    theta = post.priors.from_params(TRUTH)

    scans = {}
    for noise in NOISES:
        scans[noise] = {
            "T": [widths(post, theta, alternative(t * 1e-3, noise=noise))[:3] for t in T_GRID_MK],
            "pmax": [widths(post, theta, alternative(0.246, p_hi=p, noise=noise))[:3]
                     for p in PMAX_GRID],
            "pmin": [widths(post, theta, alternative(0.246, p_lo=p, noise=noise))[:3]
                     for p in PMIN_GRID],
        }

    def need(noise, key, grid, log_x=False):
        rows = np.array(scans[noise][key])
        worst = np.maximum(rows[:, 0], rows[:, 1])
        return crossing(list(grid), worst, GOAL, log_x=log_x), rows

    # T scan runs from high to low temperature for the crossing
    T_desc = T_GRID_MK[::-1]
    answers = {}
    for noise in NOISES:
        rows = np.array(scans[noise]["T"])[::-1]
        t_need = crossing(list(T_desc), np.maximum(rows[:, 0], rows[:, 1]), GOAL, log_x=True)
        p_need, _ = need(noise, "pmax", PMAX_GRID)
        pmin_need, _ = need(noise, "pmin", PMIN_GRID)
        answers[noise] = (t_need, p_need, pmin_need)

    combined = {(n, t, p): widths(post, theta, alternative(t * 1e-3, p_hi=p, noise=n))[:3]
                for n in COMBINED_NOISES for t in COMBINED_T_MK for p in COMBINED_PMAX}

    # simulate-and-fit cross-checks: the paper's sweep, and the sweep at the temperature that
    # reaches the goal, both at CHECK_NOISE
    checks = []
    t_goal = answers[CHECK_NOISE][0]
    points = [("246 mK, -150..-70 dBm", alternative(0.246, noise=CHECK_NOISE))]
    if t_goal is not None:
        t_chk = float(np.floor(t_goal))
        points.append((f"{t_chk:g} mK, -150..-70 dBm", alternative(t_chk * 1e-3,
                                                                    noise=CHECK_NOISE)))
    for k, (label, alt) in enumerate(points):
        pp = design.plan_posterior(post, alt, theta)
        fc = design.forecast(pp, theta)
        chk = design.simulate_and_fit(pp, theta, seed=100 + k, n_sims=2)
        checks.append((label, fc, chk))
        print(f"check {label}: done", file=sys.stderr)

    write_figure(scans, answers)
    write_report(scans, answers, combined, checks, time.time() - t_start)


def write_figure(scans, answers):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(13, 4.2), sharey=True)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for k, noise in enumerate(NOISES):
        c = colors[k]
        for ax, key, grid in ((axes[0], "T", T_GRID_MK), (axes[1], "pmax", PMAX_GRID),
                              (axes[2], "pmin", PMIN_GRID)):
            rows = np.array(scans[noise][key])
            ax.plot(grid, 100 * rows[:, 0], color=c, label=f"E_c, {100 * noise:g} % noise")
            ax.plot(grid, 100 * rows[:, 1], color=c, ls="--", label=f"β, {100 * noise:g} % noise")
    from matplotlib.ticker import FormatStrFormatter

    for ax in axes:
        ax.axhline(100 * GOAL, color="k", lw=0.8)
        ax.set_yscale("log")
        ax.grid(alpha=0.3, which="both")
    axes[0].set_xscale("log")
    from matplotlib.ticker import NullFormatter

    axes[0].yaxis.set_major_formatter(FormatStrFormatter("%g"))
    axes[0].yaxis.set_minor_formatter(FormatStrFormatter("%g"))
    axes[0].set_xticks([246, 100, 50, 30, 20, 10, 5])
    axes[0].xaxis.set_major_formatter(FormatStrFormatter("%g"))
    axes[0].xaxis.set_minor_formatter(NullFormatter())
    axes[0].invert_xaxis()
    axes[0].set_xlabel("temperature of the -150..-70 dBm sweep [mK]")
    axes[1].set_xlabel("highest power at 246 mK [dBm] (from -150 dBm)")
    axes[2].set_xlabel("lowest power at 246 mK [dBm] (up to -70 dBm)")
    axes[2].invert_xaxis()
    axes[0].set_ylabel("forecast relative σ [%]")
    axes[0].legend(fontsize=7, ncol=2)
    fig.suptitle("Defrance B(2) 809 MHz, Table 3 values: Fisher forecast of σ(E_c)/E_c "
                 "(solid) and σ(β)/β (dashed); line: 10 %", fontsize=10)
    fig.tight_layout()
    with atomic_output(HERE / "design_Ec_beta.png") as tmp:
        fig.savefig(tmp, dpi=110)
    plt.close(fig)


def _fmt(x, unit, none="not reached in the scan"):
    return none if x is None else f"{x:.3g} {unit}"


def _tanh(T):
    from tlsbayes.physics import constants as K_

    return math.tanh(K_.h * 809e6 / (2.0 * K_.k_B * T))


def _scan_table(scans, head, key, grid, picks):
    """Markdown rows of one scan at the grid points nearest to ``picks``."""
    out = ["| " + head + " | " + " | ".join(f"σ(E_c), σ(β), ρ at {100 * n:g} %"
                                            for n in NOISES) + " |",
           "|---|" + "---|" * len(NOISES)]
    for v in picks:
        k = int(np.argmin(np.abs(grid - v)))
        cells = [f"{grid[k]:.3g}"]
        for n in NOISES:
            e, b, r = scans[n][key][k]
            cells.append(f"{100 * e:.1f} %, {100 * b:.1f} %, {r:+.2f}")
        out.append("| " + " | ".join(cells) + " |")
    return out


def write_report(scans, answers, combined, checks, seconds):
    L = ["# How far below 246 mK, or how far in power, to pin E_c and β to 10 %?", "",
         "Generated by `python results/design_Ec_beta.py` (tlsbayes.design; "
         f"{seconds:.0f} s). Card `models/defrance_B2_809MHz_qpower.toml` (Defrance et al., "
         "arXiv:2403.03534, B(2) 809 MHz: self-consistent field, Qc = 8000, A0 = 265 × 1236 µm², "
         "d = 800 nm), forecast at the Table 3 values δ0 = 8.9e-6, δ_other = 0.9e-6, "
         "E_c = 3.4 V/m, β = 0.20. Baseline: 33 powers from -150 to -70 dBm (2.5 dB apart) at "
         "246 mK, as in the paper. Noise: relative σ of 1/Qi.", "",
         "## Answer", "",
         "Temperature needed for the same sweep, highest power needed at 246 mK (same 2.5 dB "
         "spacing, from -150 dBm), and lowest power needed at 246 mK (up to -70 dBm) for "
         "σ(E_c)/E_c ≤ 10 % **and** σ(β)/β ≤ 10 %:", "",
         "| noise on 1/Qi | baseline σ(E_c), σ(β) | T needed | P_max needed at 246 mK | "
         "P_min needed at 246 mK |", "|---|---|---|---|---|"]
    k246 = int(np.argmin(np.abs(T_GRID_MK - 246.0)))
    for noise in NOISES:
        e, b, _ = scans[noise]["T"][k246]
        t, p, pm = answers[noise]
        L.append(f"| {100 * noise:g} % | {100 * e:.1f} %, {100 * b:.1f} % | "
                 f"{_fmt(t, 'mK')} | {_fmt(p, 'dBm')} | {_fmt(pm, 'dBm')} |")
    L += ["",
          f"Scans: T from {T_GRID_MK[-1]:g} down to {T_GRID_MK[0]:g} mK, P_max from -70 up to "
          f"{PMAX_GRID[-1]:g} dBm, P_min from -150 down to {PMIN_GRID[-1]:g} dBm. "
          "'not reached' means the goal is not met anywhere in that scan.", ""]
    L += ["## Temperature scan (selected rows)", ""]
    L += _scan_table(scans, "T [mK]", "T", T_GRID_MK, (246, 150, 100, 70, 50, 30, 20, 10, 5))
    L += ["", "## Power scans at 246 mK (selected rows)", ""]
    L += _scan_table(scans, "highest power [dBm]", "pmax", PMAX_GRID,
                     (-70, -60, -50, -40, -30, -20, -10))
    L += [""]
    L += _scan_table(scans, "lowest power [dBm]", "pmin", PMIN_GRID,
                     (-150, -160, -170, -180, -190, -200, -210))
    L += ["", "## Lower temperature and higher power together", "",
          "Sweep from -150 dBm to the highest power, at temperature T: σ(E_c)/E_c, σ(β)/β.", ""]
    for n in COMBINED_NOISES:
        L += [f"{100 * n:g} % noise:", "",
              "| T [mK] | " + " | ".join(f"up to {p:g} dBm" for p in COMBINED_PMAX) + " |",
              "|---|" + "---|" * len(COMBINED_PMAX)]
        for t in COMBINED_T_MK:
            cells = []
            for p in COMBINED_PMAX:
                e, b, _ = combined[(n, t, p)]
                ok = " ✓" if max(e, b) <= GOAL else ""
                cells.append(f"{100 * e:.1f} %, {100 * b:.1f} %{ok}")
            L.append(f"| {t:g} | " + " | ".join(cells) + " |")
        L.append("")
    L += ["✓: both at or below 10 %.", ""]
    L += ["", "## Simulate-and-fit cross-check", "",
          f"Two data sets simulated at each point ({100 * CHECK_NOISE:g} % noise), each fitted "
          "to convergence with `tlsbayes.fit.run_fit`; posterior σ in sampling coordinates "
          "(σ of ln x = relative width), mean over the two fits.", "",
          "| design | parameter | Fisher σ | fit σ (each) | fit / Fisher |", "|---|---|---|---|---|"]
    for label, fc, chk in checks:
        for i, n in enumerate(fc.names):
            each = ", ".join(f"{v:.4g}" for v in chk["sd_each"][:, i])
            L.append(f"| {label} | {n} | {fc.sd[i]:.4g} | {each} | "
                     f"{chk['sd'][i] / fc.sd[i]:.2f} |")
        i, j = fc.names.index("E_c"), fc.names.index("beta")
        L.append(f"| {label} | ρ(E_c, β) | {fc.corr[i, j]:+.2f} | {chk['corr'][i, j]:+.2f} | |")
        if not all(chk["converged"]):
            L.append(f"| {label} | NOT CONVERGED | | | |")
    L += ["", "## Reading", "",
          f"- Lowering T raises the TLS share of the loss (tanh(hf/2k_BT) = {_tanh(0.246):.3f} "
          f"at 246 mK, {_tanh(0.1):.2f} at 100 mK, {_tanh(0.03):.2f} at 30 mK, "
          f"{_tanh(0.01):.3f} at 10 mK), so the saturating part stands out of δ_other and the "
          "noise. The gain stops below ~20 mK, where tanh saturates. ρ(E_c, β) stays near "
          "+0.84: the degeneracy shrinks, it is not broken.",
          "- Raising the top power at 246 mK mostly pins β (the slope), much less E_c; "
          "extending the sweep downwards (the low-field plateau) helps E_c a little and β not "
          "at all. At 246 mK neither reaches 10 % on both unless the noise is ~1 %.",
          "- The Fisher forecast is a Gaussian approximation. Where the widths are around 10 % "
          "the fits agree with it within 20 % (second check). At 246 mK and 3 % noise the "
          "posterior of β is skewed and reaches the prior edge at 0.1, and the fitted σ(β) is "
          "about 1.5 times the forecast: there the Fisher numbers are optimistic.",
          "- Assumptions: E_c and β independent of T (Eq. 4 as fitted in the paper); no "
          "non-linearity or quasiparticle loss at high power; the noise is a fixed fraction "
          "of 1/Qi. The real Qi scatter of the paper's data is not published; the 1 % column is "
          "the card's simulated data.", "",
          "![forecast widths](design_Ec_beta.png)", ""]
    atomic_write_text(HERE / "design_Ec_beta.md", "\n".join(L))


if __name__ == "__main__":
    main()
