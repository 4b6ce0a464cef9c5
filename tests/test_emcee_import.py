"""emcee without scipy.stats (``tlsbayes.sampling.emcee_import``): a fit never imports
scipy.stats (1.3-1.6 s, for emcee's unused KDE move), and the KDE move still works."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_CHILD = """
import json, sys
import numpy as np
out = {}
import tlsbayes.sampling.runner
out["runner"] = "scipy.stats" in sys.modules
from tlsbayes.fit import fit_card
fit_card(sys.argv[1], out=sys.argv[2], max_steps=200, progress=False, plots="all",
         print_fn=lambda *a, **k: None)
out["fit"] = "scipy.stats" in sys.modules
from tlsbayes.sampling.emcee_import import emcee
s = emcee.EnsembleSampler(16, 2, lambda x: -0.5 * float(x @ x), moves=emcee.moves.KDEMove())
s.run_mcmc(np.random.default_rng(0).normal(size=(16, 2)), 30)
out["kde_acceptance"] = float(np.mean(s.acceptance_fraction))
out["kde"] = "scipy.stats" in sys.modules
print(json.dumps(out))
"""


def test_a_fit_imports_no_scipy_stats_and_the_kde_move_still_works(tmp_path):
    card = ROOT / "models" / "maillet_SiN_fshift.toml"
    proc = subprocess.run([sys.executable, "-c", _CHILD, str(card), str(tmp_path / "run")],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["runner"] is False and out["fit"] is False
    # KDEMove: scipy's gaussian_kde, imported when the first proposal is made
    assert out["kde"] is True and out["kde_acceptance"] > 0.2
