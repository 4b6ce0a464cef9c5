"""Published values from the source papers, as data (no computation beyond unit conversion).

* Defrance et al., "Characterization of the TLS loss of a-Si:H" (arXiv:2403.03534, 2024):
  Table 1 (resonator design) and Table 3 (best-fit TLS parameters of all 22 resonators), plus the
  per-recipe δ⁰_TLS averages quoted in Sec. V.1.
* Maillet et al., Phys. Rev. B 107, 064104 (2023): parameters of the high-stress SiN beam.

Everything is in SI units: frequencies in Hz, fields in V/m, lengths in m.  Loss tangents are
dimensionless (the paper prints them in units of 1e-6).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# ----------------------------------------------------------------------------------------------
# Defrance et al. 2024, Table 1: designed dimensions and electrical parameters.
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DefranceSlot:
    """One of the six designed resonators on a Defrance device (a row of Table 1).

    Attributes
    ----------
    slot : int
        0-2 the lower-frequency triplet, 3-5 the higher one, in increasing design frequency.
    w_plate, l_plate : float
        Width and length of each parallel-plate capacitor's top plate [m].
    C0 : float
        Capacitance of each of the two PPCs [F] (total C = C0/2).
    w_ind, l_ind : float
        Width and length of the inductor line [m].
    L : float
        Inductance [H].
    f_design : float
        Designed resonance frequency [Hz].
    Qc : float
        Designed coupling quality factor.
    """

    slot: int
    w_plate: float
    l_plate: float
    C0: float
    w_ind: float
    l_ind: float
    L: float
    f_design: float
    Qc: float

    @property
    def A0(self):
        """Top-plate area A0 = w × l [m²] (Sec. V, below Eq. 6)."""
        return self.w_plate * self.l_plate


_um, _pF, _nH, _MHz = 1e-6, 1e-12, 1e-9, 1e6

#: Table 1, in slot order.
DEFRANCE_TABLE1 = (
    DefranceSlot(0, 265 * _um, 1236 * _um, 42 * _pF, 20 * _um, 2920 * _um, 1.84 * _nH, 810 * _MHz, 8e3),
    DefranceSlot(1, 245 * _um, 1223 * _um, 39 * _pF, 20 * _um, 2920 * _um, 1.84 * _nH, 844 * _MHz, 8e3),
    DefranceSlot(2, 225 * _um, 1210 * _um, 35 * _pF, 20 * _um, 2920 * _um, 1.84 * _nH, 882 * _MHz, 8e3),
    DefranceSlot(3, 265 * _um, 1236 * _um, 42 * _pF, 20 * _um, 760 * _um, 0.54 * _nH, 1489 * _MHz, 2e4),
    DefranceSlot(4, 245 * _um, 1223 * _um, 39 * _pF, 20 * _um, 760 * _um, 0.54 * _nH, 1554 * _MHz, 2e4),
    DefranceSlot(5, 225 * _um, 1210 * _um, 35 * _pF, 20 * _um, 760 * _um, 0.54 * _nH, 1627 * _MHz, 2e4),
)

#: a-Si:H thickness = plate separation d [m] (Sec. II.2 and below Eq. 6).
DEFRANCE_D = 800e-9
#: Relative permittivity assumed for a-Si:H in Eq. 6 (crystalline-Si value, Sec. V).
DEFRANCE_EPS_R = 11.68
#: Temperatures of the measurements [K]: f(T) sweep range and the Qi(|E|) temperature (Sec. IV-V).
DEFRANCE_T_SWEEP = (0.240, 0.450)
DEFRANCE_T_QI = 0.246
#: Readout power of the f(T) data [dBm] and the Qi(P) sweep range [dBm] (Sec. IV-V).
DEFRANCE_P_FSHIFT_DBM = -100.0
DEFRANCE_P_SWEEP_DBM = (-150.0, -70.0)
#: β range allowed in the paper's fits (Sec. V.4: β = 0.6 "potentially limited by the allowed
#: range"; the starred β = 0.10 values sit on the lower end).
DEFRANCE_BETA_RANGE = (0.1, 0.6)

# ----------------------------------------------------------------------------------------------
# Defrance et al. 2024, Table 3: best-fit parameters.
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DefranceResonator:
    """One row of Defrance Table 3.

    Table 3 has two δ⁰_TLS columns: the first from the frequency-shift fit f(T) (Eq. 5), the
    second from the Qi⁻¹(|E|) fit (Eq. 4).  The column order is fixed by Table 4, whose "new"
    frequency-shift values for Devices A(1) and B(1) equal the first column, and by Sec. V.1,
    which stars the Qi-fit δ⁰ of B(1) 824 and 895 MHz (second column).

    Attributes
    ----------
    recipe : str
        a-Si:H deposition recipe, "A" (PECVD, Caltech KNI) or "B" (ICP-PECVD, JPL MDL).
    device : str
        "A(1)", "A(2)", "B(1)" or "B(2)".
    f0 : float
        Measured resonance frequency [Hz] (Table 3 prints it in MHz, rounded).
    delta0_fshift : float
        δ⁰_TLS from the frequency-shift fit.
    delta0_qi : float
        δ⁰_TLS from the Qi⁻¹(|E|) fit.
    delta_other : float
        Non-TLS loss δ_other from the Qi⁻¹ fit.
    E_c : float
        Critical field [V/m].
    beta : float
        Saturation exponent β.
    slot : int
        Table 1 design slot (index into :data:`DEFRANCE_TABLE1`).  Not printed in the paper:
        assigned here by frequency order within each triplet, and for the two devices with a
        missing resonance by matching to the sibling device of the same recipe (A(2) lacks the
        highest one, cf. A(1) 1652 MHz; B(2) 1583 MHz sits 1.2 % below B(1) 1603 MHz, so B(2)
        lacks the lowest of the upper triplet).
    starred : frozenset of str
        Names of the fields the paper marks with an asterisk ("considered unreliable").
    """

    recipe: str
    device: str
    f0: float
    delta0_fshift: float
    delta0_qi: float
    delta_other: float
    E_c: float
    beta: float
    slot: int
    starred: frozenset = frozenset()

    def is_starred(self, name):
        """True if the paper marks parameter ``name`` of this row as unreliable."""
        return name in self.starred

    @property
    def geometry(self):
        """The Table 1 design row of this resonator."""
        return DEFRANCE_TABLE1[self.slot]

    @property
    def label(self):
        """Short identifier, e.g. ``"B(2) 809 MHz"``."""
        return f"{self.device} {self.f0 / 1e6:.0f} MHz"


_QI_SHAPE = frozenset({"delta_other", "E_c", "beta"})
_QI_CURVE = frozenset({"E_c", "beta"})
_QI_DELTA0 = frozenset({"delta0_qi"})


def _row(device, f_mhz, d0_f, d0_q, d_other, E_c, beta, slot, starred=frozenset()):
    return DefranceResonator(recipe=device[0], device=device, f0=f_mhz * 1e6,
                             delta0_fshift=d0_f * 1e-6, delta0_qi=d0_q * 1e-6,
                             delta_other=d_other * 1e-6, E_c=float(E_c), beta=float(beta),
                             slot=slot, starred=frozenset(starred))


#: Table 3, all 22 resonators, in the paper's order (device, then frequency).
DEFRANCE_TABLE3 = (
    _row("A(1)", 786, 12.0, 8.7, 7.9, 2.5, 0.30, 0),
    _row("A(1)", 818, 12.0, 6.4, 7.8, 6.4, 0.49, 1),
    _row("A(1)", 859, 12.0, 16.2, 8.2, 5.7, 0.10, 2, _QI_SHAPE),
    _row("A(1)", 1506, 12.0, 15.3, 6.2, 4.8, 0.10, 3, _QI_SHAPE),
    _row("A(1)", 1565, 13.0, 16.3, 4.8, 2.4, 0.10, 4, _QI_SHAPE),
    _row("A(1)", 1652, 13.0, 16.1, 4.5, 4.4, 0.11, 5, _QI_SHAPE),
    _row("A(2)", 785, 11.0, 21.5, 4.8, 2.8, 0.10, 0, _QI_SHAPE),
    _row("A(2)", 817, 12.0, 21.0, 4.7, 2.6, 0.10, 1, _QI_SHAPE),
    _row("A(2)", 857, 12.0, 21.0, 5.1, 6.1, 0.10, 2, _QI_SHAPE),
    _row("A(2)", 1505, 11.0, 15.1, 3.1, 2.5, 0.10, 3, _QI_SHAPE),
    _row("A(2)", 1564, 11.0, 15.7, 3.3, 2.6, 0.10, 4, _QI_SHAPE),
    _row("B(1)", 824, 8.3, 7.1, 28.0, 4.2, 0.46, 0, _QI_DELTA0 | _QI_CURVE),
    _row("B(1)", 855, 8.3, 8.7, 0.2, 5.8, 0.27, 1),
    _row("B(1)", 895, 3.5, 4.8, 13.7, 5.3, 0.35, 2, _QI_DELTA0 | _QI_CURVE),
    _row("B(1)", 1545, 5.0, 8.1, 4.1, 7.2, 0.27, 3),
    _row("B(1)", 1603, 8.1, 7.9, 0.8, 8.3, 0.32, 4),
    _row("B(1)", 1685, 8.3, 7.3, 4.1, 8.2, 0.35, 5),
    _row("B(2)", 809, 7.9, 8.9, 0.9, 3.4, 0.20, 0),
    _row("B(2)", 847, 8.6, 8.2, 0.3, 5.4, 0.33, 1),
    _row("B(2)", 893, 8.4, 6.9, 0.6, 7.3, 0.40, 2),
    _row("B(2)", 1583, 4.4, 5.7, 2.4, 9.4, 0.60, 4),
    _row("B(2)", 1680, 8.3, 6.0, 0.6, 15.4, 0.60, 5),
)

#: Per-recipe averages of the frequency-shift δ⁰_TLS as quoted in Sec. V.1 ("≈ 12e-6 for
#: recipe A and ≈ 7e-6 for recipe B").
DEFRANCE_RECIPE_DELTA0 = {"A": 12e-6, "B": 7e-6}

#: Medians of E_c [V/m] and β over the reliable Devices B(1)/B(2) fits, as quoted in Sec. V.4.
DEFRANCE_B_RELIABLE_MEDIANS = {"E_c": 7.3, "beta": 0.33}


def defrance_resonator(device, f_mhz):
    """The Table 3 row of ``device`` (e.g. "B(2)") nearest to ``f_mhz`` [MHz] (within 5 MHz)."""
    rows = [r for r in DEFRANCE_TABLE3
            if r.device == device and abs(r.f0 / 1e6 - f_mhz) <= 5.0]
    if not rows:
        raise KeyError(f"no Defrance Table 3 resonator {device} near {f_mhz} MHz")
    return min(rows, key=lambda r: abs(r.f0 / 1e6 - f_mhz))


# ----------------------------------------------------------------------------------------------
# Maillet et al. 2023.
# ----------------------------------------------------------------------------------------------

#: High-stress SiN beam covered with 30 nm Al (Sec. II and the fit of Fig. 3): mode frequency
#: ω [rad/s], density ρ [kg/m³], thickness e and width w [m], longitudinal sound speed c_l [m/s],
#: damping-fit C, γ [eV], electron-relaxation fraction x and coupling K, and the C of the
#: logarithmic frequency shift below 1 K (Fig. 2b).
MAILLET = {"omega": 2 * math.pi * 17.5e6, "rho": 2900.0, "e": 130e-9, "w": 300e-9,
           "c_l": 6000.0, "C": 4.3e-5, "gamma": 9.8, "x": 0.17, "K": 0.07, "C_shift": 2.1e-5}
