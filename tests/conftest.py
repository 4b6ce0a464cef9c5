"""The README's test command, ``python -m pytest`` (the whole suite), on two processes.

CI runs exactly that command on a 2-core machine.  When pytest-xdist is installed (it is in the
``test`` extras) and the run is the whole suite (no test paths on the command line, so the
``testpaths`` of pyproject.toml), this hook asks for ``-n 2 --dist loadfile``: the tests of one
file stay in one process, so a module-scoped fixture (a batch, four fits) is computed once.
Nothing changes when test paths are given (``python -m pytest tests/test_batch.py``), when
``-n`` is given (``-n 0`` runs in one process), with ``-p no:xdist``, on a 1-CPU machine, or
with ``TLSBAYES_TEST_PROCESSES=1`` in the environment.
"""

from __future__ import annotations

import os

import pytest


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config):
    wanted = int(os.environ.get("TLSBAYES_TEST_PROCESSES", "2"))
    if (getattr(config.option, "numprocesses", False) is not None  # no xdist, or -n given
            or config.args_source != pytest.Config.ArgsSource.TESTPATHS
            or os.environ.get("PYTEST_XDIST_WORKER")
            or config.getoption("collectonly") or config.getoption("usepdb")
            or wanted < 2 or (os.cpu_count() or 1) < 2):
        return
    config.option.numprocesses = min(wanted, os.cpu_count() or 1)
    if config.option.dist == "no":
        config.option.dist = "loadfile"
