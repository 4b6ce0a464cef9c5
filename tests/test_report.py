"""The stand-alone report: what was fitted (card, data file + one sha256, group, filter, window,
priors declared and default, constants in units), a summary table with units and one ESS
column, one coordinate per parameter across table and figures, figure titles naming card and
group, axes in the units of the data; and ``report --html`` checked in headless Chromium.

One short fit (a capped chain: the report's content does not depend on convergence) of a
card written here, on Qi(P) data simulated from the model in a dBm column, with a group, a
filter and a window.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from _chromium import CHROMIUM, SKIP_REASON, render
from tlsbayes import fit as F
from tlsbayes import fit_report
from tlsbayes import plotting, rundir
from tlsbayes.models import CONSTANT_UNITS, MODELS, QPower
from tlsbayes.reporting import markdown_to_html, run_context
from tlsbayes.reporting.context import Axis

CARD = """\
[card]
name = "report_probe"
title = "Report probe: Qi vs VNA power, simulated"
simulated = true

[[dataset]]
name = "qi"
model = "q_power"
likelihood = "gaussian_noise_scale"

[dataset.constants]
T = 0.011
f = 5.704126e9
saturation = "power"

[dataset.data]
file = "qi.csv"
x = { column = "power_vna_dBm", label = "VNA output power" }
y = { column = "Qi", kind = "Qi" }
sigma = { column = "Qi_sigma" }
group = { column = "resonator", value = "R2" }
filter = "flag == 0"
window = { max = -20 }

[priors]
delta0 = { dist = "loguniform", low = 1e-9, high = 1e-3 }
P_c = { dist = "loguniform", low = 1e-20, high = 1e-1, unit = "W" }
beta = { dist = "uniform", low = 0.05, high = 1.0 }

[sampler]
seed = 3
nwalkers = 16
chunk = 200
"""
TRUTH = {"delta0": 2e-6, "delta_other": 3e-7, "P_c": 1e-12, "beta": 0.3}


def _write_data(path: Path) -> None:
    rng = np.random.default_rng(1)
    dbm = np.linspace(-110, -10, 26)
    model = QPower(T=0.011, f=5.704126e9, saturation="power")
    lines = ["resonator,power_vna_dBm,Qi,Qi_sigma,flag"]
    for res in ("R1", "R2"):
        inv_q = model.predict(TRUTH, 1e-3 * 10 ** (dbm / 10))
        qi = 1.0 / inv_q * (1 + 0.01 * rng.standard_normal(dbm.size))
        for k, (p, q) in enumerate(zip(dbm, qi)):
            lines.append(f"{res},{p:.1f},{q:.6g},{0.01 * q:.4g},{int(k == 3)}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A fitted run directory (capped chain; fit.svg only: the corner and trace plots' inputs
    are checked through draw_figures' calls, without drawing)."""
    d = tmp_path_factory.mktemp("report")
    _write_data(d / "qi.csv")
    (d / "card.toml").write_text(CARD, encoding="utf-8")
    out = d / "run"
    F.fit_card(d / "card.toml", out=out, max_steps=400, progress=False, plots="fit",
               print_fn=lambda *a, **k: None)
    return out


def _report(run):
    return (run / rundir.REPORT_FILE).read_text(encoding="utf-8")


def test_report_says_what_was_fitted_with_one_sha256(run):
    md = _report(run)
    sha = hashlib.sha256((run.parent / "qi.csv").read_bytes()).hexdigest()
    info = json.loads((run / rundir.RUN_JSON).read_text())
    from tlsbayes import results as R

    attrs = R.read_attrs(run / rundir.POSTERIOR_FILE)
    assert info["data"][0]["sha256"] == sha
    assert attrs["extra"]["data_files"][0]["sha256"] == sha
    assert re.findall(r"[0-9a-f]{64}", md) == [sha]  # one value, the file's
    assert md.startswith("# Report probe: Qi vs VNA power, simulated\n")
    assert "card `report_probe`, resonator = 'R2'" in md
    assert "- group: resonator = 'R2'" in md
    assert "- filter: `flag == 0`" in md
    assert "- window: power_vna_dBm <= -20 dBm" in md
    assert "column `power_vna_dBm` (VNA output power [dBm])" in md
    assert "- constants: T = 0.011 K, f = 5704126000 Hz, saturation = power\n" in md
    assert "SIMULATED" in md
    for bad in ("NaN", "nan,", "y_kind", '"kind"', "{\""):
        assert bad not in md


def test_every_prior_used_is_listed_and_marked_declared_or_default(run):
    md = _report(run)
    rows = dict(re.findall(r"^\| (\w+) \| [^|]+ \| (declared in the card|default \(not in "
                           r"the card\)) \|$", md, flags=re.M))
    assert rows == {"delta0": "declared in the card", "P_c": "declared in the card",
                    "beta": "declared in the card",
                    "delta_other": "default (not in the card)",
                    "noise_scale": "default (not in the card)"}
    assert "| P_c | log-uniform on [1e-20, 0.1] W | declared in the card |" in md


def test_summary_table_has_units_one_ess_and_the_figure_coordinate(run):
    md = _report(run)
    header = next(line for line in md.splitlines() if line.startswith("| parameter | unit"))
    cols = [c.strip() for c in header.strip("|").split("|")]
    assert [c for c in cols if "ess" in c.lower()] == ["ESS"]
    assert "ESS: the effective sample size the convergence gate used" in md
    table = md.split("## Posterior summary")[1]
    row = next(line for line in table.splitlines() if line.startswith("| P_c |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[1] == "W" and cells[-1] == "log10 P_c"
    row = next(line for line in table.splitlines() if line.startswith("| beta |"))
    assert row.rstrip().endswith("| beta |")
    assert "as log10 of the value in the table" in md


@pytest.mark.parametrize("fmt", ["svg", "png"])
def test_figures_share_one_coordinate_and_name_card_and_group(run, monkeypatch, tmp_path, fmt):
    """draw_figures hands every plot (of either renderer) the card+group title, the corner and
    trace plots the same labels, the trace the chain in the corner's coordinates, the fit the
    dBm axis."""
    calls = {}

    def record(name):
        def fake(*args, **kwargs):
            calls[name] = (args, kwargs)
        return fake

    for name in ("plot_fit", "plot_corner", "plot_trace"):
        monkeypatch.setattr(plotting.renderer(fmt), name, record(name))
    from tlsbayes import results as R
    from tlsbayes.sampling import read_checkpoint

    card, posterior, _ = rundir.load_run(run)
    idata = R.load(run / rundir.POSTERIOR_FILE)
    ctx = run_context(run, R.attrs_of(idata), posterior)
    chain = read_checkpoint(run / rundir.CHECKPOINT_FILE).chain
    log_params = R.attrs_of(idata)["extra"]["log_params"]
    scratch = tmp_path / "figures"  # the fakes leave empty files behind
    scratch.mkdir()
    files = fit_report.draw_figures(idata, posterior, scratch, "all", chain=chain,
                                    log_params=log_params, context=ctx, fmt=fmt)
    assert files == [f"fit.{fmt}", f"corner.{fmt}", f"trace.{fmt}"]
    titles = {k: v[1]["title"] for k, v in calls.items() if k != "plot_fit"}
    assert set(titles.values()) == {"report_probe (resonator = 'R2')"}
    curves = calls["plot_fit"][0][0]
    assert curves.title == "report_probe (resonator = 'R2')"
    assert [c.x_label for c in curves.datasets] == ["VNA output power [dBm]"]
    names = calls["plot_trace"][0][1]
    corner_labels = [plotting.axis_label(posterior.parameter_info(), n, n in log_params)
                     for n in names]
    assert calls["plot_trace"][1]["labels"] == corner_labels
    assert "log10 P_c [W]" in corner_labels and "beta" in corner_labels
    shown = calls["plot_trace"][0][0]
    k = names.index("P_c")
    pc = idata.posterior["P_c"].values.ravel()
    assert np.isclose(np.median(shown[-50:, :, k]), np.log10(np.median(pc)), atol=0.5)


def test_batch_runs_get_their_own_group_in_the_titles(run, tmp_path):
    """A batch run directory records its group in run.json; the title follows it."""
    from tlsbayes import results as R

    card, posterior, _ = rundir.load_run(run)
    attrs = R.read_attrs(run / rundir.POSTERIOR_FILE)
    titles = set()
    for g in ("R1", "R2"):
        d = tmp_path / g
        d.mkdir()
        shutil.copy(run / rundir.CARD_FILE, d / rundir.CARD_FILE)
        info = json.loads((run / rundir.RUN_JSON).read_text())
        info["group"] = {"column": "resonator", "value": g}
        (d / rundir.RUN_JSON).write_text(json.dumps(info))
        titles.add(run_context(d, attrs, posterior).figure_title)
    assert titles == {"report_probe (resonator = 'R1')", "report_probe (resonator = 'R2')"}


def test_dbm_axis_shows_the_numbers_of_the_data_file():
    ax = Axis("VNA output power", "dBm", log=False)
    dbm = np.array([-110.0, -63.5, -10.0])
    assert np.allclose(ax.to_display(1e-3 * 10 ** (dbm / 10)), dbm)
    assert np.allclose(Axis("Q_i", "", reciprocal=True).to_display([1e-6]), [1e6])


def test_model_constants_are_the_fields_with_units():
    for kind, cls in MODELS.items():
        for f in dataclasses.fields(cls):
            if f.type in ("float", float):
                assert f.name in CONSTANT_UNITS, (kind, f.name)
    c = QPower(T=0.01, f=5e9, saturation="power_self_consistent", Qc=8e3, A0=3e-7,
               d=8e-7).constants()
    assert set(c) == {"T", "f", "saturation", "Qc", "A0", "d", "eps_r"}
    # geometry plays no part with the power or field forms: not listed
    assert set(QPower(T=0.01, f=5e9, saturation="power").constants()) == {"T", "f",
                                                                           "saturation"}


def test_markdown_to_html_escapes_and_embeds(tmp_path):
    png = tmp_path / "fit.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + b"0" * 10)
    html = markdown_to_html("# T <b>\n\n| a | b |\n|:---|---:|\n| x \\| y | `1<2` |\n\n"
                            "- **bold** and *it*\n\n![fit.png](fit.png)\n", base=tmp_path)
    assert "<h1>T &lt;b&gt;</h1>" in html
    assert "<td>x | y</td>" in html and '<td class="num"><code>1&lt;2</code></td>' in html
    assert "<li><strong>bold</strong> and <em>it</em></li>" in html
    assert 'src="data:image/png;base64,iVBORw0KGgo' in html
    # an SVG figure: an image data URI (never inline markup: a browser runs no script of it)
    (tmp_path / "fit.svg").write_text('<?xml version="1.0"?>\n<svg xmlns="x"><script/></svg>')
    html = markdown_to_html("![fit.svg](fit.svg)\n", base=tmp_path)
    assert 'src="data:image/svg+xml;base64,' in html and "<svg" not in html


@pytest.mark.skipif(CHROMIUM is None, reason=SKIP_REASON)
def test_html_report_renders_in_headless_chromium(run, tmp_path):
    path = F.report_run(run, plots="none", html=True)
    assert path == run / rundir.REPORT_HTML
    page = path.read_text(encoding="utf-8")
    assert "<script" not in page and "http" not in page.split("<body>")[0]
    dom, sizes = render(path, tmp_path)
    assert "<title>Report probe: Qi vs VNA power, simulated</title>" in dom
    assert len(sizes) == 1  # fit.svg (the fixture draws no other)
    assert all(w > 100 and h > 100 for w, h in sizes), sizes
    for text in ("P_c", "delta0", "beta", "resonator = 'R2'", "What these data identify"):
        assert text in dom


def test_report_reuses_the_summary_only_for_the_posterior_it_was_computed_from(
        run, tmp_path, monkeypatch):
    """A re-plot takes the summary statistics stored at fit time while posterior.nc is the
    file they were computed from (same sha256); a changed posterior.nc is summarised anew, and
    the new numbers are the changed draws' (a stale number is never shown)."""
    from tlsbayes import results as R

    d = tmp_path / "run"
    shutil.copytree(run, d)
    key = fit_report.summary_key(d / rundir.POSTERIOR_FILE)
    stored = json.loads((d / rundir.SUMMARY_CACHE).read_text(encoding="utf-8"))
    assert stored["key"] == key  # written by the fit, for the posterior.nc it wrote
    before = (d / rundir.SUMMARY_FILE).read_text(encoding="utf-8")

    calls = []
    real = fit_report._summary_statistics
    monkeypatch.setattr(fit_report, "_summary_statistics",
                        lambda *a: calls.append(1) or real(*a))
    F.report_run(d, plots="none")
    assert calls == []  # reused, not recomputed
    assert (d / rundir.SUMMARY_FILE).read_text(encoding="utf-8") == before  # same CSV text

    # The same draws, beta doubled: a different posterior.nc that still belongs to this run.
    idata = R.load(d / rundir.POSTERIOR_FILE)
    beta = idata.posterior["beta"].values
    beta *= 2.0
    R.save(idata, d / rundir.POSTERIOR_FILE)
    F.report_run(d, plots="none")
    assert calls == [1]  # recomputed
    with open(d / rundir.SUMMARY_FILE, encoding="utf-8") as fh:
        row = next(r for r in csv.DictReader(fh) if r["parameter"] == "beta")
    assert float(row["median"]) == pytest.approx(float(np.median(beta)), rel=1e-12)
    assert (d / rundir.SUMMARY_FILE).read_text(encoding="utf-8") != before
    new_key = json.loads((d / rundir.SUMMARY_CACHE).read_text(encoding="utf-8"))["key"]
    assert new_key == fit_report.summary_key(d / rundir.POSTERIOR_FILE) != key

    # A damaged cache is recomputed, not trusted or fatal.
    (d / rundir.SUMMARY_CACHE).write_text("{not json", encoding="utf-8")
    F.report_run(d, plots="none")
    assert calls == [1, 1]
