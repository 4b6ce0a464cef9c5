"""The tlsbayes command end to end on shipped cards: exit codes, files, report, resume."""

from pathlib import Path

import numpy as np
import pytest

from tlsbayes import results as R
from tlsbayes.cli import main

MODELS = Path(__file__).resolve().parents[1] / "models"


def test_fit_writes_a_complete_run_directory_and_report_rebuilds_it(tmp_path, capsys):
    out = tmp_path / "run"
    code = main(["fit", str(MODELS / "defrance_B2_809MHz_fshift.toml"), "--out", str(out),
                 "--no-progress"])
    assert code == 0
    for f in ("posterior.nc", "summary.csv", "report.md", "fit.svg", "corner.svg", "trace.svg",
              "checkpoint.h5", "card.toml", "run.json"):
        assert (out / f).is_file() and (out / f).stat().st_size > 0, f
    idata = R.load(out / "posterior.nc")
    attrs = R.attrs_of(idata)
    assert attrs["converged"] is True and attrs["seed"] == 8090
    assert "defrance_B2_809MHz_fshift" in attrs["model_card_text"]
    # Truth of the simulated data: delta0 = 7.9e-6 inside the 95 % interval.
    lo, hi = np.percentile(idata.posterior["delta0"].values, [2.5, 97.5])
    assert lo < 7.9e-6 < hi
    summary = (out / "summary.csv").read_text()
    assert summary.startswith("parameter,") and "delta0" in summary and "f0" in summary
    (out / "fit.svg").unlink()
    (out / "report.md").unlink()
    assert main(["report", str(out)]) == 0
    assert (out / "fit.svg").is_file() and "Verdict" in (out / "report.md").read_text()
    # Report does not resample: the posterior file is untouched.
    assert np.array_equal(R.load(out / "posterior.nc").posterior["delta0"].values,
                          idata.posterior["delta0"].values)


def test_unconverged_run_exits_3_and_resume_finishes_it(tmp_path, capsys):
    out = tmp_path / "run"
    card = MODELS / "defrance_B2_809MHz_fshift.toml"
    code = main(["fit", str(card), "--out", str(out), "--max-steps", "500", "--no-progress"])
    assert code == 3
    assert "NOT CONVERGED" in capsys.readouterr().err
    assert main(["fit", str(card), "--out", str(tmp_path / "r2"), "--max-steps", "500",
                 "--no-progress", "--allow-unconverged"]) == 0
    assert main(["resume", str(out), "--max-steps", "40000"]) == 0
    assert R.attrs_of(R.load(out / "posterior.nc"))["converged"] is True
    # nothing left to do: the answer comes from run.json, the card and the file attributes
    # (h5py), without the numba kernels, scipy, pandas, emcee or ArviZ
    heavy, err = _heavy_imports(["resume", out])
    assert "already converged" in err and heavy == "[]", err


@pytest.mark.parametrize("argv,needle", [
    (["fit", "no/such/card.toml"], "card file not found"),
    (["report", "no/such/dir"], "not a tlsbayes run directory"),
])
def test_bad_input_exits_2_with_one_line(argv, needle, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and needle in err[0] and "Traceback" not in err[0]


def test_bad_flag_exits_2(capsys):
    assert main(["fit", "--walkers"]) == 2


def test_models_lists_every_shipped_card(capsys):
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    for card in MODELS.glob("*.toml"):
        assert card.name in out
    assert "INVALID" not in out


def test_plots_flag_skips_figures_and_report_draws_them_later(tmp_path, capsys):
    out = tmp_path / "run"
    card = MODELS / "defrance_B2_809MHz_fshift.toml"
    assert main(["fit", str(card), "--out", str(out), "--max-steps", "300", "--no-progress",
                 "--allow-unconverged", "--plots", "none"]) == 0
    assert (out / "posterior.nc").is_file() and (out / "summary.csv").is_file()
    assert not list(out.glob("*.png")) and not list(out.glob("*.svg"))
    assert "tlsbayes report" in (out / "report.md").read_text()
    assert main(["report", str(out), "--plots", "fit"]) == 0
    assert sorted(p.name for p in out.glob("*.svg")) == ["fit.svg"]
    assert main(["report", str(out)]) == 0
    assert sorted(p.name for p in out.glob("*.svg")) == ["corner.svg", "fit.svg", "trace.svg"]
    assert not list(out.glob("*.png"))
    md = (out / "report.md").read_text()
    assert "](corner.svg)" in md and "corner.svg and trace.svg draw" in md
    # the PNGs of matplotlib on request; report.md then links them, one file per figure
    assert main(["report", str(out), "--figures", "png"]) == 0
    assert sorted(p.name for p in out.glob("*.png")) == ["corner.png", "fit.png", "trace.png"]
    md = (out / "report.md").read_text()
    assert "](fit.png)" in md and "](trace.png)" in md and ".svg)" not in md
    assert "corner.png and trace.png draw" in md and "same coordinates as corner.png" in md


#: Libraries that take a tenth of a second to seconds to import: a command that does little
#: (``--help``, ``models``, a rejected card, a resume with nothing to do) imports none of them.
HEAVY = ("arviz", "corner", "emcee", "matplotlib", "numba", "pandas", "scipy", "xarray")


def _heavy_imports(*argvs, modules=HEAVY) -> list:
    """Which of ``modules`` (default the heavy libraries) a fresh process imported running
    ``tlsbayes`` with each argv: [their sorted list as printed, stderr]."""
    import subprocess
    import sys

    code = ("import sys; from tlsbayes.cli import main\n"
            f"for argv in {[list(map(str, a)) for a in argvs]!r}:\n"
            "    main(argv)\n"
            f"print(sorted(m for m in {tuple(modules)!r} if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parents[1])
    return proc.stdout.strip().splitlines()[-1:] + [proc.stderr]


def test_quick_commands_import_no_numba_scipy_pandas_or_plotting(tmp_path):
    """``--help``, ``models``, a card with a typo: the card is read and rejected (or listed)
    from the models' metadata, without the numba kernels, scipy, pandas or matplotlib."""
    typo = tmp_path / "typo.toml"
    card = (MODELS / "defrance_B2_809MHz_fshift.toml").read_text()
    typo.write_text(card.replace("[sampler]", "[sampler]\nnwalker = 32", 1))
    out, err = _heavy_imports(["models"], ["fit", "no/such/card.toml"],
                              ["fit", typo, "--out", tmp_path / "run"])
    assert "unknown key 'nwalker'" in err
    assert out == "[]", err


def test_a_fit_with_its_svg_figures_never_imports_matplotlib(tmp_path):
    """The default figures are SVG, written without matplotlib (~0.4 s of imports saved)."""
    out = tmp_path / "run"
    imported, err = _heavy_imports(["fit", MODELS / "defrance_B2_809MHz_fshift.toml", "--out",
                                    out, "--max-steps", "300", "--no-progress",
                                    "--allow-unconverged"])
    assert sorted(p.name for p in out.glob("*.svg")) == ["corner.svg", "fit.svg", "trace.svg"]
    assert "'numba'" in imported and "matplotlib" not in imported, err


def test_a_fit_without_figures_imports_neither_plotting_nor_the_html_report(tmp_path):
    """``--plots none`` draws nothing, so the figure code is not imported (nor is the HTML
    page, which only ``tlsbayes report --html`` makes); the report is still written."""
    out = tmp_path / "run"
    imported, err = _heavy_imports(["fit", MODELS / "defrance_B2_809MHz_fshift.toml", "--out",
                                    out, "--max-steps", "300", "--no-progress",
                                    "--allow-unconverged", "--plots", "none"],
                                   modules=("tlsbayes.plotting", "tlsbayes.reporting.html",
                                            "tlsbayes.reporting.markdown", "matplotlib"))
    assert (out / "report.md").is_file() and not list(out.glob("*.svg")), err
    assert imported == "['tlsbayes.reporting.markdown']", err
