"""A run directory knows whose it is (issue 15): ownership, lock, integrity of its files.

Each test reproduces a defect of the probe in issue 15 and fails on the code before it:
a fit of another card/seed silently replacing a run, two fits mixing one directory, a
posterior.nc copied in from another card, data changed since the fit, a corrupt checkpoint.
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import subprocess
import time
from pathlib import Path

import h5py
import pytest

import _batch_data as BD
from tlsbayes import results as R
from tlsbayes.cli import main
from tlsbayes.rundir import CHECKSUM_FILE, LOCK_FILE


def invoke(argv) -> tuple[int, str, str]:
    """``tlsbayes.cli.main(argv)`` in-process: (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in argv])
    return code, out.getvalue(), err.getvalue()


def _workspace(d: Path, seed=BD.SEED) -> Path:
    d.mkdir(parents=True, exist_ok=True)
    BD.write_csv(d / "groups.csv", groups=("R0",), bad=False)
    return BD.write_card(d / "card.toml", seed=seed)


def _one_line(err: str, *needles) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    for n in needles:
        assert n in lines[0], (n, lines[0])


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Two finished runs of two cards (seed 3 and seed 4) on the same data."""
    root = tmp_path_factory.mktemp("runs")
    out = {}
    for seed in (3, 4):
        card = _workspace(root / f"w{seed}", seed=seed)
        code, _, err = invoke(["fit", card, "--out", root / f"w{seed}" / "run", "--no-progress"])
        assert code == 0, err
        out[seed] = root / f"w{seed}"
    return out


@pytest.fixture
def ws(runs, tmp_path):
    """A copy of the workspace (card, data, finished run) of the seed-3 card."""
    ws = tmp_path / "w"
    shutil.copytree(runs[3], ws)
    info = json.loads((ws / "run" / "run.json").read_text())
    info["card"] = str(ws / "card.toml")  # data paths resolve in the copy
    (ws / "run" / "run.json").write_text(json.dumps(info))
    return ws


def _files(run: Path) -> dict:
    return {p.name: p.read_bytes() for p in sorted(run.iterdir()) if p.is_file()}


# --------------------------------------------------------------------------------------------
# ownership
# --------------------------------------------------------------------------------------------
def test_fit_of_another_seed_or_card_into_a_run_is_refused(ws, runs):
    before = _files(ws / "run")
    code, _, err = invoke(["fit", ws / "card.toml", "--out", ws / "run", "--seed", "9",
                           "--no-progress"])
    assert code == 2
    _one_line(err, f"--out {ws / 'run'}", "seed 3 != 9", "--overwrite")
    code, _, err = invoke(["fit", runs[4] / "card.toml", "--out", ws / "run", "--no-progress"])
    assert code == 2
    _one_line(err, f"--out {ws / 'run'}", "card text", "--overwrite")
    assert _files(ws / "run") == before


def test_fit_of_other_data_into_a_run_is_refused(ws):
    data = ws / "other.csv"
    data.write_text((ws / "groups.csv").read_text().replace(",300\n", ",301\n", 1))
    code, _, err = invoke(["fit", ws / "card.toml", "--data", data, "--out", ws / "run",
                           "--no-progress"])
    assert code == 2
    _one_line(err, "data (sha256)")


def test_overwrite_replaces_the_run_and_the_same_run_may_be_fitted_again(ws, runs):
    code, _, err = invoke(["fit", runs[4] / "card.toml", "--out", ws / "run", "--no-progress",
                           "--overwrite"])
    assert code == 0, err
    assert R.attrs_of(R.load(ws / "run" / "posterior.nc"))["seed"] == 4
    assert json.loads((ws / "run" / "run.json").read_text())["settings"]["seed"] == 4
    assert not (ws / "run" / LOCK_FILE).exists()
    assert invoke(["report", ws / "run"])[0] == 0


def test_fit_refuses_run_files_without_run_json(ws):
    (ws / "run" / "run.json").unlink()
    code, _, err = invoke(["fit", ws / "card.toml", "--out", ws / "run", "--no-progress"])
    assert code == 2
    _one_line(err, "without a readable run.json")


def test_a_fit_killed_before_run_json_is_started_again_by_the_same_card_only(ws, runs):
    """A kill between the card copy and run.json leaves card.toml alone (seen in
    tests/test_kill.py): the same card fits into it again; another card's is refused."""
    run = ws / "fresh"
    run.mkdir()
    (run / "card.toml").write_text((runs[4] / "card.toml").read_text())
    code, _, err = invoke(["fit", ws / "card.toml", "--out", run, "--no-progress"])
    assert code == 2
    _one_line(err, "without a readable run.json")
    (run / "card.toml").write_text((ws / "card.toml").read_text())
    code, _, err = invoke(["fit", ws / "card.toml", "--out", run, "--no-progress"])
    assert code == 0, err
    new = R.load(run / "posterior.nc").posterior
    ref = R.load(ws / "run" / "posterior.nc").posterior
    assert all((new[k].values == ref[k].values).all() for k in ref.data_vars)  # the same run


def test_report_refuses_a_posterior_copied_from_another_card(ws, runs):
    shutil.copy(runs[4] / "run" / "posterior.nc", ws / "run" / "posterior.nc")
    code, _, err = invoke(["report", ws / "run"])
    assert code == 2, err
    _one_line(err, "posterior.nc: written from another card text", "seed")
    # report.md newer than posterior.nc: resume would call the run finished
    (ws / "run" / "report.md").touch()
    code, _, err = invoke(["resume", ws / "run"])
    assert code == 2, err
    _one_line(err, "posterior.nc: written from another card text")
    # report.md older: resume rewrites the results from the run's own checkpoint
    (ws / "run" / "posterior.nc").touch()
    assert invoke(["resume", ws / "run"])[0] == 0
    assert R.attrs_of(R.load(ws / "run" / "posterior.nc"))["seed"] == 3


def test_report_and_resume_refuse_data_changed_since_the_fit(ws):
    csv = ws / "groups.csv"
    lines = csv.read_text().splitlines()
    cells = lines[3].split(",")
    cells[2] = f"{float(cells[2]) + 75000:.3f}"  # ~250 sigma
    lines[3] = ",".join(cells)
    csv.write_text("\n".join(lines) + "\n")
    before = _files(ws / "run")
    for cmd in ("report", "resume"):
        code, _, err = invoke([cmd, ws / "run"])
        assert code == 2, (cmd, err)
        _one_line(err, f"data file {csv} changed since the fit", "fit again")
    assert _files(ws / "run") == before


def test_a_checkpoint_of_another_seed_is_refused(ws, runs):
    for name in ("checkpoint.h5", CHECKSUM_FILE):
        shutil.copy(runs[4] / "run" / name, ws / "run" / name)
    (ws / "run" / "report.md").unlink()  # so that resume does not stop at "converged"
    code, _, err = invoke(["resume", ws / "run"])
    assert code == 2
    _one_line(err, "checkpoint.h5: sampled with seed 4", "records seed 3")


def test_report_and_resume_refuse_while_another_process_holds_the_run(ws):
    import fcntl

    with open(ws / "run" / LOCK_FILE, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        for cmd in ("report", "resume"):
            code, _, err = invoke([cmd, ws / "run"])
            assert code == 2
            _one_line(err, "is writing into this directory")
        code, _, err = invoke(["fit", ws / "card.toml", "--out", ws / "run", "--no-progress"])
        assert code == 2
        _one_line(err, "is writing into this directory")


@pytest.mark.parametrize("first", [3, 4])
def test_two_fits_into_one_directory_give_one_run_and_one_refusal(runs, tmp_path, first):
    out = tmp_path / "run"
    procs = {}
    for seed in (first, 7 - first):
        procs[seed] = subprocess.Popen(
            [*BD.tlsbayes_command(), "fit", str(runs[seed] / "card.toml"), "--out", str(out),
             "--no-progress"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env=BD.subprocess_env())
        time.sleep(0.5)
    done = {seed: (p.wait(timeout=600), p.stderr.read()) for seed, p in procs.items()}
    assert sorted(code for code, _ in done.values()) == [0, 2], done
    winner = next(seed for seed, (code, _) in done.items() if code == 0)
    _, err = done[7 - winner]
    _one_line(err, str(out))
    assert "is writing into this directory" in err or "holds a run" in err
    # one complete, consistent run: the winner's
    assert R.attrs_of(R.load(out / "posterior.nc"))["seed"] == winner
    assert json.loads((out / "run.json").read_text())["settings"]["seed"] == winner
    assert f"seed = {winner}" in (out / "card.toml").read_text()
    assert invoke(["report", out])[0] == 0


# --------------------------------------------------------------------------------------------
# integrity
# --------------------------------------------------------------------------------------------
def _flip_chain_byte(path: Path) -> None:
    """Flip one bit of a stored chain value (the checkpoint stays a readable HDF5 file)."""
    with h5py.File(path, "r") as f:
        ds = f["mcmc"]["chain"]
        offset = (ds.id.get_offset() if ds.chunks is None
                  else ds.id.get_chunk_info(0).byte_offset) + 8 * 37 + 6
    with open(path, "r+b") as fh:
        fh.seek(offset)
        b = fh.read(1)
        fh.seek(offset)
        fh.write(bytes([b[0] ^ 0x40]))


def test_a_corrupt_checkpoint_is_refused_by_resume_and_report(ws):
    run = ws / "run"
    assert (run / CHECKSUM_FILE).is_file()
    _flip_chain_byte(run / "checkpoint.h5")
    for cmd in ("resume", "report"):
        code, _, err = invoke([cmd, run])
        assert code == 2, (cmd, err)
        _one_line(err, "checkpoint.h5: corrupt", "fit again")
    (run / "report.md").unlink()  # not finished: resume would otherwise continue the chain
    code, _, err = invoke(["resume", run])
    assert code == 2
    _one_line(err, "checkpoint.h5: corrupt")


# --------------------------------------------------------------------------------------------
# hostile inputs: exit 2 and one line, before anything is written
# --------------------------------------------------------------------------------------------
@pytest.fixture
def fresh(tmp_path):
    """A workspace with the card and its data, no run."""
    return _workspace(tmp_path / "f")


def _edit(card: Path, old: str, new: str) -> Path:
    text = card.read_text()
    assert old in text
    card.write_text(text.replace(old, new, 1))
    return card


@pytest.mark.parametrize("flags,needle", [
    (["--walkers", "100000000000"], "above the limit of 100000"),
    (["--max-steps", "1000000000000"], "above the limit of 100000000"),
    (["--walkers", "20000", "--max-steps", "10000000"], "GiB, above the limit of 8 GiB"),
    (["--seed", str(2**64)], "the seed must be below 2**64"),
])
def test_sizes_and_seeds_beyond_the_limits_are_refused_by_check_and_fit(fresh, flags, needle):
    for cmd in ("check", "fit"):
        out = fresh.parent / "out"
        code, _, err = invoke([cmd, fresh, *flags, *(["--out", out] if cmd == "fit" else [])])
        assert code == 2, (cmd, err)
        _one_line(err, needle)
        assert not out.exists()


def test_a_card_with_every_parameter_fixed_is_refused_by_check(fresh):
    _edit(fresh, 'delta0 = { dist = "loguniform", low = 1e-7, high = 1e-3 }',
          'delta0 = { dist = "fixed", value = 1e-5 }\nf0 = { dist = "fixed", value = 5e9 }')
    code, _, err = invoke(["check", fresh])
    assert code == 2
    _one_line(err, "every parameter is fixed")


def test_a_simulation_size_beyond_the_limit_is_refused(fresh):
    fresh.write_text(fresh.read_text() + "\n[simulation]\n[simulation.datasets.f]\n"
                     "x = { min = 0.02, max = 0.4, n = 10000000000 }\n")
    code, _, err = invoke(["check", fresh])
    assert code == 2
    _one_line(err, "x.n = 10000000000 is above the limit of 1000000")


def test_deeply_nested_card_and_run_json_exit_2(fresh, ws):
    depth = 100_000
    fresh.write_text(fresh.read_text() + "\n[card.extra]\nx = " + "[" * depth + "]" * depth
                     + "\n")
    code, _, err = invoke(["check", fresh])
    assert code == 2
    _one_line(err, "nested too deeply")
    (ws / "run" / "run.json").write_text("[" * depth + "]" * depth)
    code, _, err = invoke(["report", ws / "run"])
    assert code == 2
    _one_line(err, "run.json: damaged, JSON nested too deeply")


def test_a_long_filter_is_refused_at_once(fresh):
    from tlsbayes.io.filters import parse_filter
    from tlsbayes.errors import DataError

    _edit(fresh, 'file = "groups.csv"', 'file = "groups.csv"\nfilter = "' + "1" * 50_000 + '"')
    code, _, err = invoke(["check", fresh])
    assert code == 2
    _one_line(err, "50000 characters long; the limit is 1000")
    # under the limit, a run of digits that is no number fails in linear time (was quadratic)
    with pytest.raises(DataError, match="unexpected '1' at position 1"):
        parse_filter("1" * 999 + "x")


def test_a_card_with_a_bom_and_a_card_path_with_tilde_are_accepted(fresh, monkeypatch):
    fresh.write_bytes(b"\xef\xbb\xbf" + fresh.read_bytes())
    code, out, err = invoke(["check", fresh])
    assert code == 0, err
    monkeypatch.setenv("HOME", str(fresh.parent))
    code, out, err = invoke(["check", "~/card.toml"])
    assert code == 0, err
