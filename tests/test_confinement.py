"""Confinement of data paths (issue 15): what a card, a run directory or a data table can make
tlsbayes read, and what its messages show.

A card reads data from its own folder tree, the shared real-data directory and files named on
the command line; anything else needs ``--allow-outside-data``.  A run directory (run.json,
the card copy) cannot widen this, and an HDF5 table cannot pull in other files.  Every test
plants a secret token in a file outside the allowed folders and checks that it never appears
in the output.  Each fails on the code before confinement (which read and echoed the file).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest

import _batch_data as BD
from tlsbayes import card as tcard
from tlsbayes.cli import main
from tlsbayes.errors import CardError, DataError
from tlsbayes.io import read_table

TOKEN = "TOKEN-s3cr3t-7f3a"
REPO = Path(__file__).resolve().parents[1]


def invoke(argv) -> tuple[int, str]:
    """``tlsbayes.cli.main(argv)`` in-process: (exit code, stdout + stderr)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        code = main([str(a) for a in argv])
    return code, out.getvalue()


def _refused(argv, *needles) -> str:
    """Run ``argv``: exit 2, one line, the needles in it, the token nowhere."""
    code, out = invoke(argv)
    lines = out.strip().splitlines()
    assert code == 2, out
    assert len(lines) == 1 and "Traceback" not in out, out
    assert TOKEN not in out
    for n in needles:
        assert n in lines[0], (n, lines[0])
    return lines[0]


@pytest.fixture(autouse=True)
def real_root(tmp_path, monkeypatch):
    """A shared real-data directory of its own, away from the secret."""
    root = tmp_path / "real"
    root.mkdir()
    monkeypatch.setenv("TLSBAYES_REAL_DATA", str(root))
    return root


def _secret(folder: Path) -> Path:
    """A table in the card's layout whose cells and header hold the token."""
    folder.mkdir(parents=True, exist_ok=True)
    p = folder / "groups.csv"
    p.write_text(f"# {TOKEN}\nresonator,temperature_K,f_res_Hz,f_res_sigma_Hz\n"
                 f"{TOKEN},0.1,{TOKEN},300\n{TOKEN},0.2,5e9,300\n")
    return p


@pytest.fixture
def ws(tmp_path):
    """A card and its data in ``w/``, a secret table in ``secret/`` beside it."""
    w = tmp_path / "w"
    w.mkdir()
    BD.write_csv(w / "groups.csv", groups=("R0",), bad=False)
    BD.write_card(w / "card.toml")
    _secret(tmp_path / "secret")
    return w


def _card_with(ws: Path, file: str) -> Path:
    card = ws / "c.toml"
    card.write_text((ws / "card.toml").read_text().replace('"groups.csv"', json.dumps(file)))
    return card


# --------------------------------------------------------------------------------------------
# the card's own paths
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["absolute", "dotdot", "real_dotdot", "symlink",
                                  "real_symlink"])
def test_card_paths_leaving_its_folder_are_refused(ws, real_root, kind):
    secret = ws.parent / "secret" / "groups.csv"
    file = {"absolute": str(secret), "dotdot": "../secret/groups.csv",
            "real_dotdot": "{real}/../secret/groups.csv", "symlink": "sub/link.csv",
            "real_symlink": "{real}/link.csv"}[kind]
    if kind == "symlink":
        (ws / "sub").mkdir()
        (ws / "sub" / "link.csv").symlink_to(secret)
    if kind == "real_symlink":
        (real_root / "link.csv").symlink_to(secret)
    card = _card_with(ws, file)
    needle = {"absolute": "is an absolute path", "symlink": f"resolves to {secret}",
              "real_symlink": f"resolves to {secret}"}.get(kind, "with '..'")
    for cmd in ("check", "fit", "simulate"):
        extra = ["--out", ws / "o.csv"] if cmd == "simulate" else ["--out", ws / "run"]
        _refused([cmd, card, *(extra if cmd != "check" else [])],
                 f"{card}: [dataset.data] file {file!r}", needle, "--allow-outside-data")
    assert not (ws / "run").exists() and not (ws / "o.csv").exists()
    # the same through the library: a card parsed without the user's consent is refused
    with pytest.raises(CardError):
        tcard.load_card(card)


def test_the_user_may_choose_to_read_outside(ws):
    """--allow-outside-data, and a file named on the command line, are the user's choice."""
    other = ws.parent / "elsewhere"
    other.mkdir()
    shutil.copy(ws / "groups.csv", other / "data.csv")
    card = _card_with(ws, "../elsewhere/data.csv")
    code, out = invoke(["check", card, "--allow-outside-data"])
    assert code == 0, out
    code, out = invoke(["check", ws / "card.toml", "--data", other / "data.csv"])
    assert code == 0, out
    assert tcard.load_card(card, allow_outside_data=True).datasets[0].path.is_file()


def test_paths_inside_the_folder_and_the_shared_root_are_read(ws, real_root):
    (ws / "sub").mkdir()
    shutil.copy(ws / "groups.csv", ws / "sub" / "g.csv")
    (ws / "sub" / "inner.csv").symlink_to(ws / "groups.csv")  # a link that stays inside
    shutil.copy(ws / "groups.csv", real_root / "g.csv")
    for file in ("sub/g.csv", "./sub/inner.csv", "{real}/g.csv"):
        code, out = invoke(["check", _card_with(ws, file)])
        assert code == 0, (file, out)


def test_every_shipped_card_stays_in_its_folder_or_the_shared_root(monkeypatch):
    monkeypatch.delenv("TLSBAYES_REAL_DATA")  # the default shared root
    cards = sorted((REPO / "models").rglob("*.toml"))
    cards = [c for c in cards if "plans" not in c.parts]
    # the README's quick start from raw traces reads results/s21_nyu (fitted with the flag)
    outside = {"nyu_al_inp_fshift_from_s21_output.toml"}
    assert len(cards) > 50
    for c in cards:
        if c.name in outside:
            with pytest.raises(CardError, match="--allow-outside-data"):
                tcard.load_card(c)
            assert tcard.load_card(c, allow_outside_data=True).name
            continue
        card = tcard.load_card(c)  # raises if a data path leaves the allowed folders
        assert all(d.path.resolve().is_relative_to(c.parent.resolve())
                   or d.data["file"].startswith("{real}/") for d in card.datasets), c


# --------------------------------------------------------------------------------------------
# a run directory cannot widen what is read
# --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A finished run of the small card (``w/run``)."""
    root = tmp_path_factory.mktemp("finished")
    w = root / "w"
    w.mkdir()
    BD.write_csv(w / "groups.csv", groups=("R0",), bad=False)
    BD.write_card(w / "card.toml")
    code, out = invoke(["fit", w / "card.toml", "--out", w / "run", "--no-progress",
                        "--plots", "none"])
    assert code == 0, out
    return w


@pytest.fixture
def run(finished, tmp_path):
    """A copy of the finished run's workspace in ``tmp_path/w`` and a secret beside it."""
    w = tmp_path / "w"
    shutil.copytree(finished, w, symlinks=True)
    _edit_run_json(w / "run", card=str(w / "card.toml"))
    _secret(tmp_path / "secret")
    return w / "run"


def _edit_run_json(run: Path, **changes) -> None:
    info = json.loads((run / "run.json").read_text())
    info.update(changes)
    (run / "run.json").write_text(json.dumps(info))


def test_report_and_resume_of_an_untouched_run_read_its_data(run):
    code, out = invoke(["report", run, "--plots", "none"])
    assert code == 0, out
    # the card was edited since the fit (not its data files): its folder is still trusted
    card = run.parent / "card.toml"
    card.write_text(card.read_text().replace("progress =", "# edited\nprogress ="))
    code, out = invoke(["report", run, "--plots", "none"])
    assert code == 0, out


def test_a_run_the_user_fitted_outside_needs_the_flag_again_for_report(tmp_path):
    """fit --allow-outside-data of a card with a '..' path: report and resume of that run are
    refused without the flag (a run directory cannot give it) and work with it."""
    w, other = tmp_path / "w", tmp_path / "elsewhere"
    w.mkdir()
    other.mkdir()
    BD.write_csv(other / "groups.csv", groups=("R0",), bad=False)
    BD.write_card(w / "card.toml", data="../elsewhere/groups.csv")
    argv = ["fit", w / "card.toml", "--out", w / "run", "--no-progress", "--plots", "none"]
    _refused(argv, "goes up with '..'")
    code, out = invoke([*argv, "--allow-outside-data"])
    assert code == 0, out
    for cmd in ("report", "resume"):
        _refused([cmd, w / "run"], "goes up with '..'", "--allow-outside-data")
    code, out = invoke(["report", w / "run", "--plots", "none", "--allow-outside-data"])
    assert code == 0, out
    assert "sim_fshift_groups" in (w / "run" / "report.md").read_text()


def test_a_crafted_data_override_is_not_read(run):
    secret = run.parent.parent / "secret" / "groups.csv"
    _edit_run_json(run, data_override=str(secret))
    for cmd in ("report", "resume"):
        _refused([cmd, run], "run.json: data_override", "--allow-outside-data")


def test_a_data_override_outside_needs_the_users_choice(run):
    """A fit's --data outside the card's folder: report asks for --allow-outside-data."""
    other = run.parent.parent / "elsewhere"
    other.mkdir()
    shutil.copy(run.parent / "groups.csv", other / "groups.csv")  # the same bytes
    _edit_run_json(run, data_override=str(other / "groups.csv"))
    _refused(["report", run, "--plots", "none"], "data_override", "--allow-outside-data")
    code, out = invoke(["report", run, "--plots", "none", "--allow-outside-data"])
    assert code == 0, out


def test_a_crafted_card_location_is_not_trusted(run):
    """run.json names a card where none is: its folder (holding the secret) is not read."""
    secret_dir = run.parent.parent / "secret"
    _edit_run_json(run, card=str(secret_dir / "card.toml"))
    for cmd in ("report", "resume"):
        _refused([cmd, run], "file 'groups.csv' is outside the shared data directory",
                 "not trusted", "--allow-outside-data")
    # a card that is there but names other data files does not make the folder trusted
    (secret_dir / "card.toml").write_text(
        (run.parent / "card.toml").read_text().replace('"groups.csv"', '"other.csv"'))
    _refused(["report", run], "not trusted")


def test_a_crafted_card_copy_is_confined(run):
    copy = run / "card.toml"
    copy.write_text(copy.read_text().replace('"groups.csv"', '"../../secret/groups.csv"'))
    for cmd in ("report", "resume"):
        _refused([cmd, run], "[dataset.data] file '../../secret/groups.csv'", "'..'")


def test_a_damaged_data_override_is_one_line(run):
    _edit_run_json(run, data_override=["not", "a", "path"])
    _refused(["report", run], "run.json: damaged, key 'data_override'")


# --------------------------------------------------------------------------------------------
# HDF5 / NetCDF tables read only themselves, and bad attributes are one line
# --------------------------------------------------------------------------------------------
def _h5(path: Path, build) -> Path:
    with h5py.File(path, "w") as f:
        f["temperature_K"] = np.linspace(0.02, 0.4, 5)
        f["f_res_Hz"] = 5e9 - np.arange(5.0)
        build(f)
    return path


def _external_storage(f):
    f.create_dataset("f_res_sigma_Hz", shape=(5,), dtype="f8",
                     external=[(str(Path(f.filename).parent / "secret.bin"), 0, 40)])


def _external_link(f):
    f["f_res_sigma_Hz"] = h5py.ExternalLink(str(Path(f.filename).parent / "secret.h5"), "/s")


def _soft_loop(f):
    f["a"] = h5py.SoftLink("/b")
    f["b"] = h5py.SoftLink("/a")


def _virtual(f):
    layout = h5py.VirtualLayout(shape=(5,), dtype="f8")
    layout[:] = h5py.VirtualSource(str(Path(f.filename).parent / "secret.h5"), "s", shape=(5,))
    f.create_virtual_dataset("f_res_sigma_Hz", layout)


def _attr(key, value):
    def build(f):
        f["f_res_sigma_Hz"] = np.full(5, 300.0)
        f["f_res_sigma_Hz"].attrs[key] = value
    return build


def _compound(dtype):
    def build(f):
        f["table"] = np.zeros(5, dtype=dtype)
    return build


@pytest.mark.parametrize("build,needles", [
    (_external_storage, ["member /f_res_sigma_Hz", "external storage"]),
    (_external_link, ["member /f_res_sigma_Hz", "external link"]),
    (_virtual, ["member /f_res_sigma_Hz", "virtual dataset"]),
    (_soft_loop, ["member /a", "soft link that does not resolve"]),
    (_attr("_FillValue", TOKEN), ["column 'f_res_sigma_Hz'", "_FillValue must be a number"]),
    (_attr("missing_value", np.bytes_(TOKEN)), ["missing_value must be a number"]),
    (_attr("scale_factor", TOKEN), ["column 'f_res_sigma_Hz'", "scale_factor must be a number"]),
    (_attr("add_offset", np.zeros(1, dtype=[("a", "f8")])), ["add_offset must be a number"]),
    (_compound([("x", "f8"), ("rec", [("a", "i4"), ("b", "f4")])]),
     ["variable 'table', field 'rec'", "nested record"]),
    (_compound([("x", "f8"), ("arr", "f8", (3,))]),
     ["variable 'table', field 'arr'", "array of shape (3,)"]),
], ids=["external_storage", "external_link", "virtual", "soft_loop", "fillvalue_text",
        "missing_bytes", "scale_text", "offset_record", "compound_nested", "compound_array"])
def test_hdf5_tables_that_reach_out_or_are_malformed_are_one_line(ws, build, needles):
    (ws / "secret.bin").write_bytes(TOKEN.encode().ljust(40, b"!"))
    with h5py.File(ws / "secret.h5", "w") as f:
        f["s"] = np.array([TOKEN.encode()] * 5)
    table = _h5(ws / "t.h5", build)
    with pytest.raises(DataError) as exc:
        read_table(table)
    msg = str(exc.value)
    assert msg.startswith(f"{table}") and "\n" not in msg and TOKEN not in msg, msg
    for n in needles:
        assert n in msg, (n, msg)
    # through the command line: exit 2, one line naming the card and the table
    _refused(["check", _card_with(ws, "t.h5")], f"{ws / 'c.toml'}: data set 'f': {table}",
             *needles)


def test_netcdf3_attribute_of_the_wrong_type_is_one_line(tmp_path):
    from scipy.io import netcdf_file

    p = tmp_path / "t.nc"
    with netcdf_file(p, "w") as f:
        f.createDimension("row", 3)
        v = f.createVariable("x", "d", ("row",))
        v[:] = [1.0, 2.0, 3.0]
        v.scale_factor = TOKEN
    with pytest.raises(DataError) as exc:
        read_table(p)
    assert str(exc.value) == (f"{p}, column 'x': attribute scale_factor must be a number (it "
                              "is text); fix or remove the attribute")


def test_a_soft_link_inside_the_file_is_read(tmp_path):
    p = _h5(tmp_path / "t.h5", lambda f: f.__setitem__("alias", h5py.SoftLink("/f_res_Hz")))
    t = read_table(p)
    assert t.cells["alias"] == t.cells["f_res_Hz"]


# --------------------------------------------------------------------------------------------
# messages
# --------------------------------------------------------------------------------------------
def test_messages_about_a_confined_file_never_show_its_content(ws):
    """Whatever path leads to the secret, neither its header nor its cells are printed."""
    secret = ws.parent / "secret" / "groups.csv"
    os.symlink(secret, ws / "data.csv")
    for argv in (["check", _card_with(ws, str(secret))],
                 ["check", _card_with(ws, "../secret/groups.csv")],
                 ["check", _card_with(ws, "data.csv")],
                 ["batch", _card_with(ws, "data.csv"), "--group-by", "resonator", "--out",
                  ws / "b"]):
        _refused(argv)


@pytest.mark.parametrize("posterior", ["../secret.nc", "ABS", "link.nc"])
def test_a_traces_table_reads_posteriors_only_in_its_own_folder(tmp_path, posterior):
    """The posterior column of a 'tlsbayes s21' traces table cannot lead out of its folder."""
    from tlsbayes.io import load_traces

    (tmp_path / "secret.nc").write_text(TOKEN)
    out = tmp_path / "out"
    out.mkdir()
    (out / "link.nc").symlink_to(tmp_path / "secret.nc")
    name = str(tmp_path / "secret.nc") if posterior == "ABS" else posterior
    rows = "\n".join(f"t{i}.csv,ok,{-100 + 10 * i},{1e5 * (i + 1)},{name}" for i in range(3))
    (out / "traces.csv").write_text(f"file,status,power_dBm,Qi,posterior\n{rows}\n")
    with pytest.raises(DataError) as exc:
        load_traces(out, x={"column": "power_dBm"}, y={"column": "Qi", "kind": "Qi"})
    assert str(exc.value) == (f"{out / 'traces.csv'}, line 2, column 'posterior': names a file "
                              "outside the traces table's folder; a traces table reads only "
                              "its own folder (as 'tlsbayes s21' writes it)")
