"""tlsbayes batch: one fit per group, index.csv, failures isolated, idempotent reruns, engines.

The data are simulated (tests/_batch_data.py): three resonators with known f0 and delta0 plus
a group with a single row that cannot be fitted.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest

import _batch_data as BD
from tlsbayes import batch
from tlsbayes import results as R
from tlsbayes.cli import main
from tlsbayes.errors import BatchError
from tlsbayes.io import real_data_dir
from tlsbayes.rundir import LOCK_FILE, load_run


def _run(argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def _again(local_run, out, *flags):
    """The module batch's card and table into ``out`` (no figures), with extra flags."""
    return _run(["batch", str(local_run["card"]), "--data", str(local_run["dir"] / "groups.csv"),
                 "--group-by", "resonator", "--out", str(out), "--no-plots", *flags])


def _mtimes(out):
    return {g: (out / "runs" / g / "posterior.nc").stat().st_mtime_ns for g in BD.TRUTH}


def _index(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def _draws(run_dir):
    post = R.load(Path(run_dir) / "posterior.nc").posterior
    return {v: post[v].values for v in post.data_vars}


@pytest.fixture(scope="module")
def local_run(tmp_path_factory):
    """One batch with 2 local workers over R0, R1, R2 and the bad group."""
    d = tmp_path_factory.mktemp("batch")
    BD.write_csv(d / "groups.csv")
    card = BD.write_card(d / "card.toml")
    out = d / "out"
    code, stdout, _ = _run(["batch", str(card), "--data", str(d / "groups.csv"),
                            "--group-by", "resonator", "--workers", "2", "--out", str(out),
                            "--no-plots"])
    return {"dir": d, "card": card, "out": out, "code": code, "stdout": stdout}


def test_every_group_is_fitted_and_the_bad_one_reported(local_run):
    out = local_run["out"]
    assert local_run["code"] == 4  # one group failed
    rows = _index(out / "index.csv")
    assert [r["group"] for r in rows] == ["R0", "R1", "R2", "bad #1"]
    lines = [ln for ln in local_run["stdout"].splitlines() if ln.startswith("[")]
    assert len(lines) == 4  # one progress line per group
    bad = rows[3]
    assert bad["status"] == "failed" and "only 1 row(s) left" in bad["error"]
    assert any("bad #1: FAILED:" in ln and "only 1 row(s) left" in ln for ln in lines)
    for r in rows[:3]:
        f0, d0 = BD.TRUTH[r["group"]]
        assert r["status"] == "converged" and r["converged"] == "true", r
        assert int(r["n_rows"]) == int(r["n_points"]) == 15
        assert float(r["max_rhat"]) < 1.01 and float(r["min_ess"]) >= 400
        # the simulation truth lies within 3 posterior sigma (sigma = half the 16-84 width)
        for name, truth in (("f0", f0), ("delta0", d0)):
            med, lo, hi = (float(r[f"{name}_{q}"]) for q in ("median", "q16", "q84"))
            assert lo < med < hi and abs(med - truth) < 3 * (hi - lo) / 2, (name, r)
        # index quantiles = quantiles of the group's own posterior.nc, and = its summary.csv
        run_dir = out / r["run_dir"]
        draws = _draws(run_dir)
        summary = {s["parameter"]: s for s in _index(run_dir / "summary.csv")}
        for name in ("f0", "delta0"):
            q = np.quantile(draws[name].ravel(), [0.5, 0.16, 0.84])
            got = [float(r[f"{name}_{k}"]) for k in ("median", "q16", "q84")]
            assert got == list(q)
            assert np.allclose(got, [float(summary[name][k]) for k in ("median", "q16", "q84")],
                               rtol=1e-12)
        attrs = R.attrs_of(R.load(run_dir / "posterior.nc"))
        assert attrs["seed"] == batch.group_seed(BD.SEED, r["group"])
        assert attrs["extra"]["group"] == {"column": "resonator", "value": r["group"]}
    assert len({batch.group_seed(BD.SEED, g) for g in BD.TRUTH}) == 3


def test_rerun_skips_finished_groups_and_rewrites_the_same_index(local_run):
    out = local_run["out"]
    before = (out / "index.csv").read_bytes()
    mtimes = _mtimes(out)
    code, stdout, _ = _again(local_run, out, "--workers", "1")
    assert code == 4
    assert stdout.count("finished earlier, skipped") == 3
    assert (out / "index.csv").read_bytes() == before
    assert mtimes == _mtimes(out)


def test_results_do_not_depend_on_worker_count_or_group_order(local_run, tmp_path):
    # R2 before R1, no R0, no bad group, one worker: same seeds, bit-identical posteriors;
    # with figures, which are drawn after the fits and change nothing in the results
    BD.write_csv(tmp_path / "two.csv", groups=("R2", "R1"), bad=False)
    code, stdout, _ = _run(["batch", str(local_run["card"]), "--data",
                            str(tmp_path / "two.csv"), "--group-by", "resonator", "--workers",
                            "1", "--out", str(tmp_path / "out"), "--plots", "fit"])
    assert code == 0
    assert "figures (--plots fit) of 2 group(s) drawn after the fits" in stdout
    runs = tmp_path / "out" / "runs"
    first, second = [ln.split(": ")[0].split("] ")[1] for ln in stdout.splitlines()
                     if ln.startswith("[")]
    for g in (first, second):
        assert (runs / g / "fit.svg").is_file() and not (runs / g / "corner.svg").exists()
        assert "fit.svg" in (runs / g / "report.md").read_text()
    # one worker: the first group's figure waited for the second group's fit
    assert (runs / first / "fit.svg").stat().st_mtime_ns > \
        (runs / second / "posterior.nc").stat().st_mtime_ns
    for g in ("R1", "R2"):
        a, b = _draws(local_run["out"] / "runs" / g), _draws(tmp_path / "out" / "runs" / g)
        assert all(np.array_equal(a[k], b[k]) for k in a)
    ref = {r["group"]: r for r in _index(local_run["out"] / "index.csv")}
    for r in _index(tmp_path / "out" / "index.csv"):
        assert r == ref[r["group"]]


def test_dask_scheduler_gives_the_same_results(local_run, tmp_path):
    distributed = pytest.importorskip("distributed")
    BD.write_csv(tmp_path / "one.csv", groups=("R0",), bad=False)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        code, stdout, _ = _run(["batch", str(local_run["card"]), "--data",
                                str(tmp_path / "one.csv"), "--group-by", "resonator",
                                "--scheduler", cluster.scheduler_address, "--out",
                                str(tmp_path / "out"), "--no-plots"])
    assert code == 0 and "Dask scheduler" in stdout
    a, b = _draws(local_run["out"] / "runs" / "R0"), _draws(tmp_path / "out" / "runs" / "R0")
    assert all(np.array_equal(a[k], b[k]) for k in a)


def test_rerun_with_a_higher_step_cap_continues_unconverged_groups(local_run, tmp_path):
    BD.write_csv(tmp_path / "one.csv", groups=("R0",), bad=False)
    argv = ["batch", str(local_run["card"]), "--data", str(tmp_path / "one.csv"), "--group-by",
            "resonator", "--workers", "1", "--out", str(tmp_path / "out"), "--no-plots"]
    code, stdout, _ = _run(argv + ["--max-steps", "400"])
    assert code == 3 and "R0: NOT converged after 400 steps" in stdout
    assert _run(argv + ["--max-steps", "400", "--allow-unconverged"])[0] == 0  # skipped
    code, stdout, _ = _run(argv + ["--max-steps", "4000"])
    assert code == 0 and "R0: converged" in stdout
    # continued from the 400-step checkpoint: the same chain as the uninterrupted run
    a, b = _draws(local_run["out"] / "runs" / "R0"), _draws(tmp_path / "out" / "runs" / "R0")
    assert all(np.array_equal(a[k], b[k]) for k in a)


def test_a_run_directory_of_another_fit_is_never_overwritten(local_run, tmp_path):
    out = local_run["out"]
    mtimes = _mtimes(out)
    code, stdout, _ = _again(local_run, out, "--seed", "4")
    assert code == 4
    assert stdout.count("holds another fit (its settings differ)") == 3
    assert mtimes == _mtimes(out)
    # the index now reports the conflict; a rerun with the original seed restores it
    assert all(r["status"] == "failed" for r in _index(out / "index.csv"))
    code, _, _ = _again(local_run, out)
    assert code == 4 and [r["status"] for r in _index(out / "index.csv")] == \
        ["converged"] * 3 + ["failed"]


def test_resume_and_report_read_a_group_run_directory_as_that_group(local_run):
    run_dir = local_run["out"] / "runs" / "R1"
    card, posterior, settings = load_run(run_dir)
    assert sum(ds.n for ds in posterior.datasets) == 15  # not the 46 rows of the whole table
    assert settings.seed == batch.group_seed(BD.SEED, "R1")
    info = json.loads((run_dir / "run.json").read_text())
    assert info["finished"]["status"] == "converged"


def test_a_batch_worker_takes_the_compiled_loop_from_the_first_chunk_with_the_same_chain(
        local_run, tmp_path, monkeypatch):
    # A worker loads the compiled loop before its first fit (load_loop), so every fit takes
    # it from its first chunk; a lone fit of these short chains never loads it (per-half
    # stepper only).  Same draws, and the same as the module's 2-worker batch.
    from tlsbayes.card import load_card
    from tlsbayes.fit import card_settings, run_fit
    from tlsbayes.sampling import runner

    taken = []
    real = runner.CompiledStepper.take_loop
    monkeypatch.setattr(runner.CompiledStepper, "take_loop",
                        lambda self: taken.append(1) or real(self))
    with monkeypatch.context() as m:
        m.setattr(runner, "_loop_loaded", lambda: False)
        _, posterior, settings = load_run(local_run["out"] / "runs" / "R2")
        assert settings.engine == "compiled" and settings.max_steps < runner.LOOP_AFTER
        run_fit(posterior, settings, tmp_path / "lone", plots="none", print_fn=lambda *a: None)
    assert not taken
    card, data = load_card(local_run["card"]), local_run["dir"] / "groups.csv"
    plan = next(p for p in batch.plan_groups(card, "resonator", data=data) if p.group == "R2")
    settings = card_settings(card, len(plan.free_names), progress=False)
    out = tmp_path / "worker"
    info = batch.group.group_run_info(card, plan, "resonator", out, settings, str(data))
    row = batch.fit_group(batch.group.Task("R2", "resonator", str(card.path), card.text,
                                           str(data), str(out), plan.run_dir, info, False,
                                           "none"))
    assert row["status"] == "converged" and taken
    lone, worker = _draws(tmp_path / "lone"), _draws(out / plan.run_dir)
    module = _draws(local_run["out"] / "runs" / "R2")
    assert all(np.array_equal(lone[k], worker[k]) and np.array_equal(lone[k], module[k])
               for k in lone)


def test_local_workers_exit_quickly_but_keep_their_output_and_exit_handlers(tmp_path, capfd):
    from tlsbayes.engines import run_tasks

    paths = [tmp_path / f"t{i}" for i in range(2)]
    pids, errors = {}, []
    run_tasks(paths, BD.leave_traces, lambda t, pid: pids.__setitem__(t, pid),
              lambda t, why: errors.append(why), workers=2)
    assert not errors and len(pids) == 2
    # a handler registered after the pool's own runs first; the unfinished line is flushed
    assert all(p.read_text() == "exit handler ran" for p in paths)
    out = capfd.readouterr().out
    assert all(f"partial line of {pid}" in out for pid in pids.values())


def test_one_batch_at_a_time_per_directory(local_run, tmp_path):
    import fcntl

    from tlsbayes.card import load_card
    from tlsbayes.sampling import SamplerSettings

    out = tmp_path / "locked"
    out.mkdir()
    with open(out / LOCK_FILE, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(BatchError, match="another tlsbayes batch"):
            batch.run_batch(load_card(local_run["card"]), "resonator", out,
                            data=local_run["dir"] / "groups.csv",
                            settings=SamplerSettings(seed=1))


def test_several_cards_share_one_queue_and_keep_their_own_directories(local_run, tmp_path):
    # the module's card and a copy under another name and seed, one group each, 2 workers
    BD.write_csv(tmp_path / "one.csv", groups=("R2",), bad=False)
    other = BD.write_card(tmp_path / "other.toml", seed=BD.SEED + 1)
    other.write_text(other.read_text().replace('name = "sim_fshift_groups"',
                                                'name = "sim_fshift_other"'))
    out = tmp_path / "out"
    code, stdout, _ = _run(["batch", str(local_run["card"]), str(other), "--data",
                            str(tmp_path / "one.csv"), "--group-by", "resonator", "--workers",
                            "2", "--out", str(out), "--no-plots"])
    assert code == 0
    assert {ln.split(": ")[0] for ln in stdout.splitlines() if "] R2: converged" in ln} == \
        {"sim_fshift_groups [1/1] R2", "sim_fshift_other [1/1] R2"}  # each line names its card
    mine, theirs = out / "sim_fshift_groups", out / "sim_fshift_other"
    assert [r["group"] for r in _index(mine / "index.csv")] == ["R2"]
    assert [r["status"] for r in _index(theirs / "index.csv")] == ["converged"]
    a, b = _draws(local_run["out"] / "runs" / "R2"), _draws(mine / "runs" / "R2")
    assert all(np.array_equal(a[k], b[k]) for k in a)  # as in a batch of its own
    assert R.attrs_of(R.load(theirs / "runs" / "R2" / "posterior.nc"))["seed"] == \
        batch.group_seed(BD.SEED + 1, "R2")
    code, _, err = _run(["batch", str(other), str(other), "--data", str(tmp_path / "one.csv"),
                         "--group-by", "resonator", "--out", str(tmp_path / "twice")])
    assert code == 2 and "also named 'sim_fshift_other'" in err and len(err.splitlines()) == 1


def test_run_dir_names_are_safe_and_distinct():
    names = ["R1", "bad #1", "bad_1", "a/b", "a_b", "", "..", "LGS1_5.70GHz"]
    dirs = [batch.run_dir_name(n) for n in names]
    assert len(set(dirs)) == len(dirs)
    assert dirs[0] == "R1" and dirs[-1] == "LGS1_5.70GHz"
    assert all("/" not in d and not d.startswith(".") and d for d in dirs)


@pytest.mark.parametrize("argv,needle", [
    (["--group-by", "no_such_column"], "no column 'no_such_column'"),
    (["--group-by", "resonator", "--scheduler", "tcp://127.0.0.1:1", "--workers", "2"],
     "--scheduler cannot be combined"),
])
def test_bad_batch_input_exits_2_with_one_line(local_run, tmp_path, argv, needle):
    code, _, err = _run(["batch", str(local_run["card"]), "--data",
                         str(local_run["dir"] / "groups.csv"), "--out", str(tmp_path / "o")]
                        + argv)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0]


def test_mpi_without_mpi4py_is_a_clear_error(local_run, tmp_path):
    try:
        import mpi4py  # noqa: F401
        pytest.skip("mpi4py is installed; this checks the message when it is not")
    except ImportError:
        pass
    code, _, err = _run(["batch", str(local_run["card"]), "--data",
                         str(local_run["dir"] / "groups.csv"), "--group-by", "resonator",
                         "--mpi", "--out", str(tmp_path / "o")])
    assert code == 2 and "--mpi needs mpi4py" in err and "pip install mpi4py" in err
    assert not (tmp_path / "o").exists()


@pytest.mark.slow
def test_a_group_that_kills_its_worker_fails_alone(local_run, tmp_path):
    """R1's worker process dies (os._exit): R0 and R2 still finish, R1 is reported."""
    from tlsbayes.card import load_card
    from tlsbayes.sampling import SamplerSettings

    lines = []
    res = batch.run_batch(load_card(local_run["card"]), "resonator", tmp_path / "out",
                          data=local_run["dir"] / "groups.csv", workers=2, plots=False,
                          settings=SamplerSettings(seed=BD.SEED, nwalkers=16, chunk=200,
                                                   max_steps=4000, target_ess=400,
                                                   tau_factor=30),
                          task_fn=BD.die_on_r1, print_fn=lines.append)
    status = {r["group"]: r["status"] for r in res.rows}
    assert status == {"R0": "converged", "R1": "failed", "R2": "converged", "bad #1": "failed"}
    assert "worker process died" in res.rows[1]["error"]
    assert any("worker process died" in ln for ln in lines)
    for g in ("R0", "R2"):  # same posterior as the undisturbed batch
        a, b = _draws(local_run["out"] / "runs" / g), _draws(tmp_path / "out" / "runs" / g)
        assert all(np.array_equal(a[k], b[k]) for k in a)


GAAS = "bcqt_gaas_resA_resB_Qi_vs_power.csv"
GAAS_CARD = """# REAL measured data (McRae et al., arXiv:2009.10101; Boulder Cryogenic Quantum
# Testbed, GaAs_Loss_Article), read from the shared real-data directory. Both at 12 mK;
# f = 7.4e9 Hz for both: it enters only tanh(h f / 2 k T), which is 1 to 1e-12 for either.
[card]
name = "real_gaas_by_resonator"
simulated = false
attribution = '''Measured: NIST/CU Boulder (McRae et al.) GaAs loss study, Boulder Cryogenic
Quantum Testbed data @ 2dfc69d, GaAs_Loss_Article/'''
[[dataset]]
name = "qi"
model = "q_power"
likelihood = "gaussian_noise_scale"
[dataset.constants]
T = 0.012
f = 7.4e9
saturation = "power"
[dataset.data]
file = "{real}/bcqt_gaas_resA_resB_Qi_vs_power.csv"
x = { column = "power_vna_dBm" }
y = { column = "Qi", kind = "Qi" }
sigma = { column = "Qi_sigma" }
filter = "fit_ok == 1"
window = { max = -5 }
[priors]
delta0 = { dist = "loguniform", low = 1e-8, high = 1e-2 }
delta_other = { dist = "loguniform", low = 1e-10, high = 1e-3 }
P_c = { dist = "loguniform", low = 1e-20, high = 1e-1 }
beta = { dist = "uniform", low = 0.05, high = 1.0 }
noise_scale = { dist = "loguniform", low = 0.05, high = 100.0 }
[sampler]
nwalkers = 20
max_steps = 3000
seed = 11
"""


@pytest.mark.slow
@pytest.mark.skipif(not (real_data_dir() / GAAS).is_file(),
                    reason=f"real data {GAAS} not found in {real_data_dir()} (set "
                           "TLSBAYES_REAL_DATA)")
def test_real_gaas_resonators_grouped_by_resonator(tmp_path):
    from tlsbayes.models import QPower

    card = tmp_path / "gaas.toml"
    card.write_text(GAAS_CARD)
    code, stdout, err = _run(["batch", str(card), "--group-by", "resonator", "--workers", "2",
                              "--out", str(tmp_path / "out"), "--no-plots"])
    assert code in (0, 3), err  # no group failed (convergence within 3000 steps not asked)
    rows = {r["group"]: r for r in _index(tmp_path / "out" / "index.csv")}
    assert set(rows) == {"ResonatorA", "ResonatorB"}
    # independent count of the rows the card selects: fit_ok == 1 and power <= -5 dBm
    with open(real_data_dir() / GAAS, newline="") as fh:
        data = [r for r in csv.DictReader(ln for ln in fh if not ln.startswith("#"))
                if r["fit_ok"] == "1" and float(r["power_vna_dBm"]) <= -5]
    for g, r in rows.items():
        sel = [d for d in data if d["resonator"] == g]
        assert int(r["n_points"]) == len(sel)
        # the MAP curve reproduces the measured Qi(P) of that resonator (not the other's)
        attrs = R.attrs_of(R.load(tmp_path / "out" / r["run_dir"] / "posterior.nc"))
        p = attrs["extra"]["map"]  # physical values of the free parameters (none fixed)
        watts = 1e-3 * 10 ** (np.array([float(d["power_vna_dBm"]) for d in sel]) / 10)
        qi = np.array([float(d["Qi"]) for d in sel])
        pred = 1.0 / QPower(T=0.012, f=7.4e9, saturation="power").predict(p, watts)
        assert np.sqrt(np.mean((pred / qi - 1) ** 2)) < 0.1, g


TA = "ta_grainsize_Qi_vs_power_LGS1_SGS1.csv"
TA_BATCH_CARDS = sorted(Path(__file__).resolve().parent.parent.glob("models/real/ta_*_batch.toml"))


@pytest.mark.skipif(not (real_data_dir() / TA).is_file(),
                    reason=f"real data {TA} not found in {real_data_dir()} (set "
                           "TLSBAYES_REAL_DATA)")
@pytest.mark.parametrize("card_path", TA_BATCH_CARDS, ids=lambda p: p.stem)
def test_the_groups_of_a_batch_are_those_its_filter_keeps(card_path):
    """A shipped Ta batch card selects one film and cooldown: its groups are exactly the
    resonators measured there (counted independently with csv), none of the other
    cooldowns' resonators listed as failed, and every group can be fitted."""
    from tlsbayes import card as tcard

    card = tcard.load_card(card_path)
    flt = card.datasets[0].data["filter"]
    film = flt.split("film == '")[1].split("'")[0]
    cooldown = flt.split("cooldown == '")[1].split("'")[0]
    with open(real_data_dir() / TA, newline="") as fh:
        rows = [r for r in csv.DictReader(ln for ln in fh if not ln.startswith("#"))
                if r["flag_bad_fit"] == "0" and r["film"] == film and r["cooldown"] == cooldown]
    expected = {}
    for r in rows:
        expected[r["resonator"]] = expected.get(r["resonator"], 0) + 1
    plans = batch.plan_groups(card, "resonator")
    assert {p.group: p.n_rows for p in plans} == expected
    assert all(p.error == "" and p.n_points >= 2 for p in plans), [p.error for p in plans]



_STARTED = []


def _record_start(task):
    """Batch task: note which group started, with how many points, without fitting."""
    _STARTED.append((task.group, task.size))
    return {"group": task.group, "run_dir": task.run_dir, "status": "converged", "steps": 1,
            "max_rhat": 1.0, "min_ess": 1000.0}


def test_the_queue_starts_the_groups_with_the_fewest_points_first(tmp_path):
    """The least constrained fits run longest (the shipped Ta batches), so they go first."""
    from concurrent.futures import ThreadPoolExecutor

    from tlsbayes.card import load_card
    from tlsbayes.sampling import SamplerSettings

    table = BD.write_csv(tmp_path / "full.csv", bad=False).read_text().splitlines()
    keep = {"R0": 15, "R1": 6, "R2": 10}  # points per group; the table has R0, R1, R2
    seen = dict.fromkeys(keep, 0)
    lines = table[:2]
    for r in table[2:]:
        g = r.split(",")[0]
        seen[g] += 1
        if seen[g] <= keep[g]:
            lines.append(r)
    (tmp_path / "groups.csv").write_text("\n".join(lines) + "\n")
    card = load_card(BD.write_card(tmp_path / "card.toml"))
    _STARTED.clear()
    with ThreadPoolExecutor(1) as pool:  # one worker: tasks start in the queue's order
        res = batch.run_batch(card, "resonator", tmp_path / "b",
                              settings=SamplerSettings(seed=1), executor=pool,
                              task_fn=_record_start, print_fn=lambda s: None)
    assert [r["status"] for r in res.rows] == ["converged"] * 3
    assert _STARTED == [("R1", 6), ("R2", 10), ("R0", 15)]
