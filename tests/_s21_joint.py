"""The reference of the two-stage TLS fit from traces: a direct joint posterior of every S21
trace's parameters and the TLS parameters, sampled by Metropolis-within-Gibbs.

    p(θ, σ_x, φ_1..φ_N | d) ∝ π(θ, σ_x) Π_k L_k(φ_k) π_k(φ_k \\ 1/Q_i,k)
                               · N(ln(1/Q_i,k); ln m_k(θ), σ_x) / (1/Q_i,k)

Each trace's own flat prior on 1/Q_i is replaced by the population density (log-normal around
the model, the same excess scatter as the two-stage likelihood); its other parameters keep
their flat priors.  One sweep updates every trace block by an independence Metropolis step
(Student-t, ν = 8, at the trace's least-squares optimum and covariance x 1.2²: the proposal of
:mod:`tlsbayes.sampling.independence`), then the TLS block by ``n_rw`` random-walk steps with
the covariance of the two-stage posterior (a proposal only: the target is exact).  ``C``
independent chains run side by side, vectorised.  A test helper, not part of the package:
the package samples only through :func:`tlsbayes.sampling.sample`.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import gammaln

from tlsbayes.physics import s21 as k


def _t_logpdf(x, mean, chol, dof):
    """Multivariate Student-t log density (up to nothing), rows of ``x``."""
    d = mean.size
    u = np.linalg.solve(chol, (x - mean).T).T
    q = np.sum(u * u, axis=1)
    logdet = np.sum(np.log(np.diag(chol)))
    return (gammaln(0.5 * (dof + d)) - gammaln(0.5 * dof) - 0.5 * d * math.log(dof * math.pi)
            - logdet - 0.5 * (dof + d) * np.log1p(q / dof))


def _t_draw(rng, n, mean, chol, dof):
    z = rng.standard_normal((n, mean.size))
    g = rng.chisquare(dof, size=(n, 1)) / dof
    return mean + (z @ chol.T) / np.sqrt(g)


class JointTraces:
    """Direct joint posterior of S21 traces and the TLS parameters (module docstring).

    Parameters
    ----------
    traces : sequence of tlsbayes.s21.trace.TracePosterior
    posterior : tlsbayes.inference.posterior.Posterior
        The two-stage posterior: its priors (θ and ``excess_scatter``, last) and its one data
        set's model give ``m_k(θ)``.
    """

    def __init__(self, traces, posterior):
        self.traces = list(traces)
        self.post = posterior
        self.ds = posterior.datasets[0]
        names = posterior.priors.names
        self.mcols = np.array([names.index(n) for n in self.ds.model.param_names])
        self.scol = names.index("excess_scatter")
        self.props = []
        for t in self.traces:
            cov = t.covariance() * 1.2 ** 2
            self.props.append((t.optimum(), np.linalg.cholesky(cov)))

    def _pop(self, inv_qi, mu, sx):
        """ln N(ln inv_qi; ln mu, sx) - ln inv_qi, shape (C,)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            u = (np.log(inv_qi) - np.log(mu)) / sx
            out = -0.5 * u * u - np.log(sx) - 0.5 * math.log(2 * math.pi) - np.log(inv_qi)
        return np.where(np.isfinite(out) & (sx > 0), out, -np.inf)

    def _trace_target(self, j, phi, mu_j, sx):
        lp = self.traces[j](phi)[0]
        return lp + self._pop(phi[:, k.I_INV_QI], mu_j, sx)

    def _theta_target(self, th, inv_qi):
        lprior = np.atleast_1d(self.post.priors.log_prob(th))
        params = self.post.params(th)
        P = np.column_stack([params[n] for n in self.ds.model.param_names])
        mu = self.ds.predict_matrix(P)
        sx = params["excess_scatter"]
        tot = lprior.copy()
        for j in range(len(self.traces)):
            tot = tot + self._pop(inv_qi[:, j], mu[:, j], sx)
        return np.where(np.isfinite(tot), tot, -np.inf), mu

    def sample(self, theta0, cov_theta, *, sweeps, chains, rng, n_rw=5, dof=8.0):
        """Run ``chains`` chains for ``sweeps`` sweeps; returns θ draws, shape
        (sweeps, chains, ndim) in the posterior's sampling coordinates, and the acceptance
        rates (traces, θ)."""
        C, N = chains, len(self.traces)
        th = np.array(theta0, dtype=float)
        phis = [np.repeat(o[None, :], C, axis=0) for o, _ in self.props]
        inv_qi = np.column_stack([p[:, k.I_INV_QI] for p in phis])
        cur_t, mu = self._theta_target(th, inv_qi)
        chol_rw = np.linalg.cholesky(cov_theta * (2.38 ** 2 / th.shape[1]))
        out = np.empty((sweeps, C, th.shape[1]))
        acc_tr = acc_th = 0
        qcur = [_t_logpdf(p, o, L, dof) for p, (o, L) in zip(phis, self.props)]
        for s in range(sweeps):
            sx = self.post.params(th)["excess_scatter"]
            for j, (o, L) in enumerate(self.props):
                prop = _t_draw(rng, C, o, L, dof)
                qprop = _t_logpdf(prop, o, L, dof)
                new = self._trace_target(j, prop, mu[:, j], sx)
                old = self._trace_target(j, phis[j], mu[:, j], sx)
                ok = np.log(rng.random(C)) < (new - qprop) - (old - qcur[j])
                phis[j][ok] = prop[ok]
                qcur[j][ok] = qprop[ok]
                acc_tr += ok.sum()
            inv_qi = np.column_stack([p[:, k.I_INV_QI] for p in phis])
            cur_t, mu = self._theta_target(th, inv_qi)
            for _ in range(n_rw):
                prop = th + rng.standard_normal(th.shape) @ chol_rw.T
                new, mu_new = self._theta_target(prop, inv_qi)
                ok = np.log(rng.random(C)) < new - cur_t
                th[ok], cur_t[ok], mu[ok] = prop[ok], new[ok], mu_new[ok]
                acc_th += ok.sum()
            out[s] = th
        return out, acc_tr / (sweeps * C * N), acc_th / (sweeps * C * n_rw)
