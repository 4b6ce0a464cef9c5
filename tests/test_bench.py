"""What ``tlsbayes bench`` times: the cards it picks (the timings themselves are not tested)."""

from pathlib import Path

import pytest

from tlsbayes import bench

ROOT = Path(__file__).resolve().parents[1]


def test_default_cards_are_the_top_level_paper_cards():
    cards = bench.card_paths()
    assert cards == sorted((ROOT / "models").glob("*.toml"))
    names = {p.stem for p in cards}
    assert {"defrance_B2_809MHz_qpower", "defrance_B2_809MHz_fshift",
            "maillet_SiN_damping_S", "maillet_SiN_damping_N"} <= names
    assert not any("defrance2024" in str(p) or "/real/" in str(p) for p in cards)


def test_directories_expand_and_missing_paths_are_named(tmp_path):
    one = ROOT / "models" / "maillet_SiN_fshift.toml"
    got = bench.card_paths([one, ROOT / "models" / "defrance2024"])
    assert got[0] == one and len(got) == 1 + len(list((ROOT / "models" / "defrance2024")
                                                      .glob("*.toml")))
    with pytest.raises(FileNotFoundError, match="no card or directory '.*nope'"):
        bench.card_paths([tmp_path / "nope"])
    with pytest.raises(FileNotFoundError, match="no \\*.toml card found"):
        bench.card_paths([tmp_path])
