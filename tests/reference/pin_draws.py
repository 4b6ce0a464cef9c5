"""Fit shipped cards for 1000 steps and digest posterior.nc (see tests/test_pinned_draws.py).

``python tests/reference/pin_draws.py`` rewrites ``tests/reference/pinned_draws.json``; do it
only for a change that is meant to change the chain, and say why in the commit.
"""

import hashlib
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import h5py
import numpy as np

CARDS = ["models/defrance_B2_809MHz_qpower.toml", "models/maillet_SiN_damping_N.toml",
         "models/real/ta_LGS1_5p70GHz_qpower.toml"]
GROUPS = ("posterior", "sample_stats", "log_likelihood")


def run_and_digest(card, outdir, *, root):
    """Fit ``card`` (relative to ``root``) for 1000 steps into ``outdir``; digest its arrays.

    Returns
    -------
    dict
        ``"group/name" -> [sha256 prefix, repr(first element), repr(last element)]`` for every
        array of at least two dimensions in the groups above.
    """
    cmd = [sys.executable, "-m", "tlsbayes.cli", "fit", str(Path(root) / card), "--out",
           str(outdir), "--max-steps", "1000", "--no-progress", "--allow-unconverged"]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=root)
    if proc.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} exited {proc.returncode}: {proc.stderr[-2000:]}")
    out = {}
    with h5py.File(Path(outdir) / "posterior.nc", "r") as f:
        for g in GROUPS:
            for k in sorted(f[g].keys()):
                v = f[g][k]
                if v.ndim >= 2:
                    a = np.ascontiguousarray(v[...], dtype=np.float64)
                    out[f"{g}/{k}"] = [hashlib.sha256(a.tobytes()).hexdigest()[:16],
                                       repr(float(a.flat[0])), repr(float(a.flat[-1]))]
    return out


def main():
    root = Path(__file__).resolve().parents[2]
    pins = {}
    with tempfile.TemporaryDirectory() as tmp:
        for card in CARDS:
            pins[card] = run_and_digest(card, Path(tmp) / Path(card).stem, root=root)
    (root / "tests" / "reference" / "pinned_draws.json").write_text(json.dumps(pins, indent=1)
                                                                     + "\n")


if __name__ == "__main__":
    main()
