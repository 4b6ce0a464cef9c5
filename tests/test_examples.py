"""Every example command of the README and of the ``--help`` texts is run, and its exit status
and output checked.

The commands are read from the README's ```bash blocks and from the ``examples:`` epilogs of
the subcommands, and each must have an entry in :data:`HOW` (a new example without one fails
:func:`test_every_example_has_an_entry`).  An entry runs the command as written, or a named
faster variant (a step cap, no figures) where the full run takes minutes, or says why it is
not run (installing, the test suite itself, a synopsis with placeholders).  Commands run
in-process (``tlsbayes.cli.main``) in a scratch directory that holds ``models`` (a link to the
repository's) and, beside it, ``shared`` (the real data), as a fresh clone would.
"""

from __future__ import annotations

import glob
import io
import re
import shlex
import shutil
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import pytest

from _chromium import CHROMIUM, render
from tlsbayes import cli
from tlsbayes.io import real_data_dir

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"


def readme_commands(text: str) -> list:
    """The commands of the README's ```bash blocks: continuation lines joined, comments and
    blank lines dropped, ``a && b`` split."""
    out = []
    for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S):
        for line in re.sub(r"\\\n\s*", " ", block).splitlines():
            line = re.sub(r"\s+#.*$", "", line).strip()
            if line and not line.startswith("#"):
                out += [" ".join(p.split()) for p in line.split("&&")]
    return out


def help_commands() -> list:
    """The commands of every subcommand's ``examples:`` epilog."""
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    out = []
    for p in sub.choices.values():
        epilog = p.epilog or ""
        if epilog.startswith("examples:"):
            out += [" ".join(line.split()) for line in epilog.splitlines()[1:] if line.strip()]
    return out


@dataclass(frozen=True)
class How:
    """How the test runs one example: ``run`` = the argv actually run (None: not run, see
    ``why``), the exit status and a text the output must hold; ``slow`` marks minutes."""

    run: str | None = ""       # "" = the command as written
    exit: int = 0
    needle: str = ""
    why: str = ""
    slow: bool = False


STEP_CAP = " --max-steps 300 --plots none"
HOW = {
    "python3 -m venv .venv": How(None, why="installing: what CI's set-up does"),
    ".venv/bin/pip install -q -e .": How(None, why="installing"),
    '.venv/bin/pip install -q -e ".[test]"': How(None, why="installing"),
    ".venv/bin/python -m pytest": How(None, why="the test suite itself"),
    ".venv/bin/tlsbayes fit models/defrance_B2_809MHz_qpower.toml": How(
        needle="converged after"),
    "tlsbayes models": How(needle="maillet_SiN_damping_N.toml"),
    "tlsbayes check models/maillet_SiN_damping_N.toml": How(needle="card and data are valid"),
    "tlsbayes fit models/maillet_SiN_damping_N.toml": How(needle="converged after"),
    "tlsbayes report results/runs/maillet_SiN_damping_N": How(needle="report.md"),
    "tlsbayes report results/runs/maillet_SiN_damping_N --plots none --html": How(
        needle="report.html"),
    "tlsbayes fit models/maillet_SiN_fshift.toml --plots none": How(needle="figures skipped"),
    "tlsbayes resume results/runs/maillet_SiN_damping_N": How(),
    "tlsbayes bench": How("tlsbayes bench --quick --no-fits", needle="speed-up",
                          why="the full bench fits every card three times (minutes)",
                          slow=True),
    "tlsbayes simulate models/defrance_B2_809MHz_qpower.toml --out sim.csv --seed 1": How(
        needle="SIMULATED"),
    "tlsbayes design models/defrance_B2_809MHz_qpower.toml --plan "
    "models/plans/defrance_B2_809MHz_lower_T.toml": How(needle="design written", slow=True),
    "tlsbayes s21 ../shared/data/real/s21/nyu_al_inp_T_sweep --out results/s21_nyu "
    "--workers 2": How(needle="20 traces", slow=True),
    "tlsbayes batch models/real/gaas_trilayer_resB_qpower.toml --group-by resonator "
    "--workers 2 --out results/batch/gaas": How(
        "tlsbayes batch models/real/gaas_trilayer_resB_qpower.toml --group-by resonator "
        "--workers 2 --out results/batch/gaas" + STEP_CAP, exit=3, needle="not converged",
        why="step cap: ResonatorA runs to its 20 000-step cap (exit 3 either way)", slow=True),
    "tlsbayes batch CARD --data table.csv --group-by resonator --scheduler tcp://host:8786 "
    "--out DIR": How(None, why="synopsis with placeholders (a Dask cluster)"),
    "mpiexec -n 1 tlsbayes batch CARD --group-by resonator --mpi --workers 8 --out DIR": How(
        None, why="synopsis with placeholders (MPI)"),
    "tlsbayes compare RUN_DIR RUN_DIR ... [--names a,b] [--by observation|dataset] "
    "[--out DIR]": How(None, why="synopsis with placeholders"),
    "tlsbayes fit models/real/ta_LGS1_5p70GHz_qpower.toml --plots none": How(
        needle="figures skipped"),
    "tlsbayes fit models/real/nyu_al_inp_fshift_from_s21_output.toml --allow-outside-data": How(
        needle="converged after", slow=True),
}
for _card in ("ta_LGS1_H3A3_cooldown1_batch", "ta_LGS1_H3A3_cooldown3_batch",
              "ta_SGS1_H2A2_wIRfilters_cooldown4_batch"):
    _cmd = (f"tlsbayes batch models/real/{_card}.toml --group-by resonator --workers 2 --out "
            f"results/runs/populations/ta/{_card}")
    # capped at 300 steps, the card's own resonators stop unconverged: exit 3
    HOW[_cmd] = How(_cmd + STEP_CAP, exit=3, needle="not converged", slow=True,
                    why="step cap: the population example checks the plumbing, not the values")
HOW["tlsbayes population --group LGS1 results/runs/populations/ta/ta_LGS1_*/runs/* --group "
    "SGS1 results/runs/populations/ta/ta_SGS1_*/runs/* --out results/populations/ta"] = How(
        needle="11 resonators in 2 group(s)", slow=True)

README_COMMANDS = readme_commands(README.read_text(encoding="utf-8"))
HELP_COMMANDS = help_commands()


def test_every_example_has_an_entry():
    missing = [c for c in README_COMMANDS + HELP_COMMANDS if c not in HOW]
    assert not missing, f"add to tests/test_examples.py HOW: {missing}"
    stale = [c for c in HOW if c not in README_COMMANDS + HELP_COMMANDS]
    assert not stale, f"no longer in the README or --help: {stale}"


def test_help_texts_cite_cards_that_exist():
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    texts = [p.format_help() for p in sub.choices.values()]
    cited = set(re.findall(r"models/[\w./-]+\.toml", "\n".join(texts)))
    assert cited
    assert not [c for c in cited if not (ROOT / c).is_file()]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """A scratch 'clone': models linked in, the real data beside it as ../shared/data/real."""
    top = tmp_path_factory.mktemp("clone")
    repo = top / "repo"
    repo.mkdir()
    # a copy, not a link: a card's relative data path (../../results/s21_nyu) must resolve
    # inside the scratch clone
    shutil.copytree(ROOT / "models", repo / "models")
    real = real_data_dir()
    if real.is_dir():
        (top / "shared" / "data").mkdir(parents=True)
        (top / "shared" / "data" / "real").symlink_to(real)
    return repo


def run_example(command: str, repo: Path, monkeypatch) -> tuple:
    how = HOW[command]
    argv = shlex.split(how.run or command)
    assert argv[0] == "tlsbayes" or argv[0].endswith("/tlsbayes"), command
    monkeypatch.chdir(repo)
    args = []
    for a in argv[1:]:
        args += sorted(glob.glob(a)) if "*" in a else [a]
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = cli.main(args)
    return code, out.getvalue() + err.getvalue()


def _check(command, repo, monkeypatch):
    how = HOW[command]
    if any(tok.startswith("models/real/") or "shared/data/real" in tok
           for tok in command.split()) and not (repo.parent / "shared").exists():
        pytest.skip("shared real data not found (set TLSBAYES_REAL_DATA)")
    code, text = run_example(command, repo, monkeypatch)
    assert code == how.exit, f"{command}: exit {code}\n{text[-3000:]}"
    assert how.needle in text, f"{command}: {how.needle!r} not in\n{text[-3000:]}"
    return text


QUICK_START = [c for c in README_COMMANDS if c.startswith("tlsbayes ") and "damping_N" in c
               or c in ("tlsbayes fit models/maillet_SiN_fshift.toml --plots none",)]


def test_quick_start_in_order(workspace, monkeypatch):
    """check, fit, report, report --html, fit --plots none, resume: as the README lists them."""
    for command in QUICK_START:
        _check(command, workspace, monkeypatch)
    page = workspace / "results/runs/maillet_SiN_damping_N/report.html"
    assert page.read_text(encoding="utf-8").count("data:image/svg+xml;base64,") == 3
    if CHROMIUM is not None:  # the three figures decode in a real browser
        dom, sizes = render(page, workspace.parent)
        assert len(sizes) == 3 and all(w > 100 and h > 100 for w, h in sizes), sizes
        assert "maillet_SiN_damping_N" in dom


INDEPENDENT = [c for c in HOW if HOW[c].run is not None and c not in QUICK_START
               and not HOW[c].slow and "populations/ta" not in c]


@pytest.mark.parametrize("command", INDEPENDENT)
def test_example(command, workspace, monkeypatch):
    _check(command, workspace, monkeypatch)


#: Examples that use the output of the one before them, run in that order in one clone.
S21_THEN_FIT = list(dict.fromkeys(  # the README shows the s21 command twice
    c for c in README_COMMANDS if c.startswith("tlsbayes s21 ")
    or "nyu_al_inp_fshift_from_s21_output" in c))
SLOW = [c for c in HOW if HOW[c].run is not None and HOW[c].slow and "populations/ta" not in c
        and c not in S21_THEN_FIT]


@pytest.mark.slow
@pytest.mark.parametrize("command", SLOW)
def test_slow_example(command, workspace, monkeypatch):
    _check(command, workspace, monkeypatch)


@pytest.mark.slow
def test_s21_traces_then_the_tls_fit_of_their_output(workspace, monkeypatch):
    """The README's raw-trace quick start: s21 writes results/s21_nyu, the card reads it."""
    assert len(S21_THEN_FIT) == 2 and S21_THEN_FIT[0].startswith("tlsbayes s21")
    for command in S21_THEN_FIT:
        _check(command, workspace, monkeypatch)


@pytest.mark.slow
def test_population_example_on_a_fresh_clone(workspace, monkeypatch):
    """The README's population snippet, batches first, in one scratch clone."""
    snippet = [c for c in README_COMMANDS if "populations/ta" in c]
    assert len(snippet) == 4 and snippet[-1].startswith("tlsbayes population")
    for command in snippet:
        text = _check(command, workspace, monkeypatch)
    assert (workspace / "results/populations/ta/population.md").is_file(), text
