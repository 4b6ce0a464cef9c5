"""The process set-up of a ``tlsbayes`` command (tlsbayes.process): made by the program, with
the user's thread settings kept, and never by a call from Python."""

import gc
import os
import subprocess
import sys
from pathlib import Path

from tlsbayes import process
from tlsbayes.cli import main

ROOT = Path(__file__).resolve().parents[1]

_SHOW = ("import os, sys; from tlsbayes import process\n"
         "print(process.setup(), os.environ.get('OPENBLAS_NUM_THREADS'), 'numpy' in sys.modules)")


def _fresh(code, **env_vars):
    env = {k: v for k, v in os.environ.items() if k not in process.BLAS_THREAD_VARIABLES}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, env={**env, **env_vars}, check=True)
    return proc.stdout.split()


def test_setup_makes_blas_single_threaded_before_numpy_loads():
    assert _fresh(_SHOW) == ["True", "1", "False"]


def test_setup_keeps_the_users_thread_setting():
    assert _fresh(_SHOW, OMP_NUM_THREADS="2") == ["False", "None", "False"]
    assert _fresh(_SHOW, OPENBLAS_NUM_THREADS="3") == ["False", "3", "False"]


def test_a_child_environment_gets_one_blas_thread_unless_it_names_a_count():
    env = {"PATH": "/bin"}
    assert process.single_blas_thread(env) and env["OPENBLAS_NUM_THREADS"] == "1"
    env = {"GOTO_NUM_THREADS": "4"}
    assert not process.single_blas_thread(env) and env == {"GOTO_NUM_THREADS": "4"}


def test_setup_after_numpy_has_loaded_changes_no_variable():
    assert _fresh("import numpy\n" + _SHOW) == ["False", "None", "True"]


def test_a_call_of_main_from_python_leaves_the_process_as_it_was(capsys):
    threshold, frozen = gc.get_threshold(), gc.get_freeze_count()
    assert main(["models"]) == 0
    assert gc.get_threshold() == threshold and gc.get_freeze_count() == frozen
    assert threshold[0] != process.GC_THRESHOLD0  # else the check above proves nothing


def test_the_program_runs_with_one_blas_thread_and_freezes_at_exit():
    code = ("import atexit, gc, os, sys\n"
            "from tlsbayes.cli import main\n"
            "atexit.register(lambda: print(os.environ.get('OPENBLAS_NUM_THREADS'), "
            "gc.get_threshold()[0], gc.get_freeze_count() > 0))\n"
            "sys.argv = ['tlsbayes', 'models']\n"
            "main()")
    out = _fresh(code)
    assert out[-3:] == ["1", str(process.GC_THRESHOLD0), "True"]
