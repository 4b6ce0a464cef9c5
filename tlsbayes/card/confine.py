"""Where a card's data files may be read from (confinement).

A card reads its data only from

* its own folder tree (a relative ``file`` without ``..``),
* the shared real-data directory (``{real}/...``, :func:`tlsbayes.io.real_data_dir`),
* a file the user names on the command line (``--data``),

unless the user passes ``--allow-outside-data`` (``allow_outside=True``): then absolute and
``..`` paths are accepted too.  Paths are compared after symbolic links are resolved, so a link
inside the card's folder cannot lead out of it.

A run directory never widens this (it may come from someone else): ``report`` and ``resume``
parse the run's card copy as if it stood where run.json says the card was, but trust that
folder only while the card there names the same data files as the copy
(:func:`access_for_copy`), and check run.json's ``data_override`` like a path of the card.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path, PurePath

from .. import io as tio
from ..errors import CardError, RunDirError

__all__ = ["ALLOW_FLAG", "DataAccess", "access_for_copy", "access_for_run", "lexical_problem"]

#: the command-line flag that lifts the confinement (named in every refusal)
ALLOW_FLAG = "--allow-outside-data"

#: a card is text of a few kB; a larger "card" named by run.json is not compared
_MAX_CARD_BYTES = 1 << 20


def _real(path) -> Path:
    """``path`` absolute with every symbolic link resolved (never raises for loops)."""
    return Path(os.path.realpath(path))


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def lexical_problem(file: str) -> str | None:
    """Why the card path ``file`` (as written) may leave the card's folder, or None."""
    p = PurePath(file)
    if p.is_absolute():
        return "is an absolute path"
    if ".." in p.parts:
        return "goes up with '..'"
    return None


@dataclass(frozen=True)
class DataAccess:
    """The folders a card's data may be read from.

    Attributes
    ----------
    card_dir : Path or None
        The card's folder (its whole tree may be read); None when it is not trusted (a run
        directory's copy whose original card is gone or names other data).
    allow_outside : bool
        The user lifted the confinement (``--allow-outside-data``).
    untrusted : str
        Why ``card_dir`` is None (for messages).
    """

    card_dir: Path | None
    allow_outside: bool = False
    untrusted: str = ""

    def roots(self) -> tuple:
        """The folders (symbolic links resolved) whose trees may be read."""
        roots = [_real(tio.real_data_dir())]
        if self.card_dir is not None:
            roots.insert(0, _real(self.card_dir))
        return tuple(roots)

    def problem(self, path) -> str | None:
        """Why ``path`` may not be read (one clause, no file content), or None."""
        if self.allow_outside:
            return None
        target = _real(path)
        roots = self.roots()
        if any(_inside(target, r) for r in roots):
            return None
        where = f"the shared data directory {roots[-1]}"
        if self.card_dir is not None:
            where = f"the card's folder {roots[0]} and {where}"
        elif self.untrusted:
            where += f" ({self.untrusted})"
        moved = target != Path(os.path.abspath(path))  # through a symbolic link
        head = f"resolves to {target}, " if moved else "is "
        return f"{head}outside {where}; pass {ALLOW_FLAG} to read it anyway"

    def check(self, path, label: str) -> None:
        """Raise :class:`CardError` ``"<label> <why>"`` if ``path`` may not be read."""
        why = self.problem(path)
        if why is not None:
            raise CardError(f"{label} {why}")


def _data_files(text: str) -> list | None:
    """The ``file`` of every ``[[dataset]]`` of a card text, or None if it is not a card."""
    try:
        doc = tomllib.loads(text.removeprefix("\ufeff"))
        return [ds["data"]["file"] for ds in doc["dataset"]]
    except (tomllib.TOMLDecodeError, RecursionError, KeyError, TypeError):
        return None


def access_for_copy(card_path, copy_text: str, *, allow_outside: bool = False) -> DataAccess:
    """The :class:`DataAccess` of a run directory's card copy, parsed as if at ``card_path``.

    ``card_path`` comes from run.json, which anyone may have written; its folder is trusted
    only if a card is there that names the same data files as the copy (the run then reads
    what ``tlsbayes fit`` of that card reads).  That card is read for this comparison only;
    nothing of it is shown.
    """
    card_path = Path(card_path)
    same = None
    try:
        if card_path.is_file() and card_path.stat().st_size <= _MAX_CARD_BYTES:
            original = card_path.read_text(encoding="utf-8")
            files = _data_files(copy_text)
            same = files is not None and _data_files(original) == files
    except (OSError, ValueError):
        same = None
    if same:
        return DataAccess(card_path.absolute().parent, allow_outside)
    return DataAccess(None, allow_outside,
                      untrusted=f"the card run.json names, {card_path}, is not there or no "
                                "longer names the same data files, so its folder is not "
                                "trusted")


def access_for_run(info: dict, copy_text: str, run_json, *, allow_outside: bool = False):
    """``(access, data_override)`` of a run directory: its run.json ``info`` and card copy.

    The access is :func:`access_for_copy` of the card run.json names; run.json's
    ``data_override`` (the fit's ``--data``) is returned only if that access allows it.

    Raises
    ------
    RunDirError
        ``data_override`` is not a path.
    CardError
        ``data_override`` lies outside what may be read.
    """
    access = access_for_copy(info["card"], copy_text, allow_outside=allow_outside)
    override = info.get("data_override")
    if override is not None:
        if not isinstance(override, str) or not override:
            raise RunDirError(f"{run_json}: damaged, key 'data_override' is not a path")
        access.check(override, f"{run_json}: data_override {override!r} (the --data of the "
                               "fit)")
    return access, override
