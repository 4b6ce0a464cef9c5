"""Every failure ends in exit 2 and one line (issue 15): the disk, the data, the batch, the card.

Faults of the system: a full disk (a 200 KB tmpfs; the old writers left tracebacks and then a
segmentation fault of libhdf5, exit 139), a read-only ``--out``, unreadable files.  Hostile
data: sigma = 1e-320 or y = 1e305, a FIFO, a device or a directory as data, a 300-character
group value.  And: a fit removes the temporaries a kill left, library warnings never reach
stderr, and ``check`` refuses every card that ``fit`` refuses before sampling, with the same
line.  The tmpfs cases mount a file system and run only as root (skipped otherwise).
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

import _batch_data as BD
from tlsbayes import rundir
from tlsbayes.cli import main

ROOT = Path(__file__).resolve().parents[1]


def invoke(argv) -> tuple[int, str, str]:
    """``tlsbayes.cli.main(argv)`` in-process: (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in argv])
    return code, out.getvalue(), err.getvalue()


def one_line(err: str, *needles) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    for n in needles:
        assert n in lines[0], (n, lines[0])
    return lines[0]


def hidden_files(directory: Path) -> list:
    return sorted(p.name for p in directory.rglob(".*") if p.name != ".batch.lock")


@pytest.fixture
def ws(tmp_path) -> Path:
    """A card (2 parameters, 15 points, 16 walkers) and its data; returns the card."""
    BD.write_csv(tmp_path / "groups.csv", groups=("R0",), bad=False)
    return BD.write_card(tmp_path / "card.toml")


@contextlib.contextmanager
def mounted_tmpfs(where: Path, *options):
    """A tmpfs at ``where`` for the block (root only: skips the test otherwise)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    where.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", ",".join(options), "tmpfs",
                           str(where)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


# --------------------------------------------------------------------------------------------
# the disk: full, read-only, unreadable
# --------------------------------------------------------------------------------------------
def test_a_fit_on_a_full_disk_exits_2_with_one_line_and_leaves_nothing(ws, tmp_path):
    with mounted_tmpfs(tmp_path / "full", "size=200k") as full:
        code, _, err = invoke(["fit", ws, "--out", full / "run", "--no-progress",
                               "--plots", "none"])
        assert code == 2
        line = one_line(err, "checkpoint.h5: cannot write the checkpoint (No space left on "
                             "device)")
        run = full / "run"
        assert hidden_files(full) == []
        if "nothing was saved" in line:  # before the first checkpoint: no run directory
            assert not run.exists()
        else:  # the last complete checkpoint is intact and resumable
            assert f"tlsbayes resume {run}" in line
            rundir.verify_checkpoint(run)


def test_the_result_writer_on_a_full_disk_raises_one_line_and_removes_its_temporary(tmp_path):
    import arviz as az

    from tlsbayes import results as R
    from tlsbayes.errors import ResultError

    # 320 KB of incompressible draws: more than the file system holds
    idata = az.from_dict(posterior={"a": np.random.default_rng(0).normal(size=(4, 10_000))})
    with mounted_tmpfs(tmp_path / "full", "size=200k") as full:
        with pytest.raises(ResultError, match="No space left on device") as info:
            R.save(idata, full / "posterior.nc")
        assert "\n" not in str(info.value)
        assert list(full.iterdir()) == []
        R.save(az.from_dict(posterior={"a": np.zeros((2, 10))}), full / "small.nc")
        assert R.load(full / "small.nc").posterior["a"].shape == (2, 10)


def test_a_read_only_out_exits_2_with_one_line(ws, tmp_path):
    with mounted_tmpfs(tmp_path / "ro", "ro", "size=64k") as ro:
        for out, needle in ((ro, "cannot write into this directory"),
                            (ro / "run", "cannot create the run directory")):
            code, _, err = invoke(["fit", ws, "--out", out, "--no-progress"])
            assert code == 2
            one_line(err, str(out), needle, "Read-only file system")
        # an atomic writer names the file it was asked for, not its temporary
        code, _, err = invoke(["simulate", ws, "--out", ro / "sim.csv"])
        assert code == 2
        assert one_line(err) == f"tlsbayes: error: {ro / 'sim.csv'}: Read-only file system"


def _invoke_unprivileged(argv) -> tuple[int, str]:
    """``invoke(argv)`` as a user whom permissions bind: as root, in a forked child that
    drops to user nobody (its modules already imported: nobody may not read the
    interpreter's installation); (exit code, stderr)."""
    if os.geteuid() != 0:
        code, _, err = invoke(argv)
        return code, err
    invoke(["check", argv[1]])  # import everything the command needs, as root
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            os.close(r)
            os.setgroups([])
            os.setresgid(65534, 65534, 65534)
            os.setresuid(65534, 65534, 65534)
            code, _, err = invoke(argv)
            os.write(w, f"{code}\n{err}".encode())
        finally:
            os._exit(0)
    os.close(w)
    with os.fdopen(r, "rb") as fh:
        data = fh.read().decode()
    os.waitpid(pid, 0)
    code, _, err = data.partition("\n")
    return int(code), err


def test_unreadable_data_card_and_unwritable_out_exit_2_with_one_line(ws):
    data = ws.parent / "groups.csv"
    for p in (ws.parent, *ws.parent.parents):
        if p.stat().st_mode & 0o005 != 0o005:
            p.chmod(p.stat().st_mode | 0o005)  # pytest's tmp_path is private to its user
    data.chmod(0)
    code, err = _invoke_unprivileged(["check", ws])
    assert code == 2
    one_line(err, "groups.csv: cannot read data file (Permission denied)")
    data.chmod(0o644)
    locked = ws.parent / "locked"
    locked.mkdir(mode=0o555)
    locked.chmod(0o555)
    code, err = _invoke_unprivileged(["fit", ws, "--out", locked / "run", "--no-progress"])
    assert code == 2
    one_line(err, "cannot create the run directory (Permission denied)")
    ws.chmod(0)
    code, err = _invoke_unprivileged(["check", ws])
    assert code == 2
    one_line(err, "card.toml", "Permission denied")


# --------------------------------------------------------------------------------------------
# data and groups
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("column,value,needle", [
    (3, "1e-320", "column 'f_res_sigma_Hz': sigma is below 1e-150"),
    (2, "1e305", "column 'f_res_Hz': |y| is above 1e+150"),
])
def test_extreme_sigma_or_y_is_refused_naming_the_column(ws, column, value, needle):
    data = ws.parent / "groups.csv"
    lines = data.read_text().splitlines()
    cells = lines[5].split(",")
    cells[column] = value
    lines[5] = ",".join(cells)
    data.write_text("\n".join(lines) + "\n")
    for cmd in ("check", "fit"):
        code, _, err = invoke([cmd, ws, "--out", ws.parent / "out"][:2 if cmd == "check"
                                                                       else 4])
        assert code == 2, err
        one_line(err, "groups.csv, line 6", needle)
    assert not (ws.parent / "out").exists()


def test_a_fifo_a_device_or_a_directory_as_data_is_named_for_what_it_is(ws, tmp_path):
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    cases = [(fifo, "is a FIFO"), (Path("/dev/null"), "is a character device"),
             (tmp_path, "is a directory, not a data file")]
    for path, needle in cases:
        for argv in (["check", ws, "--data", path],
                     ["fit", ws, "--data", path, "--out", tmp_path / "o"]):
            code, _, err = invoke(argv)
            assert code == 2
            line = one_line(err, needle)
            assert "not found" not in line
    code, _, err = invoke(["batch", ws, "--data", tmp_path, "--group-by", "resonator",
                           "--out", tmp_path / "b"])
    assert code == 2
    one_line(err, "is a directory")


def _make_run_dir_only(task):
    """Batch task: create the group's run directory as a fit does, without fitting."""
    run_dir = Path(task.out) / task.run_dir
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "run.json").write_text("{}")
    return {"group": task.group, "run_dir": task.run_dir, "status": "converged", "steps": 1,
            "max_rhat": 1.0, "min_ess": 1000.0}


def test_a_300_character_group_gets_a_bounded_directory_and_never_stops_the_batch(tmp_path):
    from tlsbayes import batch
    from tlsbayes.card import load_card
    from tlsbayes.sampling import SamplerSettings

    long_a, long_b = "L" * 300, "L" * 299 + "M"
    names = {batch.run_dir_name(g) for g in (long_a, long_b)}
    assert len(names) == 2 and all(len(n) <= batch.MAX_RUN_DIR_NAME + 9 for n in names)
    assert batch.run_dir_name("R0") == "R0" and batch.run_dir_name("x" * 64) == "x" * 64
    BD.write_csv(tmp_path / "groups.csv", groups=("R0", "R1"), bad=False)
    text = (tmp_path / "groups.csv").read_text().replace("\nR1,", f"\n{long_a},")
    (tmp_path / "groups.csv").write_text(text)
    card = load_card(BD.write_card(tmp_path / "card.toml"))
    with ThreadPoolExecutor(1) as pool:
        res = batch.run_batch(card, "resonator", tmp_path / "b", settings=SamplerSettings(seed=1),
                              executor=pool, task_fn=_make_run_dir_only, print_fn=lambda s: None)
    assert [r["status"] for r in res.rows] == ["converged", "converged"], res.rows
    assert (tmp_path / "b" / "runs" / batch.run_dir_name(long_a) / "run.json").is_file()


# --------------------------------------------------------------------------------------------
# leftovers and foreign output
# --------------------------------------------------------------------------------------------
def test_a_fit_removes_temporaries_of_a_kill_and_shows_no_library_warnings(ws, tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    # what a kill in mid-write before the first checkpoint leaves behind
    for name in (".checkpoint.h5.4242.deadbeef.tmp", ".posterior.0123abcd.tmp",
                 ".run.89abcdef.json"):
        (out / name).write_bytes(b"partial")
    # 3 steps of 16 walkers: ArviZ warns "More chains than draws", corner logs "Too few
    # points to create valid contours" through the root logger
    code, _, err = invoke(["fit", ws, "--out", out, "--no-progress", "--max-steps", "3",
                           "--allow-unconverged"])
    assert code == 0, err
    assert hidden_files(out) == []
    for foreign in ("WARNING", "More chains", "Shape validation", "contours", "Warning:"):
        assert foreign not in err, err
    assert all(ln.startswith(("tlsbayes:", "NOT CONVERGED", "!!!", "The posterior"))
               for ln in err.splitlines() if ln.strip()), err


# --------------------------------------------------------------------------------------------
# check refuses what fit refuses
# --------------------------------------------------------------------------------------------
_BAD_CARDS = {
    "walkers below 2 x parameters": ("nwalkers = 16", "nwalkers = 3"),
    "walkers above the limit": ("nwalkers = 16", "nwalkers = 200000"),
    "seed of 65 bits": ("seed = 3", f"seed = {2**64}"),
    "negative seed": ("seed = 3", "seed = -1"),
    "steps above the limit": ("max_steps = 4000", "max_steps = 1000000000"),
    "chain above 8 GiB": ("max_steps = 4000", "max_steps = 90000000"),
    "chunk of 0": ("chunk = 200", "chunk = 0"),
    "unknown sampler key": ("chunk = 200", "chunk = 200\nwalkrs = 3"),
    "every parameter fixed": ('delta0 = { dist = "loguniform", low = 1e-7, high = 1e-3 }',
                              'delta0 = { dist = "fixed", value = 1e-5 }\n'
                              'f0 = { dist = "fixed", value = 5e9 }'),
    "simulation too large": ("[sampler]", "[simulation]\n[simulation.datasets.f]\n"
                                          "x = { min = 0.02, max = 0.4, n = 10000000000 }\n"
                                          "\n[sampler]"),
    "prior outside the physical range": ("low = 1e-7", "low = -1e-7"),
}


@pytest.mark.parametrize("case", list(_BAD_CARDS))
def test_check_refuses_every_card_fit_refuses_with_the_same_line(ws, case):
    old, new = _BAD_CARDS[case]
    text = ws.read_text()
    assert old in text
    ws.write_text(text.replace(old, new, 1))
    out = ws.parent / "out"
    code_check, _, err_check = invoke(["check", ws])
    code_fit, _, err_fit = invoke(["fit", ws, "--out", out, "--no-progress"])
    assert (code_check, code_fit) == (2, 2), (err_check, err_fit)
    assert one_line(err_check) == one_line(err_fit)
    assert not out.exists()
