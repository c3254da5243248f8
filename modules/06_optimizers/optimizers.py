# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     notebook_metadata_filter: -jupytext.text_representation
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Module 06 — Optimizers
#
# Module 05 gave every parameter a `.grad`: how fast the loss grows when that
# entry grows. An **optimizer** turns gradients into changes of the parameters,
# one small step at a time, and it is the only code in the framework that writes
# to the weights. In this module you write the three rules almost every model is
# trained with: SGD (with **momentum** and **weight decay**), **Adam**, and AdamW.
#
# **Systems concept: optimizer state memory.** Plain SGD remembers nothing between
# steps. Momentum keeps one running buffer per parameter (1× the parameter bytes);
# Adam keeps two (2×). With the gradients that is 4× the parameter memory for an
# Adam step before a single activation is stored, and `state_bytes()` makes that
# number a method you can measure instead of a surprise.
#
# You edit only this file. `from tinytorch.optim import Adam` reads it directly.
#
# | exercise | what you write |
# |---|---|
# | 06.1 zero_grad | forget the gradients of the previous step |
# | 06.2 sgd | the plain SGD update and coupled (L2) weight decay |
# | 06.3 sgd_momentum | the velocity buffer of SGD with momentum |
# | 06.4 adam | running moments, bias correction and the Adam update |
# | 06.5 adamw | decoupled weight decay on top of the Adam update |
# | 06.6 state_memory | parameter bytes and optimizer state bytes |

# %%
from __future__ import annotations

import numpy as np

from tinytorch._cells import part_of
from tinytorch.core import Tensor

# %% [markdown]
# ## One loop, many rules
#
# Every optimizer here does the same thing in `step()`: for each parameter that
# received a gradient, apply an update rule, **in place**. In place matters: a
# `Linear` layer holds its weight Tensor, the optimizer holds the same Tensor, and
# `param.data -= ...` changes the numbers both of them see without allocating a
# second weight matrix. So the base class below owns the loop (it is given), and
# each optimizer only writes `_update(index, param, grad)`: the rule for one
# parameter, where `grad` is a float32 NumPy array of the parameter's shape.
#
# Everything an optimizer remembers between steps lives in one place,
# `self.state`: a dict from a buffer name (`"velocity"`, `"m"`, `"v"`) to one
# array per parameter. One place means it can be measured (06.6) and saved to
# disk and restored (Module 07) without knowing which optimizer it is.


# %%
class Optimizer:
    """Base class: the parameters, the learning rate, the step loop and the state.

    Attributes
        params: list[Tensor] — the tensors this optimizer updates (shared, never copied).
        lr: float — learning rate; code outside may change it between steps.
        step_count: int — number of `step()` calls so far. Inside `_update` it is the
            number of the step being taken, starting at 1.
        state: dict[str, list[np.ndarray]] — per-parameter buffers, one float32 array of
            the parameter's shape per parameter and name. Empty for plain SGD.

    Subclasses allocate their buffers in `__init__` (all at once, so the memory cost is
    paid, and visible, as soon as the optimizer exists) and implement `_update`.
    """

    def __init__(self, params, lr: float):
        self.params = _parameter_list(params, type(self).__name__)
        if not lr > 0:
            raise ValueError(
                f"{type(self).__name__}: the learning rate must be a positive number, got {lr!r}"
            )
        self.lr = float(lr)
        self.step_count = 0
        self.state: dict[str, list[np.ndarray]] = {}

    def _new_buffers(self) -> list[np.ndarray]:
        """One float32 zero array per parameter, same shapes: exactly parameter_bytes() bytes."""
        return [np.zeros_like(param.data) for param in self.params]

    # ---- 06.1 zero_grad -----------------------------------------------------
    def zero_grad(self) -> None:
        """Forget the gradients of the previous step: set every parameter's `.grad` to None.

        Backward passes *accumulate* into `.grad` (+=), so without this call the next
        gradient would be added to the old one. None (rather than a Tensor of zeros)
        also frees the gradient memory until the next backward pass allocates it again.
        Cost: 0 FLOPs; frees up to parameter_bytes() bytes.
        """
        ### BEGIN SOLUTION 06.1
        for param in self.params:
            param.grad = None
        ### END SOLUTION

    # ---- the step loop (given) ------------------------------------------------
    def step(self) -> None:
        """Update every parameter whose `.grad` is set, in place; skip those with None.

        All gradients are checked before any parameter changes, so a bad gradient never
        leaves the model half-updated.
        """
        grads = [_gradient_of(param, index) for index, param in enumerate(self.params)]
        self.step_count += 1
        for index, (param, grad) in enumerate(zip(self.params, grads, strict=True)):
            if grad is not None:
                self._update(index, param, grad)

    def _update(self, index: int, param: Tensor, grad: np.ndarray) -> None:
        """The update rule for one parameter: change `param.data` in place."""
        raise NotImplementedError(f"{type(self).__name__} does not define an update rule")


# %% [markdown]
# ### What an optimizer keeps in memory (06.6)
#
# An optimizer holds the parameters it updates and, per parameter, the buffers of its
# rule in `self.state` (none for plain SGD, one for momentum, two for Adam). Count both.


# %%
@part_of(Optimizer)
class OptimizerMemory:
    """06.6: bytes of the parameters and of the optimizer's state; given: its repr."""

    def parameter_bytes(self) -> int:
        """Bytes held by the parameters this optimizer updates (float32: 4 per entry)."""
        ### BEGIN SOLUTION 06.6
        return sum(param.memory_footprint() for param in self.params)
        ### END SOLUTION

    def state_bytes(self) -> int:
        """Bytes held by the optimizer's own buffers in `self.state`.

        SGD: 0. SGD with momentum: 1 × parameter_bytes(). Adam, AdamW: 2 × parameter_bytes()
        plus 4 bytes per parameter Tensor (its own step count). The optimizer's step_count
        (a Python int) is not counted.
        """
        ### BEGIN SOLUTION 06.6
        return sum(buffer.nbytes for buffers in self.state.values() for buffer in buffers)
        ### END SOLUTION

    def _settings(self) -> str:
        return f"lr={self.lr:g}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({len(self.params)} parameters, {self._settings()})"


def _parameter_list(params, who: str) -> list[Tensor]:
    """Check that `params` is a non-empty collection of distinct Tensors; return it as a list."""
    if isinstance(params, Tensor):
        raise TypeError(
            f"{who} expects a list of Tensors, got a single Tensor. Wrap it: {who}([w], ...)."
        )
    if callable(getattr(params, "parameters", None)):
        raise TypeError(
            f"{who} expects a list of Tensors, got a {type(params).__name__}. "
            f"Pass its parameters instead: {who}(model.parameters(), ...)."
        )
    try:
        params = list(params)
    except TypeError:
        raise TypeError(
            f"{who} expects a list of Tensors, got {type(params).__name__} {params!r}"
        ) from None
    if not params:
        raise ValueError(
            f"{who} got an empty list of parameters: there is nothing to update. "
            f"Check that the model you took parameters() from has layers with weights."
        )
    for index, param in enumerate(params):
        if not isinstance(param, Tensor):
            raise TypeError(
                f"{who}: parameter {index} is a {type(param).__name__}, not a Tensor. "
                f"An optimizer updates Tensors in place, so wrap arrays with Tensor(...) "
                f"and keep that Tensor in your model."
            )
    if len({id(param) for param in params}) != len(params):
        raise ValueError(
            f"{who}: the same Tensor appears twice in the parameter list, so it would be "
            f"updated twice per step. Pass each parameter once."
        )
    return params


def _gradient_of(param: Tensor, index: int) -> np.ndarray | None:
    """`param.grad` as a float32 array of the parameter's shape, or None if there is none."""
    grad = param.grad
    if grad is None:
        return None
    grad = np.asarray(grad.data if isinstance(grad, Tensor) else grad, dtype=np.float32)
    if grad.shape != param.shape:
        raise ValueError(
            f"parameter {index} has shape {param.shape} but its .grad has shape {grad.shape}. "
            f"A gradient must have exactly its parameter's shape: check the gradient rule "
            f"(or the hand-written .grad) that produced it."
        )
    return grad


# %% [markdown]
# ## SGD, weight decay and momentum
#
# **Stochastic gradient descent** walks downhill: `p ← p − lr · g`.
#
# **Weight decay (coupled, "L2")** adds `wd · p` to the gradient before the step:
# `g ← g + wd · p`. That is exactly the gradient of an extra loss term
# `½ · wd · ‖p‖²`, which pulls every weight towards zero a little on each step.
# It is *coupled*: the decay travels through the same path as the gradient, which
# is harmless for SGD and — as 06.5 shows — not harmless for Adam.
#
# **Momentum** keeps a running *velocity* per parameter and steps along it:
#
#     v ← μ · v + g          p ← p − lr · v
#
# Gradients that keep pointing the same way add up (up to 1/(1−μ) = 10× for
# μ = 0.9); gradients that flip sign between steps cancel. The ravine problem —
# steep walls, a gentle floor — is where this shines.
#
# NOTE: never change `grad` in place. It is the `.grad` array the user (or a later
# step of the framework) can still read; `grad = grad + ...` makes a new array.


# %%
class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum and coupled weight decay.

        d ← g + wd · p                (weight decay, if weight_decay > 0)
        v ← μ · v + d;  d ← v         (momentum, if momentum > 0)
        p ← p − lr · d

    State: "velocity" (1 × parameter bytes) when momentum > 0, else nothing.
    Cost per entry and step: 2 FLOPs, +2 with weight decay, +2 with momentum.

    >>> w = Tensor([1.0, 2.0]); w.grad = Tensor([0.5, -0.5])
    >>> SGD([w], lr=0.1).step(); w.data
    array([0.95, 2.05], dtype=float32)
    """

    def __init__(self, params, lr: float = 0.01, momentum: float = 0.0, weight_decay: float = 0.0):
        super().__init__(params, lr)
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"SGD: momentum must be in [0, 1), got {momentum!r} (0.9 is typical)")
        if weight_decay < 0:
            raise ValueError(f"SGD: weight_decay must be >= 0, got {weight_decay!r}")
        self.momentum = float(momentum)
        self.weight_decay = float(weight_decay)
        if self.momentum > 0:
            self.state["velocity"] = self._new_buffers()

    def _update(self, index: int, param: Tensor, grad: np.ndarray) -> None:
        ### BEGIN SOLUTION 06.2
        if self.weight_decay:
            grad = grad + self.weight_decay * param.data
        ### END SOLUTION
        if self.momentum:
            grad = self._velocity(index, grad)
        ### BEGIN SOLUTION 06.2
        param.data -= self.lr * grad
        ### END SOLUTION

    def _settings(self) -> str:
        return f"lr={self.lr:g}, momentum={self.momentum:g}, weight_decay={self.weight_decay:g}"


# %% [markdown]
# ### Momentum (06.3)
#
# With momentum > 0, `_update` steps along a velocity instead of the raw gradient. The
# velocity is this parameter's buffer in `self.state`, kept from step to step and
# updated in place; it has the parameter's shape.


# %%
@part_of(SGD)
class SGDMomentum:
    """06.3: the velocity SGD steps along when momentum > 0."""

    def _velocity(self, index: int, grad: np.ndarray) -> np.ndarray:
        """v ← μ · v + grad for parameter `index`, updated in place; returns v.
        Cost: 2 FLOPs per entry, no new memory."""
        ### BEGIN SOLUTION 06.3
        velocity = self.state["velocity"][index]
        velocity *= self.momentum
        velocity += grad
        return velocity
        ### END SOLUTION


# %% [markdown]
# ## Adam
#
# Adam (Kingma & Ba, 2015) keeps two running averages per entry:
#
#     m ← β1 · m + (1 − β1) · g        the mean of recent gradients (a momentum)
#     v ← β2 · v + (1 − β2) · g²       the mean of recent squared gradients
#
# and steps by `m / √v`: every entry moves by about `lr`, whatever the scale of its
# gradient. A weight whose gradients are tiny gets the same step size as one whose
# gradients are huge.
#
# **Bias correction.** `m` and `v` start at zero, so after the first step
# `m = 0.1 · g` and `v = 0.001 · g²`: both far too small. Dividing by
# `1 − β1^t` and `1 − β2^t` (t = the step number, from 1) undoes exactly that
# shrinkage, so the very first step already moves each entry by about `lr`:
#
#     m̂ = m / (1 − β1^t)     v̂ = v / (1 − β2^t)     p ← p − lr · m̂ / (√v̂ + ε)
#
# `ε` (1e-8) only keeps the division finite where `v̂` is zero.
#
# NOTE: t counts the updates of *this* parameter, not calls to `step()`. A
# parameter without a gradient on some step (a frozen layer, a branch of the model
# this batch did not use) keeps m and v unchanged, so its correction must not advance either:
# with a global t, its next step would divide m by 1 − β1^t for a larger t than
# its m has seen, and move too little. PyTorch keeps the same per-parameter `step`.


# %%
class Adam(Optimizer):
    """Adam with bias correction; optional coupled (L2) weight decay like SGD's.

        g ← g + wd · p                                     (if weight_decay > 0)
        m ← β1·m + (1−β1)·g        v ← β2·v + (1−β2)·g²
        p ← p − lr · (m / (1−β1^t)) / (√(v / (1−β2^t)) + ε)     t = this parameter's steps

    State: "m" and "v", 2 × parameter bytes, and "step", one float32 count per parameter
    (as PyTorch keeps it). Cost: about 12 FLOPs and one square root per entry and step.
    """

    def __init__(
        self,
        params,
        lr: float = 0.001,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ):
        super().__init__(params, lr)
        beta1, beta2 = betas
        if not (0.0 <= beta1 < 1.0 and 0.0 <= beta2 < 1.0):
            raise ValueError(f"{type(self).__name__}: betas must be in [0, 1), got {betas!r}")
        if not eps > 0 or weight_decay < 0:
            raise ValueError(
                f"{type(self).__name__}: eps must be > 0 and weight_decay >= 0, "
                f"got eps={eps!r}, weight_decay={weight_decay!r}"
            )
        self.betas = (float(beta1), float(beta2))
        self.eps = float(eps)
        self.weight_decay = float(weight_decay)
        self.state["m"] = self._new_buffers()
        self.state["v"] = self._new_buffers()
        # How many updates each parameter has received: a float32 number per parameter
        # (exact up to 2^24 steps), kept in the state so that saving the state saves it.
        self.state["step"] = [np.zeros((), dtype=np.float32) for _ in self.params]

    def _update(self, index: int, param: Tensor, grad: np.ndarray) -> None:
        ### BEGIN SOLUTION 06.4
        if self.weight_decay:
            grad = grad + self.weight_decay * param.data
        ### END SOLUTION
        self._adam_step(index, param, grad)

    def _adam_step(self, index: int, param: Tensor, grad: np.ndarray) -> None:
        """Update m and v of parameter `index` with `grad` and move `param` (shared with AdamW)."""
        ### BEGIN SOLUTION 06.4
        beta1, beta2 = self.betas
        m, v = self.state["m"][index], self.state["v"][index]
        m *= beta1
        m += (1.0 - beta1) * grad
        v *= beta2
        v += (1.0 - beta2) * grad * grad
        step = self.state["step"][index]
        step += 1  # in place: this parameter's own count of updates
        t = float(step)
        m_hat = m / (1.0 - beta1**t)
        v_hat = v / (1.0 - beta2**t)
        param.data -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)
        ### END SOLUTION

    def _settings(self) -> str:
        beta1, beta2 = self.betas
        return (
            f"lr={self.lr:g}, betas=({beta1:g}, {beta2:g}), eps={self.eps:g}, "
            f"weight_decay={self.weight_decay:g}"
        )


# %% [markdown]
# ## AdamW: decoupled weight decay
#
# Put L2 weight decay into Adam's gradient and it is divided by `√v̂` like
# everything else: a weight with large gradients is hardly decayed, a weight with
# small gradients is decayed a lot. Loshchilov & Hutter (2019) *decouple* the
# decay from the gradient: shrink the weight directly, then take a plain Adam step
# with the raw gradient.
#
#     p ← p − lr · wd · p          then the Adam step with g (no wd inside m or v)
#
# Now every weight shrinks by the same fraction `lr · wd` per step, whatever its
# gradient history — which is what "weight decay" was meant to be.


# %%
class AdamW(Adam):
    """Adam with decoupled weight decay: p ← p · (1 − lr · wd), then Adam with the raw g.

    Same state as Adam (2 × parameter bytes + a step count each); weight_decay defaults
    to 0.01.
    With weight_decay=0 it is exactly Adam.
    """

    def __init__(
        self,
        params,
        lr: float = 0.001,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.01,
    ):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)

    def _update(self, index: int, param: Tensor, grad: np.ndarray) -> None:
        ### BEGIN SOLUTION 06.5
        param.data *= 1.0 - self.lr * self.weight_decay
        self._adam_step(index, param, grad)
        ### END SOLUTION


# %% [markdown]
# ## Try it
#
# A long narrow valley: `f(x) = ½ (x₀² + 100 · x₁²)`, gradient `(x₀, 100 · x₁)`,
# written by hand so no other module is needed. Plain SGD must keep its learning
# rate below 2/100 or it diverges along x₁, and then crawls along x₀; momentum and
# Adam get much further in the same number of steps. Run
# `python modules/06_optimizers/optimizers.py`.

# %%
if __name__ == "__main__":
    curvature = np.array([1.0, 100.0], dtype=np.float32)
    for label, make in (
        ("SGD lr=0.015", lambda p: SGD(p, lr=0.015)),
        ("SGD lr=0.015 momentum=0.9", lambda p: SGD(p, lr=0.015, momentum=0.9)),
        ("Adam lr=0.1", lambda p: Adam(p, lr=0.1)),
        ("AdamW lr=0.1 wd=0.01", lambda p: AdamW(p, lr=0.1, weight_decay=0.01)),
    ):
        x = Tensor([3.0, 1.0])
        optimizer = make([x])
        for _ in range(100):
            x.grad = Tensor(curvature * x.data)
            optimizer.step()
        print(
            f"{label:26s} |x| after 100 steps: {np.linalg.norm(x.data):.2e}   "
            f"state: {optimizer.state_bytes()} bytes"
        )
    weights = [Tensor(np.zeros((784, 128))), Tensor(np.zeros(128))]
    for optimizer in (SGD(weights), SGD(weights, momentum=0.9), Adam(weights)):
        print(
            f"{type(optimizer).__name__:4s} on a 784×128 layer: parameters "
            f"{optimizer.parameter_bytes():,} B, state {optimizer.state_bytes():,} B"
        )
