"""Convergence diagnostics and the F(a) table against commit bd8435a, side by side.

Run from the repository: ``python benchmarks/speed_vs_bd8435a.py``.  The old diagnostics
module and F table are read with ``git show`` into a temporary directory and timed in the same
process as the current ones (stop 9 of issue 3).
"""
import importlib.util
import json
import subprocess
import tempfile
from pathlib import Path

import numba
import numpy as np

OLD = "bd8435a"
tmp = Path(tempfile.mkdtemp())
for src, dst in (("tlsbayes/diagnostics.py", "old_diag.py"),
                 ("tlsbayes/physics/nems_F_table.json", "old_table.json")):
    (tmp / dst).write_bytes(subprocess.run(["git", "show", f"{OLD}:{src}"], check=True,
                                           capture_output=True).stdout)
spec = importlib.util.spec_from_file_location("old_diag", tmp / "old_diag.py")
O = importlib.util.module_from_spec(spec)
spec.loader.exec_module(O)
from tlsbayes.sampling import diagnostics as N
from tlsbayes.physics import nems
from tlsbayes.bench import median_time
rng = np.random.default_rng(0)
x = np.cumsum(rng.normal(size=(8000, 32, 4)), axis=0) * 0.01 + rng.normal(size=(8000, 32, 4))
tprev = N.integrated_time(x[:7500])
t_old = median_time(lambda: (O.integrated_time(x[4000:]), O.integrated_time(x)), min_time=1.0)
t_new = median_time(lambda: N.integrated_time(x, max_lag=int(10 * tprev.max()) + 16), min_time=1.0)
print(f"tau per check, 8000 x 32 x 4: old (half + full FFT) {t_old*1e3:.1f} ms, new {t_new*1e3:.1f} ms, ratio {t_old/t_new:.2f}")
blocks = N.walker_blocks(x, 4)
r_old = median_time(lambda: (O.ess_bulk(x.transpose(1, 0, 2)), O.split_rhat(blocks)), min_time=1.0)
r_new = median_time(lambda: N.rank_diagnostics(x, 4), min_time=1.0)
print(f"ESS + R-hat, 8000 x 32 x 4: old {r_old*1e3:.1f} ms, new {r_new*1e3:.1f} ms, ratio {r_old/r_new:.2f}")
# F: the old Clenshaw on the old table, against the new Horner table, same loop
old = json.loads((tmp / "old_table.json").read_text())
C = np.ascontiguousarray(np.array(old["coefficients"]))
@numba.njit
def F_old(t):
    i = int(t + 32.0)
    x = 2.0 * (t - (-32.0 + i)) - 1.0
    c = C[i]
    b1 = 0.0; b2 = 0.0
    for k in range(c.size - 1, 0, -1):
        b1, b2 = 2.0 * x * b1 - b2 + c[k], b1
    return x * b1 - b2 + c[0]
@numba.njit
def sum_old(t):
    s = 0.0
    for i in range(t.size): s += F_old(t[i])
    return s
@numba.njit
def sum_new(t):
    s = 0.0
    for i in range(t.size): s += nems.universal_F_of_log(t[i])
    return s
t = rng.uniform(-10, 10, 1000)
sum_old(t); sum_new(t)
a = median_time(lambda: sum_old(t)) / 1000 * 1e9
b = median_time(lambda: sum_new(t)) / 1000 * 1e9
print(f"F(t) per value (table part): old Clenshaw {a:.1f} ns, new Horner {b:.1f} ns, ratio {a/b:.2f}")
print("max |new/old - 1| over 1000 t:", max(abs(nems.universal_F_of_log(v) / F_old(v) - 1) for v in t))
