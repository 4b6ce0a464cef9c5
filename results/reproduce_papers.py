"""Reproduce Defrance et al. Table 3 and Maillet et al. Fig. 3 by fitting the shipped cards.

    python results/reproduce_papers.py [--quick] [--only defrance|maillet] [--refit]

Fits (MAP start, convergence-gated emcee, the cards' own sampler settings) every simulated card
of ``models/defrance2024`` (the Qi(P) and the f(T) card of each of the 22 Table 3 resonators)
and the Maillet SiN-beam cards, then writes

* ``results/defrance_table3.md`` and ``.csv``: Table 3's layout, the paper's value next to the
  posterior median and 16/84 % interval of every parameter, with the paper's asterisks and a
  flag where the posterior says a parameter is not identified by the data;
* ``results/maillet_fig3.png`` and ``.md``: S- and N-state damping vs T with posterior bands,
  the fitted (C, γ, x, K) next to the paper's, and the C tension with the frequency shift.

The data are simulated by tlsbayes at the paper's values (they are the simulation truth), so
this checks what the model and the paper's measurement ranges can identify, not the paper's
measurements.  Identification: ``width ratio`` = (posterior 16-84 % width) / (prior 16-84 %
width), both in sampling coordinates (log for log-uniform priors).  ``U`` (unidentified): ratio
> 0.5, the data barely narrowed the prior; ``w`` (weak): 0.2-0.5; ``edge``: the posterior median
lies within 5 % of the prior range of a bound (the value is set by the prior bound).

Run directories go to ``results/runs/reproduce/`` (not committed); a run whose card and
settings are unchanged is reused unless ``--refit``.  ``--quick`` caps every run at 1500 steps
(not converged, for a smoke test) and writes to ``results/runs/reproduce_quick/``.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
from scipy import stats

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tlsbayes import card as tcard  # noqa: E402
from tlsbayes import results as R  # noqa: E402
from tlsbayes.atomic import atomic_output, atomic_write_text  # noqa: E402
from tlsbayes.fit import run_fit  # noqa: E402
from tlsbayes.models.papers import DEFRANCE_RECIPE_DELTA0, DEFRANCE_TABLE3, MAILLET  # noqa: E402
from tlsbayes.inference.priors import LogUniform  # noqa: E402
from tlsbayes.sampling import SamplerSettings  # noqa: E402

MODELS = ROOT / "models"
QPOWER = ("delta0", "delta_other", "E_c", "beta")
WIDE, WEAK, EDGE = 0.5, 0.2, 0.05


# ---------------------------------------------------------------------------------------------
# fitting
# ---------------------------------------------------------------------------------------------

def fit_card(path, runs, *, quick, refit, log):
    """Fit one card (or reuse an identical earlier run); returns (card, posterior, idata)."""
    card = tcard.load_card(path)
    post, _ = tcard.build_posterior(card)
    s = dict(card.sampler, progress=False)
    s.setdefault("seed", 0)
    if quick:
        s.update(max_steps=1500, chunk=250)
    settings = SamplerSettings.from_dict(s)
    settings = SamplerSettings.from_dict(
        {**settings.to_dict(), "nwalkers": settings.resolve_nwalkers(post.ndim)})
    out = runs / card.name
    nc = out / "posterior.nc"
    if nc.is_file() and not refit:
        idata = R.load(nc)
        a = R.attrs_of(idata)
        if a.get("model_card_text") == card.text and a.get("sampler_settings") == settings.to_dict():
            log(f"  {card.name}: reusing {nc.relative_to(ROOT)}")
            return card, post, idata
    t0 = time.time()
    res = run_fit(post, settings, out, card_text=card.text, plots=False,
                  extra_attrs={"card_name": card.name}, print_fn=lambda *a: None)
    log(f"  {card.name}: {res.verdict} ({time.time() - t0:.0f} s)")
    return card, post, res.idata


def _sampling(prior, values):
    values = np.asarray(values, dtype=float)
    return np.log(values) if isinstance(prior, LogUniform) else values


def describe(post, idata, name):
    """Posterior quantiles of ``name`` and how much the data narrowed its prior."""
    prior = post.priors[name]
    draws = idata.posterior[name].values.ravel()
    q = np.percentile(draws, [2.5, 16, 50, 84, 97.5])
    zq = _sampling(prior, q)
    zp = _sampling(prior, [prior.ppf(0.16), prior.ppf(0.84)])
    lo, hi = _sampling(prior, prior.support)
    ratio = float((zq[3] - zq[1]) / (zp[1] - zp[0]))
    flag = "U" if ratio > WIDE else "w" if ratio > WEAK else ""
    if min(zq[2] - lo, hi - zq[2]) < EDGE * (hi - lo):
        flag = (flag + " edge").strip()
    return {"q2.5": q[0], "q16": q[1], "median": q[2], "q84": q[3], "q97.5": q[4],
            "width_ratio": ratio, "flag": flag}


def _at_bound(post, name, value):
    """True if ``value`` lies within EDGE of the prior range from a bound (sampling coords)."""
    prior = post.priors[name]
    lo, hi = _sampling(prior, prior.support)
    z = float(_sampling(prior, value))
    return bool(min(z - lo, hi - z) < EDGE * (hi - lo))


def verdict_of(idata):
    a = R.attrs_of(idata)
    tau = a.get("tau") or {}
    return {"converged": bool(a.get("converged")),
            "steps": int((a.get("extra") or {}).get("steps", 0)),
            "tau_max": max(tau.values()) if tau else math.nan}


# ---------------------------------------------------------------------------------------------
# Defrance Table 3
# ---------------------------------------------------------------------------------------------

def _tag(row):
    return f"{row.device.replace('(', '').replace(')', '')}_{row.f0 / 1e6:.0f}MHz"


def defrance(runs, out, *, quick, refit, log):
    rows = []
    for row in DEFRANCE_TABLE3:
        for kind, names in (("fshift", ("delta0",)), ("qpower", QPOWER)):
            card, post, idata = fit_card(MODELS / "defrance2024" / f"{_tag(row)}_{kind}.toml",
                                         runs, quick=quick, refit=refit, log=log)
            v = verdict_of(idata)
            for name in names:
                field = "delta0_fshift" if kind == "fshift" else (
                    "delta0_qi" if name == "delta0" else name)
                d = describe(post, idata, name)
                truth = getattr(row, field)
                rows.append({"device": row.device, "recipe": row.recipe,
                             "f0_MHz": round(row.f0 / 1e6), "fit": kind, "parameter": field,
                             "paper": truth, "paper_starred": row.is_starred(field),
                             "truth_at_bound": _at_bound(post, name, truth), **d,
                             "in68": d["q16"] <= truth <= d["q84"],
                             "in95": d["q2.5"] <= truth <= d["q97.5"], **v,
                             "card": card.name})
    _write_csv(out / "defrance_table3.csv", rows)
    atomic_write_text(out / "defrance_table3.md", defrance_markdown(rows, runs, quick))
    return rows


def _write_csv(path, rows):
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in r.items()})
    atomic_write_text(path, buf.getvalue())


def _num(v, scale):
    x = v / scale
    return f"{x:.3g}" if abs(x) < 100 else f"{x:.0f}"


def _cell(r, scale):
    post = f"{_num(r['median'], scale)} [{_num(r['q16'], scale)}, {_num(r['q84'], scale)}]"
    if r["flag"]:
        post += f" **{r['flag']}**"
    return post


def defrance_markdown(rows, runs, quick):
    by = {(r["device"], r["f0_MHz"], r["parameter"]): r for r in rows}
    cols = (("delta0_fshift", 1e-6, "δ⁰ f(T) ×1e-6"), ("delta0_qi", 1e-6, "δ⁰ Qi ×1e-6"),
            ("delta_other", 1e-6, "δ_other ×1e-6"), ("E_c", 1.0, "E_c [V/m]"),
            ("beta", 1.0, "β"))
    n_conv = sum(1 for r in rows if r["parameter"] in ("delta0_fshift", "delta0_qi")
                 and r["converged"])
    out = ["# Defrance et al. (arXiv:2403.03534) Table 3, refitted with tlsbayes",
           "",
           "Data: SIMULATED by tlsbayes at the paper's Table 3 values (`models/defrance2024/`, "
           "`models/make_simulated_data.py`): Qi vs readout power from −150 to −70 dBm at "
           "246 mK with the self-consistent field of Eq. 6 (Table 1 geometry), 1 % noise on "
           "1/Qi; f(T) at 22 temperatures from 240 to 450 mK, 20 Hz noise.  The paper's values "
           "are therefore the truth of each fit.  Priors as in the cards: β uniform "
           "[0.1, 0.6] (the paper's allowed range), log-uniform δ0, δ_other, E_c.",
           "",
           "Each cell: paper value | posterior median [16 %, 84 %].  `*`: the paper marks the "
           "value unreliable.  Posterior flags: **U** the data leave the parameter "
           f"unidentified (posterior 16–84 % width > {WIDE} × the prior's, in sampling "
           f"coordinates), **w** weakly identified (> {WEAK}), **edge** the posterior median "
           f"sits within {EDGE:.0%} of a prior bound.",
           "",
           f"Produced by `python results/reproduce_papers.py{' --quick' if quick else ''}`; "
           f"run directories in `{runs.relative_to(ROOT)}/`.  Converged fits: {n_conv} of "
           f"{len(DEFRANCE_TABLE3) * 2}.",
           ""]
    for dev in ("A(1)", "A(2)", "B(1)", "B(2)"):
        out += [f"## Device {dev}", "",
                "| f_res [MHz] | " + " | ".join(f"{h} paper | posterior" for *_, h in cols)
                + " |",
                "|---:|" + "---:|---|" * len(cols)]
        for row in (r for r in DEFRANCE_TABLE3 if r.device == dev):
            f = round(row.f0 / 1e6)
            cells = []
            for name, scale, _ in cols:
                r = by[(dev, f, name)]
                star = "*" if r["paper_starred"] else ""
                cells += [f"{star}{_num(r['paper'], scale)}", _cell(r, scale)]
            out.append(f"| {f} | " + " | ".join(cells) + " |")
        out.append("")
    out += defrance_findings(rows)
    return "\n".join(out) + "\n"


def defrance_findings(rows):
    out = ["## Findings", ""]
    edge_fits = {(r["device"], r["f0_MHz"]) for r in rows if r["parameter"] == "beta"
                 and r["truth_at_bound"]}
    groups = (("f(T) δ⁰", [r for r in rows if r["fit"] == "fshift"]),
              ("Qi(P), β inside its prior", [r for r in rows if r["fit"] == "qpower" and
                                            (r["device"], r["f0_MHz"]) not in edge_fits]),
              ("Qi(P), β on a prior bound", [r for r in rows if r["fit"] == "qpower" and
                                            (r["device"], r["f0_MHz"]) in edge_fits]))
    cov = []
    for label, rs in groups:
        n = len(rs)
        in68, in95 = sum(r["in68"] for r in rs), sum(r["in95"] for r in rs)
        cov.append(f"{label}: {in68}/{n} ({in68 / n:.0%}) in the 16–84 % interval, "
                   f"{in95}/{n} ({in95 / n:.0%}) in 2.5–97.5 %")
    out.append("* Coverage of the truth (the paper's value), nominal 68 % and 95 %: "
               + "; ".join(cov) + ".  A truth on a prior bound (β = 0.10 or 0.11 with the "
               "bound at 0.1, β = 0.6 at the bound 0.6; the paper's fits hit its allowed range "
               "there) can never be inside a central interval, and through the E_c–β–δ "
               "correlations it drags the other parameters of the same fit along.")
    z = np.array([(r["median"] - r["paper"]) / ((r["q84"] - r["q16"]) / 2)
                  for r in groups[0][1]])
    chi2 = float(np.sum(z ** 2))
    out.append(f"* f(T): the 22 standardised errors (median − truth)/σ have Σz² = {chi2:.1f} "
               f"for {z.size} (p = {stats.chi2.sf(chi2, z.size):.2f}): the low 68 % coverage "
               "is a fluctuation of these 22 noise draws at that level, not evidence of "
               "miscalibration (every card's data are consistent with its truth: the chi² test "
               "in tests/test_cards.py).")
    for recipe, quoted in DEFRANCE_RECIPE_DELTA0.items():
        med = [r["median"] for r in rows
               if r["recipe"] == recipe and r["parameter"] == "delta0_fshift"]
        table = [r["paper"] for r in rows
                 if r["recipe"] == recipe and r["parameter"] == "delta0_fshift"]
        out.append(f"* Recipe {recipe}: mean of the f(T) posterior medians of δ⁰ = "
                   f"{np.mean(med) * 1e6:.2f}e-6 over {len(med)} resonators (Table 3 mean "
                   f"{np.mean(table) * 1e6:.2f}e-6; the paper quotes ≈ {quoted * 1e6:.0f}e-6).")
    rel = [(r["q84"] - r["q16"]) / 2 / r["median"] for r in rows if r["parameter"] ==
           "delta0_fshift"]
    relq = [(r["q84"] - r["q16"]) / 2 / r["median"] for r in rows if r["parameter"] ==
            "delta0_qi"]
    out.append(f"* Relative 1σ-equivalent width of δ⁰: f(T) median {np.median(rel):.1%} "
               f"(range {min(rel):.1%}–{max(rel):.1%}), Qi(P) median {np.median(relq):.1%} "
               f"(range {min(relq):.1%}–{max(relq):.1%}).")
    starred = [r for r in rows if r["paper_starred"]]
    flagged = [r for r in starred if r["flag"]]
    out.append(f"* The paper stars {len(starred)} values.  On data that follow the model "
               f"exactly, the posterior flags {len(flagged)} of them "
               + (f"({', '.join(sorted({_lbl(r) for r in flagged}))})" if flagged else "")
               + "; the others are identified, so their stars come from the measured data "
               "(no high-power plateau, power-independent Qi, readout-power effects; paper "
               "Sec. V.1), not from the model or the measurement ranges.")
    unstarred_flagged = [r for r in rows if not r["paper_starred"] and r["flag"]]
    if unstarred_flagged:
        out.append("* Flagged by the posterior although the paper does not star them: "
                   + ", ".join(_lbl(r) for r in unstarred_flagged) + ".")
    by_param = {}
    for r in rows:
        if r["fit"] == "qpower":
            by_param.setdefault(r["parameter"], []).append(r["width_ratio"])
    out.append("* Median width ratio (posterior/prior) of the Qi(P) parameters: "
               + ", ".join(f"{k} {np.median(v):.3f}" for k, v in by_param.items()) + ".")
    out.append("")
    return out


def _lbl(r):
    return f"{r['device']} {r['f0_MHz']} MHz {r['parameter']} ({r['flag']})"


# ---------------------------------------------------------------------------------------------
# Maillet Fig. 3
# ---------------------------------------------------------------------------------------------

def _draw_params(post, idata, n, rng):
    names = post.free_names
    draws = {k: idata.posterior[k].values.ravel() for k in names}
    idx = rng.choice(draws[names[0]].size, size=min(n, draws[names[0]].size), replace=False)
    out = {k: v[idx] for k, v in draws.items()}
    out.update({k: np.full(idx.size, v) for k, v in post.priors.fixed.items()})
    return out


def maillet(runs, out, *, quick, refit, log):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fits = {}
    for name in ("maillet_SiN_damping_SN_joint", "maillet_SiN_fshift",
                 "maillet_SiN_damping_shift_joint", "maillet_goalpost_damping_SN_joint"):
        fits[name] = fit_card(MODELS / f"{name}.toml", runs, quick=quick, refit=refit, log=log)
    card, post, idata = fits["maillet_SiN_damping_SN_joint"]
    rng = np.random.default_rng(3)
    p = _draw_params(post, idata, 400, rng)
    truth = card.simulation["parameters"]

    fig, (ax, rax) = plt.subplots(2, 1, figsize=(6.4, 6.4), sharex=True,
                                  gridspec_kw={"height_ratios": (2.2, 1)})
    colors = {"S": "tab:red", "N": "tab:blue"}
    for ds in post.datasets:
        T = np.geomspace(ds.x.min() * 0.8, ds.x.max() * 1.25, 200)
        curves = ds.model.predict(p, T) / (2 * np.pi)
        lo2, lo, med, hi, hi2 = np.percentile(curves, [2.5, 16, 50, 84, 97.5], axis=0)
        c = colors[ds.name]
        paper = ds.model.predict(truth, T) / (2 * np.pi)
        for a, ref in ((ax, 1.0), (rax, med)):
            rel = a is rax
            f = (lambda v: 100 * (v / ref - 1)) if rel else (lambda v: v)
            a.fill_between(T, f(lo2), f(hi2), color=c, alpha=0.15, lw=0)
            a.fill_between(T, f(lo), f(hi), color=c, alpha=0.35, lw=0)
            a.plot(T, f(med), color=c, lw=1.2,
                   label=None if rel else f"{ds.name} state: posterior median, 68/95 %")
            a.plot(T, f(paper), color="k", lw=0.8, ls="--")
        y = ds.y / (2 * np.pi)
        ax.errorbar(ds.x, y, yerr=ds.sigma / (2 * np.pi), fmt="o", ms=3, color=c, mec="k",
                    mew=0.4, elinewidth=0.6, label=f"{ds.name} data (simulated)")
        m = np.percentile(ds.model.predict(p, ds.x), 50, axis=0) / (2 * np.pi)
        rax.errorbar(ds.x, 100 * (y / m - 1), yerr=100 * ds.sigma / (2 * np.pi) / m, fmt="o",
                     ms=2.5, color=c, mec="k", mew=0.3, elinewidth=0.5)
    ax.plot([], [], color="k", lw=0.8, ls="--", label="paper's fit values (the truth)")
    ax.set(yscale="log", ylabel="Γ/2π [Hz]",
           title="Maillet et al. Fig. 3 (SiN beam), refitted by tlsbayes")
    rax.set(xscale="log", xlabel="T [K]", ylabel="relative to median [%]", ylim=(-12, 12))
    ax.legend(fontsize=7, loc="lower right")
    for a in (ax, rax):
        a.grid(True, which="both", lw=0.3, alpha=0.5)
    fig.tight_layout()
    with atomic_output(out / "maillet_fig3.png") as tmp:
        fig.savefig(tmp, dpi=130)
    plt.close(fig)
    atomic_write_text(out / "maillet_fig3.md", maillet_markdown(fits, runs, quick))


def _chi2(post, idata):
    """chi² per data set at the posterior median of the parameters."""
    med = {k: float(np.median(idata.posterior[k].values)) for k in post.free_names}
    theta = post.priors.from_params({**med, **post.priors.fixed})
    pred = post.predict(theta[None, :])
    return {ds.name: (float(np.sum(((ds.y - pred[ds.name][0]) / ds.sigma) ** 2)), ds.n)
            for ds in post.datasets}


def maillet_markdown(fits, runs, quick):
    paper = {"C": MAILLET["C"], "gamma": MAILLET["gamma"], "x": MAILLET["x"], "K": MAILLET["K"]}
    card, post, idata = fits["maillet_SiN_damping_SN_joint"]
    v = verdict_of(idata)
    out = ["# Maillet et al. (PRB 107, 064104) Fig. 3, refitted with tlsbayes", "",
           "![S and N damping with posterior bands](maillet_fig3.png)", "",
           "Data: SIMULATED by tlsbayes at the paper's fit values (`models/data/"
           "maillet_SiN_damping_{S,N}.csv`): 30 temperatures per state, S 30 mK–0.6 K, N 30 mK–"
           "10 K, 3 % noise.  Card `maillet_SiN_damping_SN_joint` (C and γ shared by the two "
           f"states, n_ph = 1).  Fit: {'converged' if v['converged'] else 'NOT converged'} "
           f"after {v['steps']} steps.",
           "", "| parameter | paper | posterior median [16 %, 84 %] | width ratio | flag |",
           "|---|---:|---|---:|---|"]
    for name, val in paper.items():
        d = describe(post, idata, name)
        unit = " eV" if name == "gamma" else ""
        out.append(f"| {name} | {val:g}{unit} | {d['median']:.4g} [{d['q16']:.4g}, "
                   f"{d['q84']:.4g}] | {d['width_ratio']:.3f} | {d['flag']} |")
    out += ["", f"Flags as in `defrance_table3.md` (U: posterior 16–84 % width > {WIDE} × "
            "the prior's).", ""]
    kd = describe(post, idata, "K")
    how = ("not identified" if "U" in kd["flag"] else
           "only weakly identified" if "w" in kd["flag"] else "identified")
    out.append(f"* **K is {how}** by damping data above 30 mK (width ratio "
               f"{kd['width_ratio']:.2f}; 2.5 % quantile {kd['q2.5']:.3g}, 97.5 % "
               f"{kd['q97.5']:.3g}): with K = 0.07 the electron-assisted crossover "
               "T*_el ≈ 1 mK lies far below the data, where the electron-coupled TLS are "
               "already in the plateau regime and Γ_N barely depends on K; the data give "
               "roughly a lower bound.  The paper's K = 0.07 is one value among many that "
               "fit; x, C and γ are pinned to about 1 %.")
    # C tension
    _, p_shift, i_shift = fits["maillet_SiN_fshift"]
    _, p_joint, i_joint = fits["maillet_SiN_damping_shift_joint"]
    cd, cs, cj = (describe(p, i, "C") for p, i in ((post, idata), (p_shift, i_shift),
                                                    (p_joint, i_joint)))
    chi = _chi2(p_joint, i_joint)
    out += ["", "## The C tension (damping vs frequency shift)", "",
            "| fit | C posterior median [16 %, 84 %] | paper |", "|---|---|---:|",
            f"| damping S+N (`maillet_SiN_damping_SN_joint`) | {cd['median']:.4g} "
            f"[{cd['q16']:.4g}, {cd['q84']:.4g}] | 4.3e-05 |",
            f"| shift C ln(T/T0) < 1 K (`maillet_SiN_fshift`) | {cs['median']:.4g} "
            f"[{cs['q16']:.4g}, {cs['q84']:.4g}] | 2.1e-05 |",
            f"| damping + shift sharing C (`maillet_SiN_damping_shift_joint`) | "
            f"{cj['median']:.4g} [{cj['q16']:.4g}, {cj['q84']:.4g}] | — |", "",
            "χ² per data set at the shared-C posterior median: "
            + ", ".join(f"{k} {c:.0f} for {n} points" for k, (c, n) in chi.items())
            + ".  A shared C is pulled to the shift's value (the shift data are more precise) "
            "and then misfits the damping by far more than the noise: the factor-2 tension "
            "the paper reports is not absorbed by the model, and the joint fit shows it.", ""]
    # goalpost
    cg, pg, ig = fits["maillet_goalpost_damping_SN_joint"]
    gt = cg.simulation["parameters"]
    out += ["## Goalpost cantilever (Fig. 3 inset), n_ph = 3/2", "",
            "Simulated with the paper's x = 0.12, K = 0.11 and assumed ω = 2π·4 MHz, "
            "C = 4.3e-5, A_ph = 5e41 J^-1.5 s^-1 (card `maillet_goalpost_damping_SN_joint`).", "",
            "| parameter | truth | posterior median [16 %, 84 %] | width ratio | flag |",
            "|---|---:|---|---:|---|"]
    for name in ("C", "A_ph", "x", "K"):
        d = describe(pg, ig, name)
        out.append(f"| {name} | {gt[name]:g} | {d['median']:.4g} [{d['q16']:.4g}, "
                   f"{d['q84']:.4g}] | {d['width_ratio']:.3f} | {d['flag']} |")
    out += ["", f"Produced by `python results/reproduce_papers.py{' --quick' if quick else ''}`"
            f"; run directories in `{runs.relative_to(ROOT)}/`.", ""]
    return "\n".join(out)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="1500-step runs (smoke test)")
    ap.add_argument("--only", choices=("defrance", "maillet"))
    ap.add_argument("--refit", action="store_true", help="refit even if a run is unchanged")
    args = ap.parse_args(argv)
    runs = ROOT / "results" / "runs" / ("reproduce_quick" if args.quick else "reproduce")
    out = runs if args.quick else ROOT / "results"
    runs.mkdir(parents=True, exist_ok=True)

    def log(msg):
        print(msg, flush=True)

    t0 = time.time()
    if args.only in (None, "maillet"):
        log("Maillet et al. 2023:")
        maillet(runs, out, quick=args.quick, refit=args.refit, log=log)
    if args.only in (None, "defrance"):
        log("Defrance et al. 2024, Table 3 (44 fits):")
        defrance(runs, out, quick=args.quick, refit=args.refit, log=log)
    log(f"done in {time.time() - t0:.0f} s; outputs in {out}")
    (runs / "last_run.json").write_text(json.dumps({"quick": args.quick,
                                                   "seconds": time.time() - t0}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
