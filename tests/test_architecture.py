"""The shape of the package, enforced: layers, no import cycle, no private imports, module size,
every module named in docs/ARCHITECTURE.md, run-directory file names spelled only in rundir.py.

The import graph is read from the source (``ast``), lazy imports inside functions included, so
nothing is imported and the checks take well under a second.

Layers (a module may import its own layer and those before it)::

    base < physics < models < inference < sampling < results < utilities < pipelines < edges

``base`` (errors, atomic, the package root for ``__version__``) is importable by everyone.
``utilities`` are the base utilities of docs/ARCHITECTURE.md that sit on top of the science
stack: io, card, rundir, plotting and reporting.  They may use any layer before them (card builds
posteriors and sampler settings, rundir reads results and checkpoints, plotting draws them) but
never a pipeline or the command line.

PENDING lists the known offenders of the restructure of issue 12 that other helpers are
removing in the same round; whoever merges last deletes the entries (a stale entry fails
``test_pending_entries_are_still_needed``).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "tlsbayes"
ARCHITECTURE_DOC = ROOT / "docs" / "ARCHITECTURE.md"
MAX_LINES = 600

# (check, module or import edge) pairs still allowed, one per line, with who removes them;
# empty since the restructure of issue 12 landed whole.
PENDING: set[tuple[str, str]] = set()

BASE, PHYSICS, MODELS, INFERENCE, SAMPLING, RESULTS, UTILITIES, PIPELINES, EDGES = range(9)
LAYER_NAMES = ("base", "physics", "models", "inference", "sampling", "results", "utilities",
               "pipelines", "edges")

#: Module prefix -> layer; the longest matching prefix wins (``tlsbayes.card`` matches
#: ``tlsbayes.card.parse``, not ``tlsbayes.card_simulation``).  Old flat modules that the
#: restructure removes are listed with the layer of their new home.
LAYERS = {
    "tlsbayes": BASE,                       # the package root: __version__ only
    "tlsbayes.errors": BASE,
    "tlsbayes.atomic": BASE,
    "tlsbayes.lazy": BASE,
    "tlsbayes.process": BASE,               # process set-up of a command (BLAS threads, gc)
    "tlsbayes.physics": PHYSICS,            # incl. physics/mb_table.py, physics/s21.py
    "tlsbayes.models": MODELS,
    "tlsbayes.inference": INFERENCE,
    "tlsbayes.sampling": SAMPLING,
    "tlsbayes.results": RESULTS,
    "tlsbayes.verdicts": RESULTS,
    "tlsbayes.io": UTILITIES,
    "tlsbayes.card": UTILITIES,
    "tlsbayes.rundir": UTILITIES,
    "tlsbayes.plotting": UTILITIES,
    "tlsbayes.reporting": UTILITIES,
    "tlsbayes.fit": PIPELINES,
    "tlsbayes.fit_report": PIPELINES,
    "tlsbayes.batch": PIPELINES,
    "tlsbayes.engines": PIPELINES,
    "tlsbayes.population": PIPELINES,
    "tlsbayes.compare": PIPELINES,
    "tlsbayes.design": PIPELINES,
    "tlsbayes.simulate": PIPELINES,
    "tlsbayes.calibration": PIPELINES,
    "tlsbayes.bench": PIPELINES,
    "tlsbayes.bench_startup": PIPELINES,
    "tlsbayes.bench_s21": PIPELINES,
    "tlsbayes.bench_fits": PIPELINES,
    "tlsbayes.s21": PIPELINES,
    "tlsbayes.cli": EDGES,
    "tlsbayes.cli_commands": EDGES,
    "tlsbayes.cli_parsers": EDGES,
}

#: Module that owns the run-directory file names.
RUNDIR_MODULE = "tlsbayes.rundir"


# --------------------------------------------------------------------------------------------
# reading the package
# --------------------------------------------------------------------------------------------
def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}
TREES = {m: ast.parse(p.read_text(encoding="utf-8"), filename=str(p)) for m, p in MODULES.items()}


def _package_of(module: str) -> str:
    return module if MODULES[module].name == "__init__.py" else module.rpartition(".")[0]


def _imports(module: str):
    """Yield ``(target module, imported name or None, line)`` for every tlsbayes import."""
    for node in ast.walk(TREES[module]):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "tlsbayes":
                    yield alias.name, None, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = _package_of(module).split(".")
                base = base[:len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "tlsbayes":
                continue
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                if sub in MODULES:  # "from . import results": the submodule itself
                    yield sub, None, node.lineno
                else:
                    yield target, alias.name, node.lineno


def _graph() -> dict:
    graph = {m: set() for m in MODULES}
    for m in MODULES:
        for target, _, _ in _imports(m):
            if target in MODULES and target != m:
                graph[m].add(target)
    return graph


def _layer(module: str) -> int:
    if module == "tlsbayes":
        return LAYERS[module]
    parts = module.split(".")
    for n in range(len(parts), 1, -1):  # never the bare root: a new package needs its entry
        key = ".".join(parts[:n])
        if key in LAYERS:
            return LAYERS[key]
    raise KeyError(module)


def _pending(check: str, item: str) -> bool:
    return (check, item) in PENDING


# --------------------------------------------------------------------------------------------
# the checks
# --------------------------------------------------------------------------------------------
def test_every_module_has_a_layer():
    missing = []
    for m in MODULES:
        try:
            _layer(m)
        except KeyError:
            missing.append(m)
    assert not missing, f"add these modules to LAYERS (and to docs/ARCHITECTURE.md): {missing}"


def test_layer_order():
    bad = []
    for m in MODULES:
        for target, _, line in _imports(m):
            if target not in MODULES or target == m:
                continue
            if _layer(target) > _layer(m):
                bad.append(f"{MODULES[m].relative_to(ROOT)}:{line}: {m} "
                           f"({LAYER_NAMES[_layer(m)]}) imports {target} "
                           f"({LAYER_NAMES[_layer(target)]})")
    assert not bad, "imports against the layer order:\n" + "\n".join(bad)


def _cycles(graph: dict) -> list:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index, low, on_stack, stack, out = {}, {}, set(), [], []
    counter = 0
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.append(w)
                    if w == node:
                        break
                if len(comp) > 1:
                    out.append(sorted(comp))
    return out


def test_cycle_finder_finds_a_known_cycle():
    # The checker itself must be able to fail: a -> b -> c -> a is one cycle, d is not in it.
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == [["a", "b", "c"]]


def _cycle_graph() -> dict:
    """The import graph without a package's ``__init__`` importing its own submodules (how a
    package exposes its API); only cycles outside that pattern count."""
    graph = _graph()
    for m in graph:
        graph[m] = {t for t in graph[m]
                    if not (MODULES[m].name == "__init__.py" and t.startswith(m + "."))}
    return graph


def test_no_import_cycle():
    cycles = [c for c in _cycles(_cycle_graph()) if not _pending("cycle", " ".join(c))]
    assert cycles == [], f"import cycles: {cycles}"


def test_no_import_of_another_modules_private_name():
    bad = []
    for m in MODULES:
        for target, name, line in _imports(m):
            if name is None or not name.startswith("_") or name.startswith("__"):
                continue
            edge = f"{m} -> {target}.{name}"
            if not _pending("private", edge):
                bad.append(f"{MODULES[m].relative_to(ROOT)}:{line}: {edge}")
    assert not bad, "imports of private names:\n" + "\n".join(bad)


def test_no_module_over_the_size_limit():
    bad = []
    for m, path in MODULES.items():
        n = len(path.read_text(encoding="utf-8").splitlines())
        if n > MAX_LINES and not _pending("size", m):
            bad.append(f"{path.relative_to(ROOT)}: {n} lines")
    assert not bad, f"modules over {MAX_LINES} lines:\n" + "\n".join(bad)


def _doc_names(path: Path) -> str:
    """How docs/ARCHITECTURE.md names a module: its path below tlsbayes/ (a package: 'x/')."""
    rel = path.relative_to(PACKAGE)
    return rel.parent.as_posix() + "/" if path.name == "__init__.py" else rel.as_posix()


def test_every_module_is_named_in_the_architecture_doc():
    doc = ARCHITECTURE_DOC.read_text(encoding="utf-8")
    bad = []
    for m, path in MODULES.items():
        if m == "tlsbayes" or _pending("doc", m):
            continue
        name = _doc_names(path)
        if not re.search(r"(?<![\w/.])" + re.escape(name), doc):
            bad.append(name)
    assert not bad, f"not named in {ARCHITECTURE_DOC.relative_to(ROOT)}: {bad}"


def _run_dir_names() -> set:
    """The file names rundir.py defines (its upper-case string constants with a suffix)."""
    names = set()
    for node in TREES[RUNDIR_MODULE].body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) \
                and isinstance(node.value.value, str):
            target = node.targets[0]
            if isinstance(target, ast.Name) and target.id.isupper() and \
                    re.fullmatch(r"\.?[\w-]+\.[a-z0-9]+", node.value.value):
                names.add(node.value.value)
    return names


def test_run_dir_names_are_known():
    # The literal check below is only as good as this list.
    names = _run_dir_names()
    assert {"posterior.nc", "checkpoint.h5", "run.json", "card.toml", "summary.csv",
            "report.md", "fit.svg", "corner.svg", "trace.svg", "fit.png", "corner.png",
            "trace.png", ".batch.lock"} <= names


def test_run_dir_file_names_are_spelled_only_in_rundir():
    names = _run_dir_names()
    bad = []
    for m, tree in TREES.items():
        if m == RUNDIR_MODULE:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                text = node.value
                if text in names or any(text.endswith("/" + n) for n in names):
                    bad.append(f"{MODULES[m].relative_to(ROOT)}:{node.lineno}: {text!r}")
    assert not bad, ("run-directory file names outside rundir.py (use the tlsbayes.rundir "
                     "constants):\n" + "\n".join(bad))


@pytest.mark.parametrize("check", ["size", "private", "doc", "cycle"])
def test_pending_entries_are_still_needed(check):
    """A PENDING entry whose offence is gone must be deleted, so the list only shrinks."""
    stale = []
    for kind, item in sorted(PENDING):
        if kind != check:
            continue
        if kind == "size":
            still = item in MODULES and len(
                MODULES[item].read_text(encoding="utf-8").splitlines()) > MAX_LINES
        elif kind == "doc":
            doc = ARCHITECTURE_DOC.read_text(encoding="utf-8")
            still = item in MODULES and not re.search(
                r"(?<![\w/.])" + re.escape(_doc_names(MODULES[item])), doc)
        elif kind == "cycle":
            still = item.split() in _cycles(_cycle_graph())
        else:
            src, _, dst = item.partition(" -> ")
            target, _, name = dst.rpartition(".")
            still = src in MODULES and any(
                t == target and n == name for t, n, _ in _imports(src))
        if not still:
            stale.append(item)
    assert not stale, f"delete these PENDING entries, they are fixed: {stale}"
