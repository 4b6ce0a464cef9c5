"""Small simulated multi-group data and a fast card, shared by test_batch and test_kill.

Three resonators R0, R1, R2 with known f0 and delta0 (frequency_shift model, 15 points from 20
to 400 mK, 300 Hz Gaussian noise, simulated by tlsbayes.simulate), plus optionally a group
``bad #1`` with a single row, which cannot be fitted.  The card's sampler settings are small
(16 walkers, ESS 400) so that one fit takes a few seconds.
"""

from __future__ import annotations

import os
from pathlib import Path

from tlsbayes.simulate import defrance_fshift

TRUTH = {"R0": (5.0e9, 1.0e-5), "R1": (5.5e9, 2.0e-5), "R2": (6.0e9, 5.0e-6)}
SEED = 3

CARD = """# SIMULATED multi-resonator f(T) for batch tests (tests/_batch_data.py)
[card]
name = "sim_fshift_groups"
simulated = true

[[dataset]]
name = "f"
model = "frequency_shift"
[dataset.data]
file = "{data}"
x = {{ column = "temperature_K" }}
y = {{ column = "f_res_Hz" }}
sigma = {{ column = "f_res_sigma_Hz" }}

[priors]
delta0 = {{ dist = "loguniform", low = 1e-7, high = 1e-3 }}

[sampler]
nwalkers = 16
chunk = {chunk}
checkpoint_seconds = 0  # a checkpoint at every chunk: the kill tests count on it
max_steps = 4000
target_ess = 400
tau_factor = 30
seed = {seed}
progress = {progress}
"""


def write_csv(path, groups=("R0", "R1", "R2"), bad=True) -> Path:
    """Write the simulated table with ``groups`` (in this order) and the bad group."""
    lines = ["# SIMULATED by tests/_batch_data.py (tlsbayes.simulate.defrance_fshift)",
             "resonator,temperature_K,f_res_Hz,f_res_sigma_Hz"]
    for g in groups:
        f0, d0 = TRUTH[g]
        _, T, f, s, _ = defrance_fshift(f0, d0, T=(0.02, 0.4), n=15, sigma_hz=300.0,
                                        seed=int(g[1:]))
        lines += [f"{g},{t:.6g},{ff:.3f},{ss:g}" for t, ff, ss in zip(T, f, s)]
    if bad:
        lines.append("bad #1,0.1,5000000000,300")
    path = Path(path)
    path.write_text("\n".join(lines) + "\n")
    return path


def write_card(path, data="groups.csv", *, chunk=200, progress=False, seed=SEED) -> Path:
    path = Path(path)
    path.write_text(CARD.format(data=data, chunk=chunk, seed=seed,
                                progress="true" if progress else "false"))
    return path


def tlsbayes_command():
    """The tlsbayes console script of this interpreter's environment."""
    import sys

    exe = Path(sys.executable).with_name("tlsbayes")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "tlsbayes.cli"]


def subprocess_env():
    env = dict(os.environ)
    env.setdefault("MPLBACKEND", "Agg")
    return env


def die_on_r1(task):
    """Batch task that kills its worker process for group R1 and fits the others."""
    from tlsbayes.batch import fit_group

    if task.group == "R1":
        os._exit(1)
    return fit_group(task)


def leave_traces(path):
    """Task for a local pool: print without a newline, register an exit handler that writes
    ``path``; returns the worker's pid (the pool's quick exit must keep both)."""
    import atexit

    print(f"partial line of {os.getpid()}", end="")
    atexit.register(Path(path).write_text, "exit handler ran")
    return os.getpid()
