"""PyTensor Ops for the GRM's calibration: the quadrature marginal log-likelihood (with its
gradient) for the declarative PyMC model, and the whole numpy log posterior for NUTS.

For each dimension d, with ``C_r`` the counts of rater type r (persons x items_d*K) and
``T_r`` the log category probabilities on the quadrature nodes (items_d*K x Q),

    loglik = sum_n sum_d log sum_q w_q exp( sum_r (C_r T_r)[n, q] )

and d loglik / d T_r = C_r^T P, with P the per-person posterior weights over nodes. That heavy
part runs in float32 in one compiled pass over the distinct answer patterns
(:class:`workbench.skills.posterior.Patterns`, the one implementation, shared with the numpy
posterior), several times faster than the same graph in PyTensor; the small table T (items x K x Q)
and its dependence on a, b and the rater shifts stay in PyTensor, which differentiates them.
"""

from __future__ import annotations

import os

import numpy as np
import pytensor.tensor as pt
from pytensor.gradient import DisconnectedType
from pytensor.graph.basic import Apply
from pytensor.graph.op import Op

from .posterior import Patterns


class _ValueAndGradient(Op):
    """An Op whose outputs are a scalar and its gradient with respect to the one input; its own
    gradient is that second output (which is not differentiated further)."""

    def grad(self, inputs, output_grads):
        g_value, g_gradient = output_grads
        if not isinstance(g_gradient.type, DisconnectedType):
            raise NotImplementedError(f"the gradient output of {type(self).__name__} is not differentiable")
        _, gradient = self(*inputs)
        return [g_value * gradient]

    def connection_pattern(self, node):
        return [[True, False]]


class MarginalLoglik(_ValueAndGradient):
    """``loglik, dT = MarginalLoglik(...)(T)`` with ``T`` of shape (R, J, K, Q)."""

    __props__ = ()

    def __init__(self, counts: list[np.ndarray], dimension: np.ndarray, n_dims: int, log_weights: np.ndarray):
        # counts: one (N, J, K) array per rater type, in the order of T's first axis
        self.blocks = [np.flatnonzero(dimension == d) for d in range(n_dims)]
        N = counts[0].shape[0]
        self.patterns = [Patterns.of([c[:, idx, :].reshape(N, -1) for c in counts]) for idx in self.blocks]
        self.logw = np.asarray(log_weights, dtype=np.float32)
        self.shape = (len(counts),) + counts[0].shape[1:] + (len(log_weights),)

    def make_node(self, T):
        T = pt.as_tensor_variable(T)
        return Apply(self, [T], [pt.dscalar(), pt.dtensor4()])

    def perform(self, node, inputs, outputs):
        (T,) = inputs
        T32 = T.astype(np.float32)
        R, J, K, Q = T.shape
        total = 0.0
        grad = np.zeros(T.shape, dtype=np.float64)
        for d, idx in enumerate(self.blocks):
            tabs = [T32[r, idx].reshape(-1, Q) for r in range(R)]
            ll, G = self.patterns[d].loglik(tabs, self.logw)
            total += ll
            grad[:, idx] = G.reshape(R, len(idx), K, Q)
        outputs[0][0] = np.asarray(total)
        outputs[1][0] = grad


class LogPosterior(_ValueAndGradient):
    """``logp, grad = LogPosterior(posterior)(x)``: a numpy :class:`~workbench.skills.posterior.Posterior`
    (log density and analytic gradient on the unconstrained scale) as a PyTensor Op, so that PyMC's
    NUTS samples it.

    Each sampler process runs its BLAS products on one thread: with a process per chain on every
    core, OpenBLAS's own threads would take turns with the other chains' (on 2 cores, two chains of
    10,000 x 60 ran six times slower so). The limit is set once in each process other than the one
    that built the Op, on its first evaluation there; the building process limits itself around
    sampling (the NUTS route of :mod:`workbench.skills.calibrate`).
    """

    def __init__(self, posterior):
        self.posterior = posterior
        self._checked = os.getpid()  # the building process: it limits itself around sampling

    def make_node(self, x):
        x = pt.as_tensor_variable(x)
        return Apply(self, [x], [pt.dscalar(), pt.dvector()])

    def perform(self, node, inputs, outputs):
        if os.getpid() != self._checked:  # a sampler process, on its first evaluation
            from threadpoolctl import threadpool_limits

            threadpool_limits(1, user_api="blas")
            self._checked = os.getpid()
        value, grad = self.posterior.logp(np.asarray(inputs[0], dtype=float))
        outputs[0][0] = np.asarray(value, dtype=np.float64)
        outputs[1][0] = np.asarray(grad, dtype=np.float64)
