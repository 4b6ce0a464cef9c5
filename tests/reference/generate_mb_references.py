#!/usr/bin/env python
r"""Generate the reference values for the quasiparticle kernels (tests/data/ref_mattis_bardeen.json).

Uses only :mod:`mattis_bardeen_twin` (mpmath at 30 digits): the BCS gap from the
Matsubara-sum gap equation and the Mattis–Bardeen integrals done literally in the energy E by
tanh-sinh quadrature.  No tlsbayes code is imported, so the references are independent of the
kernels they judge.

Cases (SI inputs, stored as Python float reprs, results as 25-digit strings):

* ``gap``: Δ(T)/Δ0 at 17 reduced temperatures t = T/Tc from 0.02 to 0.9999;
* ``conductivity``: for four (Tc, f) films, from Al at 0.8 and 7.7 GHz to Nb at 5.6 GHz and
  Al at 60 GHz (where ħω exceeds 2Δ(T) above t ≈ 0.85 and the pair-breaking term of σ1
  appears), at 13 temperatures t = 0.05 ... 0.99: σ1/σn, σ2/σn, σ2(T=0)/σn and
  [σ2(T) - σ2(0)]/σ2(0), with Δ0 = π e^(-γ_E) k_B Tc.

Run: ``python tests/reference/generate_mb_references.py`` (about 1 minute on one core).
"""

import json
import sys
import time
from pathlib import Path

import mpmath as mp
from scipy import constants as C

sys.path.insert(0, str(Path(__file__).parent))
import mattis_bardeen_twin as tw  # noqa: E402

OUT = Path(__file__).resolve().parents[1] / "data" / "ref_mattis_bardeen.json"
H = mp.mpf(repr(C.h))
KB = mp.mpf(repr(C.k))

GAP_T = [0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 0.999,
         0.9999, 0.99999]
FILMS = [("Al_0.8GHz", 1.2, 0.8e9), ("Al_7.7GHz", 1.2, 7.7e9), ("Nb_5.6GHz", 9.2, 5.62e9),
         ("Al_60GHz", 1.2, 60e9)]
COND_T = [0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99]


def s(x):
    return mp.nstr(x, 25)


def main():
    t0 = time.time()
    gap = [{"t": t, "delta_str": s(tw.gap_fraction(mp.mpf(repr(t))))} for t in GAP_T]
    cases = []
    for name, Tc, f in FILMS:
        hf = H * mp.mpf(repr(f))
        d0 = tw.R_BCS * KB * mp.mpf(repr(Tc)) / hf
        s20 = tw.sigma2(0, d0)
        for t in COND_T:
            T = t * Tc  # the float the tests pass to the kernels
            tt = mp.mpf(repr(T)) / mp.mpf(repr(Tc))
            d = d0 * tw.gap_fraction(tt)
            theta = KB * mp.mpf(repr(T)) / hf
            s1 = tw.sigma1(theta, d)
            s2 = tw.sigma2(theta, d)
            cases.append({"film": name, "Tc": Tc, "f": f, "T": T, "theta_str": s(theta),
                          "d_str": s(d), "sigma1_str": s(s1), "sigma2_str": s(s2),
                          "sigma2_zero_str": s(s20), "dsigma2_rel_str": s((s2 - s20) / s20)})
            print(name, t, mp.nstr(s1, 8), mp.nstr(s2, 8), f"{time.time() - t0:.0f} s",
                  flush=True)
    OUT.write_text(json.dumps({
        "generator": "tests/reference/generate_mb_references.py",
        "method": "mpmath 30 digits: Matsubara-sum BCS gap equation (nsum + findroot); "
                  "Mattis-Bardeen integrals literally in E by tanh-sinh quadrature",
        "bcs_gap_ratio_str": s(tw.R_BCS),
        "gap": gap,
        "conductivity": cases,
    }, indent=1) + "\n")
    print(f"wrote {OUT} in {time.time() - t0:.0f} s")


if __name__ == "__main__":
    main()
