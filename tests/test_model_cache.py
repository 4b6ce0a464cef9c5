"""A re-plot evaluates no model: the fit stores what the report needs from it (fit curves,
misfit verdicts, the model at the posterior median) keyed by posterior.nc's sha256, and
``tlsbayes report`` uses that only for the very file it was computed from.

One short fit (a capped chain) of the shipped joint card: two data sets, two panels.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tlsbayes import fit as F
from tlsbayes import fit_report, rundir
from tlsbayes import results as R

ROOT = Path(__file__).resolve().parents[1]
CARD = ROOT / "models" / "defrance_B2_809MHz_joint.toml"


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("model_cache") / "run"
    F.fit_card(CARD, out=out, max_steps=300, progress=False, plots="fit",
               print_fn=lambda *a, **k: None)
    return out


def _copy(run, tmp_path):
    d = tmp_path / "run"
    shutil.copytree(run, d)
    return d


def _recorder(monkeypatch):
    calls = []
    real = fit_report.evaluate_model
    monkeypatch.setattr(fit_report, "evaluate_model",
                        lambda *a, **k: calls.append(1) or real(*a, **k))
    return calls


def test_report_reuses_the_model_outputs_only_for_the_posterior_they_came_from(
        run, tmp_path, monkeypatch):
    """Stored by the fit for the posterior.nc it wrote; reused by a re-plot (the same figure
    and checks as evaluating the model again); a changed posterior.nc is evaluated anew and
    its figure and verdicts are the new draws'; a damaged cache is recomputed."""
    d = _copy(run, tmp_path)
    doc = json.loads((d / rundir.MODEL_CACHE).read_text(encoding="utf-8"))
    assert doc["key"] == fit_report.summary_key(d / rundir.POSTERIOR_FILE)
    assert [c["name"] for c in doc["outputs"]["curves"]["datasets"]] == ["f", "qi"]
    calls = _recorder(monkeypatch)
    F.report_run(d, plots="fit")
    assert calls == []
    cached_figure = (d / rundir.FIT_PLOT).read_bytes()
    cached_checks = (d / rundir.CHECKS_FILE).read_text(encoding="utf-8")

    (d / rundir.MODEL_CACHE).unlink()  # evaluated again: the same bytes
    F.report_run(d, plots="fit")
    assert calls == [1]
    assert (d / rundir.FIT_PLOT).read_bytes() == cached_figure
    assert (d / rundir.CHECKS_FILE).read_text(encoding="utf-8") == cached_checks

    # The same draws with f0 shifted by 30 kHz: another posterior.nc of this run.
    idata = R.load(d / rundir.POSTERIOR_FILE)
    f0 = idata.posterior["f0"].values
    f0 += 3e4
    R.save(idata, d / rundir.POSTERIOR_FILE)
    F.report_run(d, plots="fit")
    assert calls == [1, 1]
    new = json.loads((d / rundir.MODEL_CACHE).read_text(encoding="utf-8"))
    assert new["key"] == fit_report.summary_key(d / rundir.POSTERIOR_FILE) != doc["key"]
    old_f = next(c for c in doc["outputs"]["curves"]["datasets"] if c["name"] == "f")
    new_f = next(c for c in new["outputs"]["curves"]["datasets"] if c["name"] == "f")
    # f0 enters the frequency additively (f = f0 (1 + ...)): the curve moves by ~30 kHz
    shift = np.asarray(new_f["band"][2]) - np.asarray(old_f["band"][2])
    np.testing.assert_allclose(shift, 3e4, rtol=1e-3)
    assert (d / rundir.FIT_PLOT).read_bytes() != cached_figure

    (d / rundir.MODEL_CACHE).write_text("{not json", encoding="utf-8")
    F.report_run(d, plots="none")
    assert calls == [1, 1, 1]
    doc = json.loads((d / rundir.MODEL_CACHE).read_text(encoding="utf-8"))
    doc["outputs"]["misfit"] = [{"dataset": "qi"}]  # right key, unreadable content
    (d / rundir.MODEL_CACHE).write_text(json.dumps(doc), encoding="utf-8")
    F.report_run(d, plots="none")
    assert calls == [1, 1, 1, 1]


#: What evaluating the model loads: numba, scipy (the likelihood kernels, the runs test), and
#: tlsbayes' compiled kernels.
MODEL_MODULES = ("numba", "scipy", "tlsbayes.inference.kernels", "tlsbayes.models.kernels")


def _report_imports(run_dir) -> tuple:
    code = ("import sys; from tlsbayes.cli import main\n"
            f"code = main(['report', {str(run_dir)!r}])\n"
            f"print(code, sorted(m for m in sys.modules if m.startswith({MODEL_MODULES!r})))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    return proc.stdout.strip().splitlines()[-1], proc.stderr


def test_a_replot_of_a_run_of_this_version_imports_no_model_kernels(run, tmp_path):
    """``tlsbayes report`` (all figures) of a run written by this version: neither numba,
    scipy nor the model kernels are imported; once posterior.nc changed, they are."""
    d = _copy(run, tmp_path)
    out, err = _report_imports(d)
    assert out == "0 []", err
    assert sorted(p.name for p in d.glob("*.svg")) == ["corner.svg", "fit.svg", "trace.svg"]
    idata = R.load(d / rundir.POSTERIOR_FILE)
    idata.posterior["f0"].values[...] += 1.0
    R.save(idata, d / rundir.POSTERIOR_FILE)
    out, err = _report_imports(d)
    assert out.startswith("0 [") and "numba" in out and "tlsbayes.inference.kernels" in out, err
