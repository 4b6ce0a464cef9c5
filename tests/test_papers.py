"""The transcribed paper tables hold to facts stated independently in the papers' text."""

import math
import statistics

import pytest

from tlsbayes import simulate
from tlsbayes.models import papers
from tlsbayes.models.papers import DEFRANCE_TABLE1, DEFRANCE_TABLE3, defrance_resonator


def test_table3_has_22_resonators_on_four_devices():
    # "Two resonances are missing in Devices A(2) and B(2) due to fabrication yield."
    counts = {d: sum(r.device == d for r in DEFRANCE_TABLE3) for d in ("A(1)", "A(2)", "B(1)", "B(2)")}
    assert counts == {"A(1)": 6, "A(2)": 5, "B(1)": 6, "B(2)": 5}
    assert len(DEFRANCE_TABLE3) == 22
    assert all(r.recipe == r.device[0] for r in DEFRANCE_TABLE3)
    # each device has distinct slots, increasing with frequency
    for d in counts:
        rows = [r for r in DEFRANCE_TABLE3 if r.device == d]
        assert [r.slot for r in rows] == sorted({r.slot for r in rows})
        assert [r.f0 for r in rows] == sorted(r.f0 for r in rows)


def test_b2_809_row_matches_text():
    r = defrance_resonator("B(2)", 809)
    assert (r.delta0_qi, r.delta_other, r.E_c, r.beta) == (8.9e-6, 0.9e-6, 3.4, 0.20)
    assert not r.starred
    assert r.geometry.Qc == 8e3 and r.geometry.A0 == pytest.approx(265e-6 * 1236e-6)


def test_delta0_ranges_quoted_in_sec_v1():
    # "range from 6.4e-6 to 21.5e-6 for Devices A(1) and A(2) and from 3.5e-6 to 8.9e-6 for B"
    for recipe, lo, hi in (("A", 6.4e-6, 21.5e-6), ("B", 3.5e-6, 8.9e-6)):
        vals = [v for r in DEFRANCE_TABLE3 if r.recipe == recipe
                for name, v in (("delta0_fshift", r.delta0_fshift), ("delta0_qi", r.delta0_qi))
                if not r.is_starred(name)]
        assert min(vals) == pytest.approx(lo) and max(vals) == pytest.approx(hi)


def test_recipe_averages_agree_with_quoted_values():
    # Sec. V.1: frequency-shift δ⁰ averaged per recipe ≈ 12e-6 (A) and ≈ 7e-6 (B), quoted to
    # one significant figure for B and two for A.
    for recipe, quoted in papers.DEFRANCE_RECIPE_DELTA0.items():
        mean = statistics.fmean(r.delta0_fshift for r in DEFRANCE_TABLE3 if r.recipe == recipe)
        assert round(mean * 1e6) == round(quoted * 1e6), (recipe, mean)


def test_reliable_b_medians_match_sec_v4():
    rows = [r for r in DEFRANCE_TABLE3 if r.recipe == "B"]
    for name, quoted in papers.DEFRANCE_B_RELIABLE_MEDIANS.items():
        vals = [getattr(r, name) for r in rows if not r.is_starred(name)]
        assert len(vals) == 9
        assert statistics.median(vals) == pytest.approx(quoted)
    # "Considering only the reliable fits, we find 0.2 < β < 0.6" (limits included in the table)
    betas = [r.beta for r in DEFRANCE_TABLE3 if not r.is_starred("beta")]
    assert min(betas) == pytest.approx(0.2) and max(betas) == pytest.approx(0.6)


def test_starred_values_as_described_in_text():
    starred_d0 = {r.label for r in DEFRANCE_TABLE3 if r.is_starred("delta0_qi")}
    assert starred_d0 == {"B(1) 824 MHz", "B(1) 895 MHz"}
    assert not any(r.is_starred("delta0_fshift") for r in DEFRANCE_TABLE3)
    # Sec. V.2: of A(1)/A(2) only 786 and 818 MHz of A(1) show the high-power plateau; all B show it
    reliable_other = {r.label for r in DEFRANCE_TABLE3
                      if r.recipe == "A" and not r.is_starred("delta_other")}
    assert reliable_other == {"A(1) 786 MHz", "A(1) 818 MHz"}
    assert not any(r.is_starred("delta_other") for r in DEFRANCE_TABLE3 if r.recipe == "B")
    # B(1) δ_other spans 0.2e-6 .. 28e-6 (Sec. V.2)
    b_other = [r.delta_other for r in DEFRANCE_TABLE3 if r.recipe == "B"]
    assert (min(b_other), max(b_other)) == (pytest.approx(0.2e-6), pytest.approx(28e-6))


def test_table4_new_values_equal_fshift_column():
    # Table 4 "new" δ⁰ (frequency shift, March 2022) for A(1) and B(1) equals Table 3's first column.
    new = {("A(1)", 786): 12.0, ("A(1)", 818): 12.0, ("A(1)", 859): 12.0, ("A(1)", 1506): 12.0,
           ("A(1)", 1565): 13.0, ("A(1)", 1652): 13.0, ("B(1)", 824): 8.3, ("B(1)", 855): 8.3,
           ("B(1)", 895): 3.5, ("B(1)", 1545): 5.0, ("B(1)", 1603): 8.1, ("B(1)", 1685): 8.3}
    for (dev, f), v in new.items():
        assert defrance_resonator(dev, f).delta0_fshift == pytest.approx(v * 1e-6)


def test_table1_geometry_consistent_with_design_frequencies():
    # C0 = ε A0 / d with ε/ε0 = 11.68 and f = 1/(2π sqrt(L C0/2)): both to the table's rounding.
    eps0 = 8.8541878128e-12
    for s in DEFRANCE_TABLE1:
        C0 = papers.DEFRANCE_EPS_R * eps0 * s.A0 / papers.DEFRANCE_D
        assert C0 == pytest.approx(s.C0, rel=0.03)
        f = 1 / (2 * math.pi * math.sqrt(s.L * s.C0 / 2))
        assert f == pytest.approx(s.f_design, rel=0.02)
    # measured frequencies lie within 4 % of the assigned slot's design frequency
    for r in DEFRANCE_TABLE3:
        assert abs(r.f0 / r.geometry.f_design - 1) < 0.04, r.label


def test_simulate_reexports_paper_constants():
    assert simulate.MAILLET is papers.MAILLET
    assert simulate.DEFRANCE_D == papers.DEFRANCE_D == 800e-9
    assert simulate.defrance_geometry(809e6) == (DEFRANCE_TABLE1[0].A0, 8e3)
