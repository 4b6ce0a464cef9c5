"""What ``tlsbayes bench`` times: the cards it picks (the timings themselves are not tested)."""

from pathlib import Path

import pytest

from tlsbayes import bench

ROOT = Path(__file__).resolve().parents[1]


def test_default_cards_are_every_shipped_card():
    from tlsbayes.bench_fits import is_batch_card

    cards = bench.card_paths()
    assert cards == (sorted((ROOT / "models").glob("*.toml"))
                     + sorted((ROOT / "models" / "real").glob("*.toml")))
    names = {p.stem for p in cards}
    assert {"defrance_B2_809MHz_qpower", "maillet_SiN_damping_N", "ta_LGS1_5p70GHz_qpower",
            "nyu_al_inp_fshift_tls_qp", "nyu_al_inp_joint_tls_qp"} <= names
    assert not any("defrance2024" in str(p) for p in cards)
    batch = {p.stem for p in cards if is_batch_card(p)}  # listed, timed by the batch bench
    assert batch == {"ta_LGS1_H3A3_cooldown1_batch", "ta_LGS1_H3A3_cooldown3_batch",
                     "ta_SGS1_H2A2_wIRfilters_cooldown4_batch"}


def test_directories_expand_and_missing_paths_are_named(tmp_path):
    one = ROOT / "models" / "maillet_SiN_fshift.toml"
    got = bench.card_paths([one, ROOT / "models" / "defrance2024"])
    assert got[0] == one and len(got) == 1 + len(list((ROOT / "models" / "defrance2024")
                                                      .glob("*.toml")))
    with pytest.raises(FileNotFoundError, match="no card or directory '.*nope'"):
        bench.card_paths([tmp_path / "nope"])
    with pytest.raises(FileNotFoundError, match="no \\*.toml card found"):
        bench.card_paths([tmp_path])
