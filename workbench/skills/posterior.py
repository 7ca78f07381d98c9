"""The calibration posterior in plain numpy: log density, analytic gradient, per-person scores.

This is the same posterior as the PyMC model of :func:`workbench.skills.calibrate.build_model`
(same priors, same unconstrained coordinates, Jacobians included), written out by hand so that
the quick calibration (``method="map"``) runs without importing or compiling PyMC:

* ``a_j = exp(alpha_j)`` with ``alpha_j ~ N(0.2, 0.5)`` (the LogNormal prior with its log transform);
* intercepts ``c_j1 < ... < c_j,K-1`` (``b = c / a``) from ``c_j1 = beta_j1`` and
  ``c_jk = c_j,k-1 + exp(beta_jk)``, each ``c_jk ~ N(mu_k, 3)`` (PyMC's ordered transform);
* rater shifts: the non-self types sum to zero (``delta = H z`` with ``H`` orthonormal and
  ``z ~ N(0, 0.5)``, an isometry, as PyMC's ZeroSumNormal) and ``delta_self ~ N(0, 1)``.

The likelihood integrates persons out per dimension by Gauss-Hermite quadrature (see
``docs/skill-model.md``) in two implementations that tests hold equal: :func:`loglik_kernel`
(float32 or float64 BLAS products, with each person's weights over the nodes, for the mode, the
information and the scores) and :class:`Patterns` (float32, one compiled pass over the distinct
answer patterns, value and gradient only: the sampler's density, here and in the PyTensor Op of
:mod:`workbench.skills.marginal`; 19.5 against 8.8 ms a gradient on 10,000 x 60). The gradient goes through the
category probabilities analytically; :meth:`Posterior.person_scores` gives each person's score
vector (their contribution to the gradient), whose cross-product is the information used for the
Laplace covariance on long unidimensional tests (the "cross-product" or empirical information, as
mirt's ``SE.type="crossprod"``); elsewhere :meth:`Posterior.hessian` gives the observed information
analytically (Louis' identity over the quadrature nodes), in about the time of one gradient call.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from scipy.special import log_expit

A_MU, A_SD = 0.2, 0.5  # LogNormal prior of the discriminations
C_SD = 3.0  # normal prior SD of the intercepts c = a * b (1.5 x the threshold prior SD of 2)
OTHERS_SD, SELF_SD = 0.5, 1.0  # rater shifts
GTOL = 1e-3  # L-BFGS's largest whitened gradient component at the end
FAR_NODES = 40.0  # float32 density: nodes whose log weight is this far below the largest are left out
MAX_HESSIAN_COLORS = 100  # above, the cross-product information (see Posterior.information)


def loglik_kernel(C: list[np.ndarray], tabs: list[np.ndarray], logw: np.ndarray, want_weights: bool = True):
    """One dimension's marginal log-likelihood: ``sum_n log sum_q w_q exp(sum_r C_r[n] @ T_r[:, q])``.

    ``C`` are counts (N, J_d*K), one per rater type, ``tabs`` the matching log category
    probabilities (J_d*K, Q), in the posterior's dtype. Returns the log-likelihood (float) and the
    posterior weights over the nodes, (N, Q), normalized per person (None if not wanted): a
    transposed view, which BLAS reads as it is.

    The work runs on a (Q, N) array, nodes along the rows: each person's maximum, sum and
    normalization over the Q nodes are then operations between whole contiguous rows, which numpy
    vectorizes, where along rows of 41 it loops per person (on 10,000 x 40 counts: 2.1 ms against
    3.4 ms per competency with the gradient's product, float32).
    """
    L = tabs[0].T @ C[0].T
    for c, t in zip(C[1:], tabs[1:], strict=True):
        L += t.T @ c.T
    L += logw[:, None]
    m = L.max(axis=0)
    L -= m
    # weights below e^-80 are irrelevant; flooring them keeps float32 out of subnormal numbers,
    # which slow exp and the products after it by an order of magnitude
    np.maximum(L, -80.0, out=L)
    np.exp(L, out=L)
    s = L.sum(axis=0, dtype=np.float64)
    total = float(np.log(s).sum() + m.sum(dtype=np.float64))
    if not want_weights:
        return total, None
    L /= s.astype(L.dtype)
    return total, L.T


# ---------------------------------------------------------------------------------------------- fused kernel
# The sampler's hot loop (NUTS evaluates the gradient some 10,000 times per chain) needs only the
# marginal log-likelihood and its gradient with respect to the tables, never the per-person weights,
# so one compiled pass does it all in cache. Identical answer patterns are evaluated once, with their
# multiplicity as weight; sorted, consecutive patterns share their first answers, so they are walked
# as a trie: a pattern's sum of table rows starts from the sum its predecessor had at the point where
# they part, and its posterior weights over the nodes reach the gradient through the same shared
# prefixes. On 10,000 x 60 a competency's 66,600 answers become 20,000 trie steps.

_LOG2E = np.float32(1.4426950408889634)
_LN2_HI, _LN2_LO = np.float32(0.693359375), np.float32(-2.12194440e-4)  # ln 2 split for exact k*ln2


@functools.cache
def _fused_kernel():
    """:func:`_fused_loglik` compiled (numba is imported on first use only: the quick calibration and the
    demo never need it; the machine code is cached on disk beside this module)."""
    import numba

    return numba.njit(fastmath=True, boundscheck=False, cache=True, nogil=True)(_fused_loglik)


def _fused_loglik(indptr, indices, values, weights, shared, tab, logw, G):  # pragma: no cover - compiled
    """Adds the patterns' weighted posterior node weights, times their counts, to ``G`` (columns x Q)
    and returns the weighted sum of their log-likelihoods. ``shared[n]`` is how many leading entries
    pattern n has in common with pattern n-1.

    ``partial[d]`` is log w plus the sum of the first d entries' table rows; ``acc[d]`` collects the
    node weights of the finished patterns below entry d, and is added to the gradient row of that
    entry (times its count) and passed up to entry d-1 when the walk leaves it. ``exp`` of the
    (non-positive, floored at -80) log weights is a degree-6 polynomial on ``[-ln2/2, ln2/2]`` times
    ``2**k`` built in the float's exponent bits, which LLVM vectorizes (relative error about 2e-7,
    float32's own precision), where the library call would run one node at a time."""
    n_rows = indptr.shape[0] - 1
    Q = tab.shape[1]
    depth = 0
    for n in range(n_rows):
        depth = max(depth, indptr[n + 1] - indptr[n])
    partial = np.empty((depth + 1, Q), np.float32)
    acc = np.zeros((depth + 1, Q), np.float32)
    for q in range(Q):
        partial[0, q] = logw[q]
    row = np.empty(Q, np.float32)
    bits = np.empty(Q, np.int32)
    scale = bits.view(np.float32)
    total = 0.0
    for n in range(n_rows):
        start, m_n = indptr[n], indptr[n + 1] - indptr[n]
        for d in range(shared[n], m_n):
            j, v = indices[start + d], values[start + d]
            for q in range(Q):
                partial[d + 1, q] = partial[d, q] + v * tab[j, q]
                acc[d, q] = 0.0
        m = partial[m_n, 0]
        for q in range(1, Q):
            m = max(m, partial[m_n, q])
        for q in range(Q):
            y = max(partial[m_n, q] - m, np.float32(-80.0))
            k = np.floor(y * _LOG2E + np.float32(0.5))
            r = y - k * _LN2_HI - k * _LN2_LO
            row[q] = np.float32(1.0) + r * (np.float32(1.0) + r * (np.float32(0.5) + r * (
                np.float32(1.0 / 6) + r * (np.float32(1.0 / 24) + r * (np.float32(1.0 / 120)
                                                                       + r * np.float32(1.0 / 720))))))
            bits[q] = (np.int32(k) + np.int32(127)) << 23
        s = np.float32(0.0)
        for q in range(Q):
            row[q] *= scale[q]
            s += row[q]
        total += weights[n] * (np.log(np.float64(s)) + m)
        inv = weights[n] / s
        if m_n > 0:
            for q in range(Q):
                acc[m_n - 1, q] += inv * row[q]
        leave_to = shared[n + 1] if n + 1 < n_rows else 0
        for d in range(m_n - 1, leave_to - 1, -1):
            j, v = indices[start + d], values[start + d]
            for q in range(Q):
                G[j, q] += v * acc[d, q]
            if d > 0:
                for q in range(Q):
                    acc[d - 1, q] += acc[d, q]
    return total


@dataclass(frozen=True)
class Patterns:
    """One dimension's distinct answer patterns: the counts of every rater type side by side
    (persons x R*J_d*K, in CSR form) with how many persons gave each."""

    indptr: np.ndarray
    indices: np.ndarray
    values: np.ndarray  # float32 counts
    weights: np.ndarray  # float32 multiplicities
    shared: np.ndarray  # leading entries in common with the previous pattern
    n_columns: int

    @classmethod
    def of(cls, counts: list[np.ndarray]) -> Patterns:
        """From the block's counts, one (N, J_d*K) array per rater type."""
        from scipy.sparse import csr_matrix

        stacked = np.concatenate(counts, axis=1)
        unique, weights = np.unique(stacked, axis=0, return_counts=True)  # rows in lexicographic order
        # consecutive rows agree up to their first differing column c, so they share the entries
        # (nonzero counts) before c
        nonzero_before = np.cumsum(unique != 0, axis=1)
        shared = np.zeros(len(unique), np.int32)
        if len(unique) > 1:
            c = np.argmax(unique[1:] != unique[:-1], axis=1)
            shared[1:] = np.where(c > 0, nonzero_before[1:][np.arange(len(c)), np.maximum(c - 1, 0)], 0)
        csr = csr_matrix(unique.astype(np.float32))
        csr.sort_indices()
        return cls(csr.indptr.astype(np.int64), csr.indices.astype(np.int32), csr.data.astype(np.float32),
                   weights.astype(np.float32), shared, stacked.shape[1])

    def loglik(self, tabs: list[np.ndarray], logw: np.ndarray) -> tuple[float, np.ndarray]:
        """The dimension's marginal log-likelihood (as :func:`loglik_kernel`) and its gradient with
        respect to the tables, (R, J_d*K, Q) float32."""
        tab = np.ascontiguousarray(np.concatenate(tabs), dtype=np.float32)
        if tab.shape[0] != self.n_columns:
            raise ValueError(f"tables have {tab.shape[0]} rows for {self.n_columns} count columns")
        G = np.zeros(tab.shape, np.float32)
        total = _fused_kernel()(self.indptr, self.indices, self.values, self.weights, self.shared, tab,
                                np.asarray(logw, np.float32), G)
        return float(total), G.reshape(len(tabs), -1, tab.shape[1])


@dataclass(frozen=True)
class Unpacked:
    a: np.ndarray  # (J,)
    c: np.ndarray  # (J, Kmax-1), 0 where padded
    delta: np.ndarray  # (R,) shift per rater type, in the order of ``types``
    beta: np.ndarray  # (J, Kmax-1) unconstrained intercepts, 0 where padded


class Posterior:
    """Log posterior of the GRM's item parameters and rater shifts, on the unconstrained scale.

    ``counts`` maps each rater type to its counts (N, J, Kmax) (``"all"`` for single-rater data),
    as :func:`workbench.skills.calibrate._counts_by_rater` builds them.
    """

    def __init__(self, counts: dict[str, np.ndarray], dimension: np.ndarray, n_dims: int,
                 n_categories: np.ndarray, n_points: int, dtype=np.float64):
        # the log density and gradient in float64 (float32 products leave L-BFGS too noisy a
        # function near the top: more than twice the calls); the per-person scores, which only
        # feed the information, in float32
        self.dtype = dtype
        self.types = list(counts)
        self.n_cat = np.asarray(n_categories, int)
        J, Kmax = len(self.n_cat), int(self.n_cat.max())
        self.J, self.Kmax = J, Kmax
        self.nodes, w = np.polynomial.hermite_e.hermegauss(n_points)
        logw = np.log(w / w.sum())
        if dtype == np.float32:
            # the sampler's density leaves out the outer nodes, whose weights are below e^-40 of the
            # largest: 8 of 41 (|theta| > 8.5). Their share of any person's integral is far below
            # float32's resolution (on 10,000 x 60, at the mode and at random points around it, the
            # log-likelihood moved by less than 1e-13); the kernel on 33 nodes takes 6.2 ms against
            # 7.7 ms on 41. (A cut at e^-30 keeps 29 nodes, which the compiled loops, vectorized in
            # blocks of 32, run no faster than 41.)
            keep = logw - logw.max() > -FAR_NODES
            self.nodes, logw = self.nodes[keep], logw[keep]
        self.logw = logw.astype(dtype)
        self.blocks = [np.flatnonzero(dimension == d) for d in range(n_dims)]
        first = next(iter(counts.values()))
        self.N = first.shape[0]
        self.C = [[np.ascontiguousarray(counts[t][:, idx, :].reshape(self.N, -1), dtype=dtype)
                   for t in self.types] for idx in self.blocks]
        self.C32 = self.C if dtype == np.float32 else [[c.astype(np.float32) for c in block] for block in self.C]
        # float32 (the sampler's density): the fused kernel over distinct answer patterns
        self.patterns = [Patterns.of(block) for block in self.C] if dtype == np.float32 else None
        self.logw32 = self.logw.astype(np.float32)
        self.tmask = np.arange(Kmax - 1)[None, :] < (self.n_cat - 1)[:, None]  # real thresholds
        self.cmask = np.arange(Kmax)[None, :] < self.n_cat[:, None]  # real categories
        self.c_mu = np.zeros((J, Kmax - 1))
        for j, k in enumerate(self.n_cat):
            if k > 2:
                self.c_mu[j, : k - 1] = np.linspace(-2.0, 2.0, k - 1)
        self.others = [t for t in self.types if t not in ("self", "all")]
        n_o = len(self.others) if len(self.others) >= 2 else 0
        self.H = _zero_sum_basis(n_o) if n_o else np.zeros((0, 0))
        self.free_self = "self" in self.types and bool(self.others)
        self.n_beta = int(self.tmask.sum())
        self.size = J + self.n_beta + max(n_o - 1, 0) + int(self.free_self)

    # ------------------------------------------------------------------ coordinates
    def unpack(self, x: np.ndarray) -> Unpacked:
        J = self.J
        alpha = x[:J]
        beta = np.zeros((J, self.Kmax - 1))
        beta[self.tmask] = x[J : J + self.n_beta]
        steps = np.where(self.tmask, np.exp(np.where(np.arange(self.Kmax - 1)[None, :] > 0, beta, 0.0)), 0.0)
        steps[:, 0] = beta[:, 0]
        c = np.cumsum(steps, axis=1) * self.tmask
        rest = x[J + self.n_beta :]
        delta = np.zeros(len(self.types))
        i = 0
        if self.H.size:
            k = self.H.shape[1]
            d_o = self.H @ rest[:k]
            for t, v in zip(self.others, d_o, strict=True):
                delta[self.types.index(t)] = v
            i = k
        if self.free_self:
            delta[self.types.index("self")] = rest[i]
        return Unpacked(np.exp(alpha), c, delta, beta)

    def start(self) -> np.ndarray:
        """Starting values: a = 1.2, intercepts from each item's marginal proportions."""
        J = self.J
        pooled = np.zeros((J, self.Kmax))
        for d, idx in enumerate(self.blocks):
            tot = sum(c.reshape(self.N, len(idx), self.Kmax).sum(0) for c in self.C[d])
            pooled[idx] = tot
        pooled = pooled + 0.5 * self.cmask  # a half count per category keeps the logits finite
        p = pooled / pooled.sum(1, keepdims=True)
        ge = 1.0 - np.cumsum(p, axis=1)[:, :-1]  # P(Y >= k), k = 1..K-1
        ge = np.clip(ge, 1e-4, 1 - 1e-4)
        a0 = 1.2
        c = -np.log(ge / (1 - ge)) * np.sqrt(1 + a0**2 / 2.9)
        c = np.where(self.tmask, c, 0.0)
        beta = np.zeros_like(c)
        beta[:, 0] = c[:, 0]
        gaps = np.maximum(np.diff(c, axis=1), 0.05)
        beta[:, 1:] = np.log(gaps)
        x = np.zeros(self.size)
        x[:J] = np.log(a0)
        x[J : J + self.n_beta] = beta[self.tmask]
        return x

    # ------------------------------------------------------------------ the density
    def _tables(self, u: Unpacked):
        """z (R, J, T, Q), log category probabilities (R, J, Kmax, Q) with 0 where impossible."""
        shift = self.nodes[None, :] + u.delta[:, None]  # (R, Q)
        z = u.a[None, :, None, None] * shift[:, None, None, :] - u.c[None, :, :, None]
        ls = log_expit(z)
        R, J, _, Q = z.shape
        upper = np.concatenate([np.zeros((R, J, 1, Q)), ls], axis=2)
        lower = np.concatenate([ls, np.full((R, J, 1, Q), -np.inf)], axis=2)
        # an item's last real category has nothing above it
        last = np.zeros((J, self.Kmax), bool)
        last[np.arange(J), self.n_cat - 1] = True
        lower = np.where(last[None, :, :, None], -np.inf, lower)
        with np.errstate(divide="ignore", invalid="ignore"):
            T = upper + np.log(-np.expm1(np.minimum(lower - upper, -1e-300)))
        T = np.where(self.cmask[None, :, :, None], T, 0.0)
        T = np.maximum(T, -700.0)
        return z, T

    def _log_prior(self, x: np.ndarray, u: Unpacked) -> tuple[float, np.ndarray]:
        J = self.J
        alpha = x[:J]
        lp = -0.5 * np.sum(((alpha - A_MU) / A_SD) ** 2)
        g = np.zeros_like(x)
        g[:J] = -(alpha - A_MU) / A_SD**2
        dc = np.where(self.tmask, -(u.c - self.c_mu) / C_SD**2, 0.0)
        lp += -0.5 * np.sum(np.where(self.tmask, ((u.c - self.c_mu) / C_SD) ** 2, 0.0))
        later = self.tmask & (np.arange(self.Kmax - 1)[None, :] > 0)
        lp += float(u.beta[later].sum())  # Jacobian of the ordered transform
        gb = self._dc_to_dbeta(dc, u.beta) + later
        g[J : J + self.n_beta] = gb[self.tmask]
        rest = x[J + self.n_beta :]
        i = 0
        if self.H.size:
            k = self.H.shape[1]
            lp += -0.5 * np.sum((rest[:k] / OTHERS_SD) ** 2)
            g[J + self.n_beta : J + self.n_beta + k] = -rest[:k] / OTHERS_SD**2
            i = k
        if self.free_self:
            lp += -0.5 * (rest[i] / SELF_SD) ** 2
            g[J + self.n_beta + i] = -rest[i] / SELF_SD**2
        return float(lp), g

    def _dc_to_dbeta(self, dc: np.ndarray, beta: np.ndarray) -> np.ndarray:
        """Chain rule from intercepts to the ordered transform's coordinates; works on (..., J, T)."""
        tail = np.flip(np.cumsum(np.flip(dc, -1), -1), -1)  # sum over t >= m
        later = np.arange(self.Kmax - 1) > 0
        return np.where(later, tail * np.exp(np.where(later, beta, 0.0)), tail)

    def logp(self, x: np.ndarray, grad: bool = True):
        """Log posterior (up to a constant) and, with ``grad``, its gradient."""
        u = self.unpack(x)
        z, T = self._tables(u)
        lp, g_prior = self._log_prior(x, u)
        T32 = T.astype(self.dtype)
        R, Q = T.shape[0], T.shape[3]
        G = np.zeros(T.shape) if grad else None
        for d, idx in enumerate(self.blocks):
            tabs = [T32[r, idx].reshape(-1, Q) for r in range(R)]
            if self.patterns is not None:
                ll, G_d = self.patterns[d].loglik(tabs, self.logw)
                if grad:
                    G[:, idx] = G_d.reshape(R, len(idx), self.Kmax, Q)
            else:
                ll, P = loglik_kernel(self.C[d], tabs, self.logw, want_weights=grad)
                if grad:
                    for r in range(R):
                        G[r, idx] = (self.C[d][r].T @ P).reshape(len(idx), self.Kmax, Q)
            lp += ll
        if not grad:
            return lp
        return lp, g_prior + self._chain(G, z, T, u)

    def _dz(self, z: np.ndarray, T: np.ndarray, G: np.ndarray) -> np.ndarray:
        """d/dz from d/dT: W_t (G_{t+1} / p_{t+1} - G_t / p_t), computed in logs."""
        logW = log_expit(z) + log_expit(-z)
        up = np.exp(np.minimum(logW - T[:, :, 1:, :], 700.0))  # W_t / p_{t+1}
        lo = np.exp(np.minimum(logW - T[:, :, :-1, :], 700.0))  # W_t / p_t
        dz = G[:, :, 1:, :] * up - G[:, :, :-1, :] * lo
        return np.where(self.tmask[None, :, :, None], dz, 0.0)

    def _chain(self, G, z, T, u: Unpacked) -> np.ndarray:
        dz = self._dz(z, T, G)  # (R, J, T, Q)
        shift = self.nodes[None, :] + u.delta[:, None]
        da = np.einsum("rjtq,rq->j", dz, shift)
        dc = -dz.sum(axis=(0, 3))
        ddelta = np.einsum("rjtq,j->r", dz, u.a)
        return self._to_x(da * u.a, self._dc_to_dbeta(dc, u.beta), ddelta)

    def _to_x(self, dalpha: np.ndarray, dbeta: np.ndarray, ddelta: np.ndarray) -> np.ndarray:
        """Pack gradients (or per-person scores, with a leading axis) into x's layout."""
        lead = dalpha.shape[:-1]
        out = np.zeros(lead + (self.size,))
        J = self.J
        out[..., :J] = dalpha
        out[..., J : J + self.n_beta] = dbeta[..., self.tmask]
        i = J + self.n_beta
        if self.H.size:
            d_o = np.stack([ddelta[..., self.types.index(t)] for t in self.others], axis=-1)
            k = self.H.shape[1]
            out[..., i : i + k] = d_o @ self.H
            i += k
        if self.free_self:
            out[..., i] = ddelta[..., self.types.index("self")]
        return out

    # ------------------------------------------------------------------ information
    def person_scores(self, x: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        """The log posterior, its gradient, and each person's score vector (N, size): the gradient of
        their marginal log-likelihood. The scores sum to the likelihood's part of the gradient.
        Computed with float32 products (they feed the information); :meth:`logp` is the precise one."""
        u = self.unpack(x)
        z, T = self._tables(u)
        lp, g_prior = self._log_prior(x, u)
        R, J, Kmax, Q = T.shape
        nT = Kmax - 1
        logW = log_expit(z) + log_expit(-z)
        # dT_k/dz_t on the small tables (R, J, K, T, Q): +W_t/p_k for k = t + 1, -W_t/p_k for k = t
        real = self.tmask[None, :, :, None]
        up = np.where(real, np.exp(np.minimum(logW - T[:, :, 1:, :], 700.0)), 0.0)
        lo = np.where(real, -np.exp(np.minimum(logW - T[:, :, :-1, :], 700.0)), 0.0)
        dTdz = np.zeros((R, J, Kmax, nT, Q))
        t = np.arange(nT)
        dTdz[:, :, t + 1, t, :] = up
        dTdz[:, :, t, t, :] += lo
        shift = self.nodes[None, :] + u.delta[:, None]  # (R, Q)
        dTdalpha = dTdz.sum(axis=3) * shift[:, None, None, :] * u.a[None, :, None, None]
        dTddelta = dTdz.sum(axis=3) * u.a[None, :, None, None]
        # intercepts to the ordered transform's coordinates, on the tables' threshold axis
        dTdbeta = np.moveaxis(self._dc_to_dbeta(np.moveaxis(-dTdz, 3, -1).transpose(0, 2, 3, 1, 4),
                                                u.beta).transpose(0, 3, 1, 2, 4), -1, 3)  # (R, J, K, T, Q)
        item_tab = np.concatenate([dTdalpha[:, :, :, None, :], dTdbeta], axis=3)  # (R, J, K, 1+T, Q)
        S = np.zeros((self.N, self.size))
        T_d = T.astype(np.float32)
        for d, idx in enumerate(self.blocks):
            nd = len(idx)
            tabs = [T_d[r, idx].reshape(-1, Q) for r in range(R)]
            ll, P = loglik_kernel(self.C32[d], tabs, self.logw32)
            lp += ll
            s_item = np.zeros((self.N, nd, 1 + nT), dtype=np.float32)
            s_delta = np.zeros((self.N, R))
            for r in range(R):
                Cr = self.C32[d][r].reshape(self.N, nd, Kmax)
                V = (P @ item_tab[r, idx].reshape(-1, Q).T.astype(np.float32)).reshape(self.N, nd, Kmax, 1 + nT)
                s_item += np.einsum("njk,njkp->njp", Cr, V)
                if R > 1:
                    Vd = (P @ dTddelta[r, idx].reshape(-1, Q).T.astype(np.float32)).reshape(self.N, nd, Kmax)
                    s_delta[:, r] = np.einsum("njk,njk->n", Cr, Vd)
            full = np.zeros((self.N, J, 1 + nT))
            full[:, idx] = s_item
            S += self._to_x(full[:, :, 0], full[:, :, 1:], s_delta)
        return lp, g_prior + S.sum(axis=0), S

    def _prior_colors(self) -> tuple[np.ndarray, np.ndarray]:
        """Each coordinate's owner (an item, or itself) and colour (its place within the owner):
        the prior couples coordinates only within an owner."""
        J = self.J
        owner = np.arange(self.size)
        color = np.zeros(self.size, int)
        owner[:J] = np.arange(J)
        rows, cols = np.nonzero(self.tmask)
        owner[J : J + self.n_beta] = rows
        color[J : J + self.n_beta] = 1 + cols
        color[J + self.n_beta :] = self.Kmax + np.arange(self.size - J - self.n_beta)
        return owner, color

    def prior_hessian(self, x: np.ndarray, eps: float = 1e-5) -> np.ndarray:
        """Hessian of the log prior: central differences of its analytic gradient, perturbing every
        item's coordinates of one colour at once (the prior does not couple items)."""
        owner, color = self._prior_colors()
        H = np.zeros((x.size, x.size))
        where = {(o, c): i for i, (o, c) in enumerate(zip(owner, color, strict=True))}
        for c in np.unique(color):
            e = np.where(color == c, eps, 0.0)
            diff = (self._log_prior(x + e, self.unpack(x + e))[1] - self._log_prior(x - e, self.unpack(x - e))[1]) / (2 * eps)
            for i in range(x.size):
                col = where.get((owner[i], c))
                if col is not None:
                    H[i, col] = diff[i]
        return (H + H.T) / 2

    def _colors(self) -> tuple[np.ndarray, np.ndarray]:
        """Colours for a Hessian by finite differences: coordinates of items of different dimensions
        never meet in the log posterior, so one coordinate per dimension can be moved at once; each
        rater shift, which meets every item, has a colour of its own. Returns each coordinate's
        colour and its dimension (-1 for rater shifts)."""
        J = self.J
        item_of = np.empty(J + self.n_beta, int)
        item_of[:J] = np.arange(J)
        item_of[J:] = np.nonzero(self.tmask)[0]
        dim = np.full(self.size, -1)
        dim_of_item = np.empty(J, int)
        for d, idx in enumerate(self.blocks):
            dim_of_item[idx] = d
        dim[: J + self.n_beta] = dim_of_item[item_of]
        color = np.empty(self.size, int)
        for d in range(len(self.blocks)):
            where = np.flatnonzero(dim == d)
            color[where] = np.arange(where.size)
        n = int(color[dim >= 0].max()) + 1 if (dim >= 0).any() else 0
        rest = np.flatnonzero(dim < 0)
        color[rest] = n + np.arange(rest.size)
        return color, dim

    @property
    def n_colors(self) -> int:
        return int(self._colors()[0].max()) + 1

    def observed_information(self, x: np.ndarray) -> np.ndarray:
        """Minus the Hessian of the log posterior (:meth:`hessian`)."""
        return -self.hessian(x)

    def hessian(self, x: np.ndarray) -> np.ndarray:
        """The Hessian of the log posterior at ``x``, the likelihood's part analytic.

        Per person, ``l_n = log sum_q w_q exp(l_nq)``, so (Louis' identity)
        ``d2 l_n = sum_q P_nq (d2 l_nq + g_nq g_nq') - gbar_n gbar_n'`` with ``P_nq`` the posterior
        weights over the nodes, ``g_nq`` the gradient of ``l_nq`` and ``gbar_n`` their mean. The first
        sum is the weighted counts ``G`` (as in :meth:`logp`) times the second derivatives of the log
        category probabilities; the rest is the covariance of ``g_nq`` under ``P``, one product per
        dimension. Derivatives are taken in the natural coordinates (alpha, intercepts c, shifts
        delta) and mapped to x's by the Jacobian of :meth:`unpack`, plus the curvature of the ordered
        transform; the prior's Hessian (:meth:`prior_hessian`) is added. One pass over the data
        instead of two gradient calls per colour (:meth:`hessian_by_differences`).
        """
        u = self.unpack(x)
        z, T = self._tables(u)
        R, J, Kmax, Q = T.shape
        nT = Kmax - 1
        real = self.tmask[None, :, :, None]
        logW = log_expit(z) + log_expit(-z)
        bend = -np.tanh(z / 2)  # W'_t / W_t = 1 - 2 sigmoid(z_t)
        # T_k = log(s_{k-1} - s_k), s = sigmoid(z): it moves with z_{k-1} by +W_{k-1}/p_k (``upk``) and
        # with z_k by -W_k/p_k (``lok``); both on the category axis, 0 where there is no such threshold
        up = np.where(real, np.exp(np.minimum(logW - T[:, :, 1:, :], 700.0)), 0.0)  # W_t / p_{t+1}
        lo = np.where(real, np.exp(np.minimum(logW - T[:, :, :-1, :], 700.0)), 0.0)  # W_t / p_t
        zero = np.zeros((R, J, 1, Q))
        upk, lok = np.concatenate([zero, up], axis=2), np.concatenate([lo, zero], axis=2)  # (R, J, K, Q)
        bupk = np.concatenate([zero, bend * up], axis=2)
        blok = np.concatenate([bend * lo, zero], axis=2)
        D1 = upk - lok  # sum_t dT_k/dz_t
        crossk = upk * lok  # d2 T_k / dz_{k-1} dz_k
        prevk = bupk - upk**2 + crossk  # sum_u d2 T_k / dz_{k-1} dz_u
        nextk = -blok - lok**2 + crossk  # sum_u d2 T_k / dz_k dz_u
        S2sum = prevk + nextk
        a = u.a[None, :, None, None]
        s = (self.nodes[None, :] + u.delta[:, None])[:, None, None, :]  # (R, 1, 1, Q)
        adl_tab = a * s * D1  # dT_k / dalpha
        d_tab = a * D1  # dT_k / ddelta_r

        n_nat = J + J * nT + R
        ia = np.arange(J)
        ic = J + np.arange(J * nT).reshape(J, nT)
        idl = J + J * nT + np.arange(R)
        Hn = np.zeros((n_nat, n_nat))
        g_c = np.zeros((J, nT))
        Ts = T.astype(self.dtype)
        t = np.arange(nT)
        for idx, C in zip(self.blocks, self.C, strict=True):
            nd = len(idx)
            _, P = loglik_kernel(C, [Ts[r, idx].reshape(-1, Q) for r in range(R)], self.logw)
            G = np.stack([(C[r].T @ P).reshape(nd, Kmax, Q) for r in range(R)])  # (R, nd, K, Q)
            ad = a[:, idx]

            def tot(arr, axes=(0, 3)):
                return arr.sum(axis=axes)

            # sum_q P_nq d2 l_nq = sum G d2 T, in the natural coordinates (alpha, c, delta)
            aa = tot(G * (ad**2 * s**2 * S2sum[:, idx] + ad * s * D1[:, idx]), (0, 2, 3))
            Yp, Yn = tot(G * ad * s * prevk[:, idx]), tot(G * ad * s * nextk[:, idx])  # (nd, K)
            ac = -(Yp[:, 1:] + Yn[:, :-1])
            Z1 = tot(G * (bupk[:, idx] - upk[:, idx] ** 2))
            Z2 = tot(G * (-blok[:, idx] - lok[:, idx] ** 2))
            Z3 = tot(G * crossk[:, idx])
            cc = np.zeros((nd, nT, nT))
            cc[:, t, t] = Z1[:, 1:] + Z2[:, :-1]
            cc[:, t[:-1], t[:-1] + 1] = cc[:, t[:-1] + 1, t[:-1]] = Z3[:, 1:-1]
            adl = tot(G * (ad**2 * s * S2sum[:, idx] + ad * D1[:, idx]), (2, 3)).T  # (nd, R)
            Wp, Wn = (G * ad * prevk[:, idx]).sum(axis=3), (G * ad * nextk[:, idx]).sum(axis=3)  # (R, nd, K)
            cdl = -(Wp[:, :, 1:] + Wn[:, :, :-1]).transpose(1, 2, 0)  # (nd, T, R)
            dd = (G * ad**2 * S2sum[:, idx]).sum(axis=(1, 2, 3))
            g_c[idx] = -(tot(G * upk[:, idx])[:, 1:] - tot(G * lok[:, idx])[:, :-1])

            # the covariance of g_nq under P_nq (item coordinates of this dimension, then the shifts),
            # over blocks of persons to bound the memory
            width = nd * (1 + nT) + R
            cov = np.zeros((width, width))
            block = max(1, 2_000_000 // (Q * width))  # 16 MB of person gradients at a time
            for first in range(0, self.N, block):
                rows = slice(first, min(first + block, self.N))
                n = rows.stop - rows.start
                g = np.zeros((n, Q, nd, 1 + nT))
                gd = np.zeros((n, Q, R))
                for r in range(R):
                    Cr = C[r][rows].reshape(n, nd, Kmax)
                    g[:, :, :, 0] += (Cr.transpose(1, 0, 2) @ adl_tab[r, idx]).transpose(1, 2, 0)
                    g[:, :, :, 1:] -= (Cr[:, :, 1:, None] * up[r, idx][None] - Cr[:, :, :-1, None] * lo[r, idx][None]
                                       ).transpose(0, 3, 1, 2)
                    gd[:, :, r] = C[r][rows] @ d_tab[r, idx].reshape(nd * Kmax, Q)
                g = np.concatenate([g.reshape(n, Q, nd * (1 + nT)), gd], axis=2)
                w = P[rows]
                gbar = np.einsum("nq,nqa->na", w, g)
                X = (np.sqrt(w)[:, :, None] * g).reshape(n * Q, width)
                cov += X.T @ X - gbar.T @ gbar
            # scatter into the natural coordinates (each cross block on both sides)
            where = np.concatenate([np.column_stack([ia[idx], ic[idx]]).ravel(), idl])
            Hn[np.ix_(where, where)] += cov
            ja, jc = ia[idx], ic[idx]
            Hn[ja, ja] += aa
            Hn[ja[:, None], jc] += ac
            Hn[jc, ja[:, None]] += ac
            Hn[jc[:, :, None], jc[:, None, :]] += cc
            Hn[ja[:, None], idl[None, :]] += adl
            Hn[idl[None, :], ja[:, None]] += adl
            Hn[jc[:, :, None], idl[None, None, :]] += cdl
            Hn[idl[None, None, :], jc[:, :, None]] += cdl
            Hn[idl, idl] += dd
        # natural coordinates -> x: the Jacobian of unpack (rows: alpha, c, delta), plus the curvature of
        # the ordered transform, c_t = beta_0 + sum_{1 <= m <= t} exp(beta_m), weighted by dl/dc
        eye_a = np.zeros((n_nat, J))
        eye_a[ia, ia] = 1.0
        eye_c = np.zeros((n_nat, J, nT))
        eye_c[ic.ravel(), np.repeat(ia, nT), np.tile(np.arange(nT), J)] = 1.0
        eye_d = np.zeros((n_nat, R))
        eye_d[idl, np.arange(R)] = 1.0
        Jx = self._to_x(eye_a, self._dc_to_dbeta(eye_c, u.beta), eye_d)  # (n_nat, size)
        H = Jx.T @ Hn @ Jx
        curv = self._dc_to_dbeta(g_c, u.beta)
        curv[:, 0] = 0.0
        H[np.diag_indices_from(H)] += self._to_x(np.zeros(J), curv, np.zeros(R))
        H += self.prior_hessian(x)
        return (H + H.T) / 2

    def hessian_by_differences(self, x: np.ndarray, eps: float = 1e-4) -> np.ndarray:
        """The Hessian of the log posterior by central differences of the analytic gradient, two
        gradient calls per colour (:meth:`_colors`); the reference :meth:`hessian` is tested against."""
        color, dim = self._colors()
        H = np.zeros((x.size, x.size))
        shifts = np.flatnonzero(dim < 0)
        for c in range(int(color.max()) + 1):
            moved = np.flatnonzero(color == c)
            e = np.where(color == c, eps, 0.0)
            diff = (self.logp(x + e)[1] - self.logp(x - e)[1]) / (2 * eps)
            if dim[moved[0]] < 0:  # a rater shift: a whole column
                H[:, moved[0]] = diff
            else:
                for i in np.flatnonzero(dim >= 0):
                    col = moved[dim[moved] == dim[i]]
                    if col.size:
                        H[i, col[0]] = diff[i]
                H[shifts[:, None], moved[None, :]] = 0.0  # filled from the shifts' columns below
        H[shifts, :] = H[:, shifts].T
        return (H + H.T) / 2

    def information(self, x: np.ndarray) -> tuple[np.ndarray, str]:
        """The precision of the Laplace approximation at ``x`` and how it was computed.

        The observed information (:meth:`observed_information`) when a Hessian by differences would
        take at most ``MAX_HESSIAN_COLORS`` colours (the rule from when it was computed so; the analytic
        one costs about a gradient call, and its memory grows with the items of a dimension); otherwise (long unidimensional tests) the cross-product of the
        per-person scores plus the prior's Hessian, which needs many more persons than parameters
        (it is then checked to be at least 20 times as many, or the observed one is computed anyway).
        """
        if self.n_colors <= MAX_HESSIAN_COLORS or self.N < 20 * self.size:
            return self.observed_information(x), "observed (analytic Hessian)"
        _, _, S = self.person_scores(x)
        return S.T @ S.astype(np.float64) - self.prior_hessian(x), "cross-product of per-person scores plus the prior's Hessian"

    def find_mode(self, x0: np.ndarray | None = None, tol: float = 1e-3, step=None) -> Mode:
        """The posterior mode by L-BFGS on whitened coordinates, and the precision there.

        The information at the start (:meth:`information`, ``A = L L'``), when it is positive
        definite there, whitens the coordinates, ``y = L'(x - x0)``,
        so that the Hessian L-BFGS sees is close to the identity and it needs few gradient calls (on
        10,000 x 60: about 25, against about 110 unwhitened). Converged when the Newton decrement
        ``g' A^-1 g`` at the end is below ``tol`` (the log posterior is then within about ``tol / 2``
        of its maximum).
        """
        from scipy.linalg import cho_factor, cho_solve, solve_triangular
        from scipy.optimize import minimize

        x0 = self.start() if x0 is None else np.asarray(x0, float)
        A, _ = self.information(x0)
        try:
            L = np.linalg.cholesky(A)
        except np.linalg.LinAlgError:  # not yet concave here: L-BFGS on the coordinates as they are
            L = np.eye(x0.size)

        def to_x(y):
            return x0 + solve_triangular(L, y, trans="T", lower=True)

        def f(y):
            value, grad = self.logp(to_x(y))
            return -value, -solve_triangular(L, grad, lower=True)

        res = minimize(f, np.zeros(x0.size), jac=True, method="L-BFGS-B",
                       options={"maxiter": 1000, "maxfun": 5000, "gtol": GTOL, "ftol": 1e-13},
                       callback=None if step is None else lambda _y: step())
        x = to_x(res.x)
        lp, g = self.logp(x)
        A, kind = self.information(x)
        try:
            dec = float(g @ cho_solve(cho_factor(A), g))
        except np.linalg.LinAlgError:
            dec = float("inf")
        return Mode(x, lp, A, dec < tol, int(res.nit), kind)


@dataclass(frozen=True)
class Mode:
    """The posterior mode and the precision (cross-product information plus the prior's) there."""

    x: np.ndarray
    logp: float
    precision: np.ndarray
    converged: bool
    iterations: int
    information: str = ""


def _zero_sum_basis(n: int) -> np.ndarray:
    """An orthonormal basis (n, n-1) of the vectors that sum to zero (Helmert contrasts)."""
    H = np.zeros((n, n - 1))
    for k in range(1, n):
        H[:k, k - 1] = 1.0
        H[k, k - 1] = -k
        H[:, k - 1] /= np.sqrt(k * (k + 1))
    return H
