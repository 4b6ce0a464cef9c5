"""``tlsbayes bench --startup``: the side-by-side table (its numbers are measured, not tested)."""

from tlsbayes import bench_startup


def test_report_lines_show_the_ratio_the_phases_and_the_quick_commands():
    phases = {"imports": 0.4, "map": 0.3, "sampling": 1.0, "results": 0.2, "report": 0.1,
              "plots": 1.5}
    cpu = {k: v / 2 for k, v in phases.items()}
    m = {"reference_s": 2.0, "tlsbayes_s": 5.0, "ratio": 2.5, "phases": {**phases, "cpu": cpu},
         "reference_cpu_s": 1.0, "tlsbayes_cpu_s": 4.0,
         "reference": {"imports": 1.5, "curve_fit": 0.002}, "no_plots_s": 3.0,
         "no_plots_phases": {**phases, "plots": 0.0, "cpu": {**cpu, "plots": 0.0}},
         "matplotlib_s": 0.6,
         "quick": {"report (re-plot, all figures)": (1.7, 1.5), "--help": (0.2, 0.1)}}
    text = "\n".join(bench_startup.report_lines(m))
    assert "5.00 s = 2.5x the reference" in text
    assert "reference 1.00, tlsbayes 4.00 = 4.0x" in text
    for k in bench_startup.PHASES:
        assert f"  {k:<9} {phases[k]:6.2f}  {cpu[k]:6.2f}" in text
    assert "other       1.50" in text  # 5.0 - 3.5 s of known phases
    assert "fixed costs (imports + results + report + plots): 2.20 s wall, 1.10 s CPU" in text
    assert "--plots none: 3.00 s = 1.5x the reference; fixed costs 0.35 s CPU" in text
    assert "report (re-plot, all figures)           1.70    1.50" in text


def test_children_cache_their_bytecode_in_the_temporary_folder_where_writing_is_off(
        tmp_path, monkeypatch):
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.delenv("GOTO_NUM_THREADS", raising=False)
    env, cached = bench_startup.child_environment(tmp_path)
    assert cached and "PYTHONDONTWRITEBYTECODE" not in env
    assert env["PYTHONPYCACHEPREFIX"] == str(tmp_path / "pycache")
    assert env["OPENBLAS_NUM_THREADS"] == "1"
    monkeypatch.delenv("PYTHONDONTWRITEBYTECODE")
    env, cached = bench_startup.child_environment(tmp_path)
    assert not cached and "PYTHONPYCACHEPREFIX" not in env
