"""Physics wording of the parameter degeneracies the models are known to have.

:data:`KNOWN_DEGENERACIES` explains, per unordered pair of parameter names, why the data often
constrain only a combination of the two and which data break the degeneracy.  It is physics of
the models, so it lives next to them; :func:`tlsbayes.results.degeneracy_report` appends the
text to its sentence for a strongly correlated pair, and the design pipeline forecasts the
widths of the same pairs.
"""

from __future__ import annotations

import types
from collections.abc import Mapping

__all__ = ["KNOWN_DEGENERACIES"]

#: Physics behind the parameter pairs that are often degenerate, keyed by unordered pair; the
#: text is appended to the sentence of :func:`tlsbayes.results.degeneracy_report`.  Read-only: extend it with
#: ``{**KNOWN_DEGENERACIES, frozenset({"a", "b"}): "..."}``.
KNOWN_DEGENERACIES: Mapping[frozenset, str] = types.MappingProxyType(
    {
        frozenset({"E_c", "beta"}): (
            "the data do not reach far enough above E_c for the saturation slope and the onset "
            "to be separated: only a combination of E_c and beta is constrained (the E_c–beta "
            "banana); data at lower temperature or over a wider power range break it"
        ),
        frozenset({"delta0", "delta_other"}): (
            "only the TLS part delta0 saturates with power and is suppressed by "
            "tanh(h f / 2 k_B T) at high temperature, while delta_other does not change; if the "
            "data never reach the saturated (high-power) or thermally suppressed regime, only "
            "the low-power total delta0 + delta_other is constrained and the two trade off "
            "against each other; data at higher power or higher temperature separate them"
        ),
        frozenset({"x", "K"}): (
            "in the normal state a fraction x of the TLS also relaxes through the conduction "
            "electrons at a rate set by K; while that channel is slow compared with the mode "
            "frequency its extra damping grows as x*K*T, so only the product x*K is "
            "constrained (and once it is fast the electron-coupled TLS sit on the plateau and K "
            "drops out); data spanning the crossover of the electron channel, or the "
            "superconducting-state damping of the same device (x = 0), separate them"
        ),
        frozenset({"C", "gamma"}): (
            "below the crossover to the high-temperature plateau the damping is "
            "relaxation-limited and proportional to C*gamma^2 (the phonon relaxation rate scales "
            "as gamma^2), so only the product C*gamma^2 is constrained; data reaching the plateau "
            "Gamma = (pi/2) C omega, or the logarithmic frequency shift, which fixes C alone, "
            "break it"
        ),
    }
)

