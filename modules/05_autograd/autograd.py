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
# # Module 05 — Autograd
#
# A model is a long chain of Tensor operations that ends in one number, the loss.
# To improve the model we need, for every parameter entry, how fast the loss
# changes when that entry changes: its **gradient**. Working that out by hand for
# every model is hopeless. **Autograd** does it for any model: while the forward
# pass runs, every operation records what it read; afterwards `loss.backward()`
# walks those records from the loss back to the parameters and applies the
# **chain rule** once per operation. That walk is **backpropagation**.
#
# Module 01 left `requires_grad`, `grad` and `backward()` dormant in `Tensor`.
# `enable_autograd()` switches them on *without changing a line of module 01*: it
# replaces the few primitive operations (`+ * ** matmul sum max reshape transpose
# exp log` and indexing) with versions that also record a backward rule. Every
# other operation — `-`, `/`, `mean`, `.T`, the activations of module 02, the
# layers of module 03, the losses of module 04 — is built from those primitives
# and therefore differentiates for free.
#
# **Systems concept: the memory of the graph.** To apply the chain rule later,
# every recorded operation keeps its inputs and output alive until `backward()`
# has run and the graph is dropped. A forward pass with gradients on therefore
# holds *every* intermediate result at once; with `no_grad()` each one is freed as
# soon as the next operation has used it. `graph_stats()` measures that cost.
#
# You edit only this file. `from tinytorch.core import enable_autograd` reads it
# directly.
#
# | exercise | what you write |
# |---|---|
# | 05.1 unbroadcast | sum a gradient back to the shape of a broadcast input |
# | 05.2 add_mul | backward rules of `+` and `*` |
# | 05.3 pow_exp_log | backward rules of `**`, `exp`, `log` |
# | 05.4 matmul | backward rule of matmul (batched and 1-D too) |
# | 05.5 reductions | backward rules of `sum` and `max` along axes |
# | 05.6 shape_and_index | backward rules of `reshape`, `transpose`, indexing |
# | 05.7 backward | topological order, seeding and accumulating `.grad` |
# | 05.8 no_grad | a context manager that stops recording |
# | 05.9 enable_autograd | install every autograd version on `Tensor` |
# | 05.10 numerical_gradient | central differences, the referee of every rule |
# | 05.11 graph_stats | count the operations and bytes a graph keeps alive |

# %%
from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from tinytorch.core import Tensor

# %% [markdown]
# ## The computational graph and the chain rule
#
# Take `y = (a * b).sum()`. Autograd records two operations:
#
# ```
#   a ─┐
#      ├─ mul ──► c ── sum ──► y
#   b ─┘
# ```
#
# Each recorded result remembers its **parents** (the tensors it was computed
# from) and a **backward rule**: given `grad_out` — dy/d(result), an array of the
# result's shape — return dy/d(parent) for every parent. For `c = a * b` the rule
# is `grad_a = grad_out * b`, `grad_b = grad_out * a`: the local derivative times
# the gradient arriving from above. That product *is* the chain rule, and each
# rule only needs to know its own operation. `backward()` then visits the graph
# from `y` down to the leaves, calling each rule once.
#
# The machinery that records a node is given below. `attach_backward` is also how
# later modules add operations written directly in NumPy: compute the result, then
# attach a rule that maps the result's gradient to the inputs' gradients.


# %%
class Node:
    """One recorded operation: the tensors it read (`parents`) and its backward rule.

    Cost: one small Python object per operation, plus whatever the rule's closure
    keeps alive (usually the parents and the result: see graph_stats).
    """

    __slots__ = ("parents", "backward_fn", "name")

    def __init__(self, parents: tuple[Tensor, ...], backward_fn: Callable, name: str):
        self.parents = parents
        self.backward_fn = backward_fn
        self.name = name

    def backward(self, grad_out: np.ndarray) -> tuple[np.ndarray | None, ...]:
        """Apply the rule to `grad_out` and check its answer: one float32 array of the
        parent's shape (or None: "no gradient for this input") per parent, in order."""
        grads = self.backward_fn(grad_out)
        if not isinstance(grads, (tuple, list)) or len(grads) != len(self.parents):
            got = f"{len(grads)} values" if isinstance(grads, (tuple, list)) else repr(type(grads))
            raise TypeError(
                f"the backward rule of '{self.name}' must return a tuple with one gradient per "
                f"input ({len(self.parents)} here), got {got}. A rule of one input returns a "
                f"one-element tuple: `return (grad,)`, with the comma."
            )
        checked = []
        for position, (parent, grad) in enumerate(zip(self.parents, grads, strict=True)):
            if grad is None:
                checked.append(None)
                continue
            if isinstance(grad, Tensor):
                raise TypeError(
                    f"the backward rule of '{self.name}' returned a Tensor for input "
                    f"{position}; rules work on NumPy arrays: return its .data instead."
                )
            grad = np.asarray(grad, dtype=np.float32)
            if grad.shape != parent.shape:
                raise ValueError(
                    f"the backward rule of '{self.name}' returned a gradient of shape "
                    f"{grad.shape} for input {position}, whose shape is {parent.shape}. A "
                    f"gradient always has the shape of its input: if the input was broadcast, "
                    f"sum the stretched axes away (unbroadcast)."
                )
            checked.append(grad)
        return tuple(checked)

    def __repr__(self) -> str:
        return f"Node({self.name}, {len(self.parents)} input(s))"


class _GradMode:
    """Whether operations record a graph right now (switched off inside no_grad)."""

    enabled = True


def is_grad_enabled() -> bool:
    """True unless we are inside a `no_grad()` block."""
    return _GradMode.enabled


def attach_backward(result: Tensor, parents, backward_fn: Callable) -> Tensor:
    """Record that `result` was computed from `parents`; return `result`.

    backward_fn(grad_out) receives dloss/dresult (a float32 ndarray of result.shape)
    and returns a tuple with one entry per parent: an ndarray of that parent's shape
    or None. It must not change grad_out in place (other rules may share it).

    Records nothing when grad mode is off (no_grad) or no parent requires a
    gradient: then result stays a plain constant and the graph costs nothing.

    >>> x = Tensor([1.0, 2.0], requires_grad=True)
    >>> doubled = attach_backward(Tensor(x.data * 2), (x,), lambda g: (g * 2,))
    >>> doubled.requires_grad
    True
    """
    parents = tuple(parents)
    for position, parent in enumerate(parents):
        if not isinstance(parent, Tensor):
            raise TypeError(
                f"attach_backward: parent {position} is a {type(parent).__name__}; parents "
                f"must be the Tensors the result was computed from."
            )
    if not is_grad_enabled() or not any(parent.requires_grad for parent in parents):
        return result
    name = getattr(backward_fn, "__qualname__", "operation").split(".<locals>")[0]
    result.requires_grad = True
    result.grad_fn = Node(parents, backward_fn, name)
    return result


# %% [markdown]
# ## The primitives and their module-01 forwards
#
# `MODULE_01_FORWARD` keeps the original methods of module 01. Each autograd
# version below calls the original forward (so the numbers are exactly module
# 01's), then attaches the backward rule written right beside it. Because the
# autograd versions call these saved originals and never the method currently
# installed on `Tensor`, installing them twice cannot wrap them twice.

# %%
PRIMITIVES = (
    "__add__",
    "__mul__",
    "__pow__",
    "matmul",
    "sum",
    "max",
    "reshape",
    "transpose",
    "exp",
    "log",
    "__getitem__",
)


def _module_01_method(name: str) -> Callable:
    method = Tensor.__dict__[name]
    # NOTE: if this file runs a second time in one process, Tensor may already carry
    # the autograd version from the first run; it remembers the original.
    return getattr(method, "module_01_forward", method)


MODULE_01_FORWARD: dict[str, Callable] = {name: _module_01_method(name) for name in PRIMITIVES}
AUTOGRAD_OPS: dict[str, Callable] = {}


def autograd_version(name: str) -> Callable:
    """Decorator: register a function as the autograd version of Tensor.<name>."""

    def register(op: Callable) -> Callable:
        op.module_01_forward = MODULE_01_FORWARD[name]
        AUTOGRAD_OPS[name] = op
        return op

    return register


def _as_tensor(value) -> Tensor:
    return value if isinstance(value, Tensor) else Tensor(value)


def _reduced_axes(axis, ndim: int) -> tuple[int, ...]:
    """The axes a reduction removed, as non-negative numbers: None means all of them."""
    if axis is None:
        return tuple(range(ndim))
    axes = axis if isinstance(axis, (tuple, list)) else (axis,)
    return tuple(sorted(a % ndim for a in axes))


# %% [markdown]
# ## 05.1 Broadcasting, backwards
#
# In `x + bias` with shapes `(64, 10)` and `(10,)`, every bias entry was used 64
# times — once per row. Its gradient is therefore the sum of the 64 row
# gradients. In general the output gradient has the *broadcast* shape, and
# `unbroadcast` sums it back to the input's shape: first over the leading axes
# that broadcasting added, then (keeping them) over every axis where the input
# had length 1 but the output did not. `(3, 1) + (4,)` → `(3, 4)`: the `(3, 1)`
# input gets `grad.sum(axis=1, keepdims=True)`, the `(4,)` input `grad.sum(axis=0)`.


# %%
def unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum `grad` (the broadcast shape) down to `shape` (an input's shape).

    >>> unbroadcast(np.ones((3, 4)), (4,))
    array([3., 3., 3., 3.])

    Cost: one pass over grad; the result has shape `shape`. Raises ValueError if
    `shape` could not have been broadcast to grad.shape.
    """
    shape = tuple(shape)
    if grad.shape == shape:
        return grad  # nothing was broadcast: nothing to undo
    ### BEGIN SOLUTION 05.1
    added = grad.ndim - len(shape)
    if added < 0:
        raise ValueError(f"cannot unbroadcast a gradient of shape {grad.shape} to {shape}")
    grad = grad.sum(axis=tuple(range(added)))
    stretched = tuple(
        axis for axis, length in enumerate(shape) if length == 1 and grad.shape[axis] != 1
    )
    if stretched:
        grad = grad.sum(axis=stretched, keepdims=True)
    if grad.shape != shape:
        raise ValueError(
            f"cannot unbroadcast a gradient of shape {grad.shape} to {shape}: the input "
            f"could not have been broadcast to the output"
        )
    return grad
    ### END SOLUTION


# %% [markdown]
# ## 05.2 – 05.6 The backward rules
#
# Each function below is the autograd version of one primitive. The forward part
# is given; you write the body of `backward(grad)`. Inside it, `grad` is the
# gradient of the result (a float32 array of `out.shape`); return a tuple with one
# array per parent, each of that parent's shape. Use `.data` (NumPy) — a rule
# never builds Tensors. Test one rule at a time: `tiny test 05 --exercise 05.2`.
#
# NOTE: a rule must not change `grad` in place (`grad *= 2`): the same array may
# also be the gradient of another input.


# %%
@autograd_version("__add__")
def add_op(self: Tensor, other) -> Tensor:
    """self + other with broadcasting. Backward: each input receives the upstream
    gradient, summed over the axes broadcasting stretched."""
    other = _as_tensor(other)
    out = MODULE_01_FORWARD["__add__"](self, other)

    def backward(grad):
        ### BEGIN SOLUTION 05.2
        return unbroadcast(grad, self.shape), unbroadcast(grad, other.shape)
        ### END SOLUTION

    return attach_backward(out, (self, other), backward)


@autograd_version("__mul__")
def mul_op(self: Tensor, other) -> Tensor:
    """self * other with broadcasting. Backward: d(a·b)/da = b, d(a·b)/db = a, each
    times the upstream gradient, summed back to the input's shape."""
    other = _as_tensor(other)
    out = MODULE_01_FORWARD["__mul__"](self, other)

    def backward(grad):
        ### BEGIN SOLUTION 05.2
        return (
            unbroadcast(grad * other.data, self.shape),
            unbroadcast(grad * self.data, other.shape),
        )
        ### END SOLUTION

    return attach_backward(out, (self, other), backward)


# %% [markdown]
# ### `**`, exp and log (05.3)
#
# Each is one derivative rule from calculus, times the upstream gradient. exp's
# derivative is its own output: the forward keeps that array for the rule (see the NOTE).


# %%
@autograd_version("__pow__")
def pow_op(self: Tensor, exponent: float) -> Tensor:
    """self ** exponent for a plain-number exponent. Backward: c · x^(c-1) · grad."""
    out = MODULE_01_FORWARD["__pow__"](self, exponent)

    def backward(grad):
        ### BEGIN SOLUTION 05.3
        if exponent == 0:
            # NOTE: x ** 0 is the constant 1, so its slope is 0 everywhere; the general
            # formula would compute 0 · 0^(-1) = 0 · inf = NaN at x = 0.
            return (np.zeros_like(grad),)
        return (grad * exponent * self.data ** (exponent - 1),)
        ### END SOLUTION

    return attach_backward(out, (self,), backward)


@autograd_version("exp")
def exp_op(self: Tensor) -> Tensor:
    """e ** x. Backward: the derivative of e^x is e^x itself — the saved output."""
    out = MODULE_01_FORWARD["exp"](self)
    # NOTE: rules keep arrays, never the result Tensor itself: `out` -> its record -> this
    # rule -> `out` would be a reference cycle that only Python's garbage collector frees,
    # so every training step's graph would linger in memory until a full collection.
    saved = out.data

    def backward(grad):
        ### BEGIN SOLUTION 05.3
        return (grad * saved,)
        ### END SOLUTION

    return attach_backward(out, (self,), backward)


@autograd_version("log")
def log_op(self: Tensor) -> Tensor:
    """Natural logarithm. Backward: d(log x)/dx = 1 / x."""
    out = MODULE_01_FORWARD["log"](self)

    def backward(grad):
        ### BEGIN SOLUTION 05.3
        return (grad / self.data,)
        ### END SOLUTION

    return attach_backward(out, (self,), backward)


# %% [markdown]
# ### matmul (05.4)
#
# For matrices, `C = A @ B` gives `dA = dC @ Bᵀ` and `dB = Aᵀ @ dC` — check the
# shapes: `(n, m) @ (m, k)` is `(n, k)` for dA. The same formulas work on stacks of
# matrices if "transpose" means swapping the *last two* axes (`np.swapaxes(x, -1,
# -2)`); when one side was broadcast over the stack (`(2, 4, 3) @ (3, 5)`), its
# gradient must be summed over the stack with `unbroadcast`. A 1-D operand is a
# matrix with one row (on the left) or one column (on the right) whose extra axis
# NumPy drops: add that axis back to the operand and to `grad`, use the matrix
# formulas, and remove it again.


# %%
@autograd_version("matmul")
def matmul_op(self: Tensor, other) -> Tensor:
    """Matrix product, batched like np.matmul, 1-D operands allowed.
    Backward cost: two matmuls of the forward's size, so about 2× the forward FLOPs."""
    other = _as_tensor(other)
    out = MODULE_01_FORWARD["matmul"](self, other)

    def backward(grad):
        ### BEGIN SOLUTION 05.4
        a = self.data[np.newaxis, :] if self.ndim == 1 else self.data  # (k,) -> (1, k)
        b = other.data[:, np.newaxis] if other.ndim == 1 else other.data  # (k,) -> (k, 1)
        stack = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
        grad = grad.reshape(stack + (a.shape[-2], b.shape[-1]))  # the axes NumPy dropped
        grad_a = np.matmul(grad, np.swapaxes(b, -1, -2))
        grad_b = np.matmul(np.swapaxes(a, -1, -2), grad)
        return (
            unbroadcast(grad_a, a.shape).reshape(self.shape),
            unbroadcast(grad_b, b.shape).reshape(other.shape),
        )
        ### END SOLUTION

    return attach_backward(out, (self, other), backward)


# %% [markdown]
# ### sum and max (05.5)
#
# A reduction removed axes; its gradient must come back in the input's shape. Which
# entries did each output depend on, and by how much?


# %%
@autograd_version("sum")
def sum_op(self: Tensor, axis=None, keepdims: bool = False) -> Tensor:
    """Sum along `axis`. Backward: every input entry added into an output entry gets
    that entry's gradient: put the reduced axes back and broadcast."""
    out = MODULE_01_FORWARD["sum"](self, axis=axis, keepdims=keepdims)
    axes = _reduced_axes(axis, self.ndim)

    def backward(grad):
        ### BEGIN SOLUTION 05.5
        if not keepdims:
            grad = np.expand_dims(grad, axes)
        return (np.broadcast_to(grad, self.shape),)
        ### END SOLUTION

    return attach_backward(out, (self,), backward)


@autograd_version("max")
def max_op(self: Tensor, axis=None, keepdims: bool = False) -> Tensor:
    """Largest entry along `axis`. Backward: only the entries that were the maximum
    receive gradient. NOTE: when several entries tie for the maximum they share the
    gradient equally — the average of the slopes from either side, which is also what
    central differences measure at a tie."""
    out = MODULE_01_FORWARD["max"](self, axis=axis, keepdims=keepdims)
    axes = _reduced_axes(axis, self.ndim)
    saved = out.data  # the array, not the Tensor (see exp_op's note)

    def backward(grad):
        ### BEGIN SOLUTION 05.5
        peak = saved
        if not keepdims:
            peak, grad = np.expand_dims(peak, axes), np.expand_dims(grad, axes)
        winners = self.data == peak
        return (winners * (grad / winners.sum(axis=axes, keepdims=True)),)
        ### END SOLUTION

    return attach_backward(out, (self,), backward)


# %% [markdown]
# ### reshape, transpose and indexing (05.6)
#
# These move or pick entries without arithmetic: the gradient goes back to where each
# entry came from.


# %%
@autograd_version("reshape")
def reshape_op(self: Tensor, *shape) -> Tensor:
    """Same entries, new shape. Backward: reshape the gradient back."""
    out = MODULE_01_FORWARD["reshape"](self, *shape)

    def backward(grad):
        ### BEGIN SOLUTION 05.6
        return (grad.reshape(self.shape),)
        ### END SOLUTION

    return attach_backward(out, (self,), backward)


@autograd_version("transpose")
def transpose_op(self: Tensor, *axes) -> Tensor:
    """Permute axes (no arguments: swap the last two). Backward: apply the inverse
    permutation, `np.argsort(axes)`, to the gradient."""
    out = MODULE_01_FORWARD["transpose"](self, *axes)
    if not axes:
        axes = tuple(range(self.ndim))  # fewer than two axes: nothing to swap
        if self.ndim >= 2:
            axes = axes[:-2] + (self.ndim - 1, self.ndim - 2)
    elif len(axes) == 1 and isinstance(axes[0], (tuple, list)):
        axes = tuple(axes[0])
    axes = tuple(a % self.ndim for a in axes)  # out's axis i is self's axis axes[i]

    def backward(grad):
        ### BEGIN SOLUTION 05.6
        return (grad.transpose(np.argsort(axes)),)
        ### END SOLUTION

    return attach_backward(out, (self,), backward)


@autograd_version("__getitem__")
def getitem_op(self: Tensor, index) -> Tensor:
    """NumPy indexing. Backward: scatter the gradient into zeros of the input's shape.
    An entry selected twice (x[[0, 0]]) collects both gradients: np.add.at adds
    repeated positions, where `zeros[index] += grad` would keep only one of them.
    Backward cost: a zero array the size of the input, 4 bytes per entry."""
    if isinstance(index, Tensor):
        index = index.data.astype(np.int64)
    out = MODULE_01_FORWARD["__getitem__"](self, index)

    def backward(grad):
        ### BEGIN SOLUTION 05.6
        full = np.zeros(self.shape, dtype=np.float32)
        np.add.at(full, index, grad)
        return (full,)
        ### END SOLUTION

    return attach_backward(out, (self,), backward)


# %% [markdown]
# ## 05.7 backward(): topological order
#
# A rule may run only once the gradient of its result is complete, i.e. after
# every operation that *used* that result has passed its share down. In
# `b = a * 2; c = b * 3; d = b + c`, `b` is used twice: its rule must wait for the
# shares of both `c` and `d`, or `a` receives 2 instead of 8. A **topological
# order** of the graph — every tensor listed before all of its parents —
# guarantees it.
#
# Find it with a depth-first search that emits a tensor after all of its parents
# (post-order) and reverse the list. Write the search with an explicit stack, not
# recursion: Python stops recursing about 1,000 calls deep, and a graph of an
# unrolled loop easily has 10,000 nodes in a chain. Compare tensors by `id(t)`:
# later modules may give Tensor an `==` that works entrywise.
#
# Then walk the order with a dictionary `id(tensor) -> gradient so far`: for each
# tensor, pop its finished gradient; a **leaf** (no `grad_fn`: a tensor you created)
# adds it into `.grad`; any other tensor hands it to its node's rule
# (`tensor.grad_fn.backward(grad)`) and adds each result into its parent's entry.
# Only parents with `requires_grad` take part.
#
# `.grad` **accumulates**: a second backward() adds to it (clear it with
# `x.grad = None`). Only leaves keep a `.grad`; intermediate gradients are dropped
# as soon as they have been used, so they never cost memory at the same time.


# %%
def topological_order(output: Tensor) -> list[Tensor]:
    """Every tensor `output` depends on through requires_grad tensors, output first;
    each tensor comes before all of its parents. Iterative: any depth works.
    Cost: O(tensors + edges) time, one list and one set of that size."""
    ### BEGIN SOLUTION 05.7
    finished: list[Tensor] = []
    visited: set[int] = set()
    stack: list[tuple[Tensor, bool]] = [(output, False)]
    while stack:
        tensor, parents_done = stack.pop()
        if parents_done:
            finished.append(tensor)  # all of its parents are already in `finished`
            continue
        if id(tensor) in visited:
            continue
        visited.add(id(tensor))
        stack.append((tensor, True))
        node = getattr(tensor, "grad_fn", None)
        if node is not None:
            for parent in node.parents:
                if parent.requires_grad and id(parent) not in visited:
                    stack.append((parent, False))
    finished.reverse()
    return finished
    ### END SOLUTION


def _initial_gradient(output: Tensor, grad) -> np.ndarray:
    """The gradient of `output` with respect to itself: ones for a one-entry output,
    else the array the caller passed (it must have output's shape)."""
    if not output.requires_grad:
        raise RuntimeError(
            f"backward() was called on a tensor of shape {output.shape} that does not depend "
            f"on any tensor with requires_grad=True, so there is nothing to compute. Create "
            f"the inputs with Tensor(..., requires_grad=True), call enable_autograd() before "
            f"the forward pass, and do not compute it inside no_grad()."
        )
    if grad is None:
        if output.size != 1:
            raise RuntimeError(
                f"backward() with no argument needs a one-entry output such as a loss, but "
                f"this tensor has shape {output.shape}. Reduce it first (e.g. out.sum()), or "
                f"pass the gradient of the final number with respect to it: "
                f"out.backward(grad) with an array of shape {output.shape}."
            )
        return np.ones(output.shape, dtype=np.float32)
    grad = np.asarray(grad.data if isinstance(grad, Tensor) else grad, dtype=np.float32)
    if grad.shape != output.shape:
        raise ValueError(
            f"backward(grad): grad has shape {grad.shape} but the tensor has shape "
            f"{output.shape}; they must be equal."
        )
    return grad


def backward(self: Tensor, grad=None) -> None:
    """Fill `.grad` of every leaf tensor this one depends on (installed as Tensor.backward).

    grad: dfinal/dself, an array of self.shape; may be omitted for a one-entry tensor
    (then it is 1). Gradients add into `.grad` (a float32 Tensor of the leaf's shape).
    Cost: every rule runs once, about 2× the forward FLOPs; the intermediate
    gradients in flight are freed as soon as they have been passed on.
    """
    seed = _initial_gradient(self, grad)
    ### BEGIN SOLUTION 05.7
    pending = {id(self): seed}
    for tensor in topological_order(self):
        grad_here = pending.pop(id(tensor), None)
        if grad_here is None:
            continue  # every path from self to this tensor had a None gradient
        node = getattr(tensor, "grad_fn", None)
        if node is None:
            # NOTE: copy the first time: grad_here may be shared with another tensor, and
            # .grad is added into in place later.
            if tensor.grad is None:
                tensor.grad = Tensor(np.array(grad_here, dtype=np.float32))
            else:
                tensor.grad.data += grad_here
            continue
        for parent, parent_grad in zip(node.parents, node.backward(grad_here), strict=True):
            if parent_grad is None or not parent.requires_grad:
                continue
            key = id(parent)
            pending[key] = parent_grad if key not in pending else pending[key] + parent_grad
    ### END SOLUTION


# %% [markdown]
# ## 05.8 no_grad
#
# Evaluating a model without wanting gradients (checking accuracy, running a
# numerical check) should not pay for a graph. Inside `with no_grad():` every
# operation skips recording: `attach_backward` asks `is_grad_enabled()`. Blocks may
# nest, and the flag must come back even when the block raises — `__exit__` runs
# in both cases. `no_grad()` also works as a decorator (`@no_grad()`).


# %%
class no_grad(contextlib.ContextDecorator):
    """Context manager (and decorator) that switches graph recording off inside it.

    >>> with no_grad():
    ...     y = x * 2          # y.requires_grad is False: no graph, no saved tensors
    """

    def __init__(self):
        self._saved: list[bool] = []  # one entry per active `with`: nesting and reuse

    def __enter__(self) -> no_grad:
        ### BEGIN SOLUTION 05.8
        self._saved.append(_GradMode.enabled)
        _GradMode.enabled = False
        ### END SOLUTION
        return self

    def __exit__(self, *exc_info) -> bool:
        ### BEGIN SOLUTION 05.8
        _GradMode.enabled = self._saved.pop()
        ### END SOLUTION
        return False  # never swallow an exception


# %% [markdown]
# ## 05.9 enable_autograd
#
# Switching autograd on means installing every autograd version in
# `AUTOGRAD_OPS` on the Tensor class under its primitive name, and `backward`
# above as `Tensor.backward`. Check first that no primitive was left without an
# autograd version — an operation left out would silently give no gradient, the
# kind of bug that is found weeks later. Give `Tensor` a class attribute
# `grad_fn = None` so every tensor, leaf or not, answers `t.grad_fn`. Calling it a
# second time must change nothing.


# %%
def enable_autograd() -> None:
    """Switch on gradients for the module-01 Tensor (idempotent).

    After this call every operation on a tensor with requires_grad=True records its
    backward rule, and `Tensor.backward()` computes gradients. Module 01's source is
    not touched: methods are replaced on the class, in this process only.
    """
    ### BEGIN SOLUTION 05.9
    missing = [name for name in PRIMITIVES if name not in AUTOGRAD_OPS]
    if missing:
        raise RuntimeError(f"enable_autograd: no autograd version of {', '.join(missing)}")
    for name in PRIMITIVES:
        setattr(Tensor, name, AUTOGRAD_OPS[name])
    Tensor.backward = backward
    Tensor.grad_fn = None
    ### END SOLUTION


# %% [markdown]
# ## 05.10 Checking gradients numerically
#
# How do we know a rule is right? Nudge one input entry by ±eps and watch the
# output: `(f(x + eps) - f(x - eps)) / (2·eps)` approximates the derivative with
# an error proportional to eps² (**central differences**). Doing that for every
# entry gives a numerical gradient that needs no rule at all — slow (two
# evaluations of f per entry), so only for small tensors, but an independent
# referee for every rule in this file and every operation later modules write.
#
# Float32 is the enemy here: f is computed in float32, and `x + eps` is rounded to
# float32 too. So do the bookkeeping in float64 and divide by the step float32
# actually took (`float(plus[i]) - float(minus[i])`), not by `2·eps`. Perturb
# copies of `x.data` and put the original array back afterwards, even if f raises.
# `gradient_check` (given) compares your numerical gradient with autograd's.


# %%
def _number(value) -> float:
    if not isinstance(value, Tensor) or value.size != 1:
        shape = value.shape if isinstance(value, Tensor) else type(value).__name__
        raise ValueError(f"f(*inputs) must return a one-entry Tensor, got {shape}")
    return value.item()


def numerical_gradient(f: Callable, inputs, eps: float = 1e-3) -> list[np.ndarray]:
    """Central-difference gradient of the one-entry Tensor f(*inputs) with respect
    to every entry of every input: a list of float64 arrays of the inputs' shapes.

    Cost: 2 evaluations of f per input entry. The inputs are left as they were.
    """
    inputs = tuple(inputs)
    ### BEGIN SOLUTION 05.10
    gradients = []
    for x in inputs:
        original = x.data
        gradient = np.zeros(x.shape, dtype=np.float64)
        try:
            for index in np.ndindex(*x.shape):
                plus, minus = original.copy(), original.copy()
                plus[index] += eps
                minus[index] -= eps
                x.data = plus
                f_plus = _number(f(*inputs))
                x.data = minus
                f_minus = _number(f(*inputs))
                step = float(plus[index]) - float(minus[index])  # the step float32 took
                gradient[index] = (f_plus - f_minus) / step
        finally:
            x.data = original
        gradients.append(gradient)
    return gradients
    ### END SOLUTION


def _one_number(f: Callable) -> Callable:
    """f, reduced to one number: a multi-entry output is weighted by fixed random
    numbers and summed, so every output entry matters. (A plain .sum() would hide
    errors that cancel: the rows of a softmax always sum to 1, whatever the inputs.)"""
    weights: list[Tensor] = []

    def reduced(*inputs):
        out = f(*inputs)
        if not isinstance(out, Tensor):
            raise TypeError(f"f(*inputs) must return a Tensor, got {type(out).__name__}")
        if out.size == 1:
            return out
        if not weights:
            weights.append(Tensor(np.random.default_rng(0).standard_normal(out.shape)))
        return (out * weights[0]).sum()

    return reduced


def gradient_check(
    f: Callable, *inputs: Tensor, eps: float = 1e-3, atol: float = 1e-2, rtol: float = 1e-2
) -> float:
    """Compare autograd's gradients of f(*inputs) with central differences.

    f builds a Tensor from the inputs (Tensors with requires_grad=True); a
    multi-entry result is first reduced to one number with fixed random weights.
    Passes when |autograd - numerical| <= atol + rtol·|numerical| for every entry;
    returns the largest absolute difference. Raises AssertionError naming the input
    and the entry otherwise. The defaults allow for float32 rounding (about 1e-3
    here); a wrong rule is usually off by far more.

    Cost: one forward and backward, plus 2 forwards per input entry: small inputs only.
    Tensors f reads that are not in `inputs` get their .grad added to as usual.

    >>> x = Tensor([1.0, 2.0], requires_grad=True)
    >>> gradient_check(lambda t: (t * t).sum(), x) < 1e-2
    True
    """
    for position, x in enumerate(inputs):
        if not isinstance(x, Tensor) or not x.requires_grad:
            raise ValueError(
                f"gradient_check: input {position} must be a Tensor created with "
                f"requires_grad=True (the tensors whose gradients are checked)."
            )
    reduced = _one_number(f)
    saved = [x.grad for x in inputs]
    try:
        for x in inputs:
            x.grad = None
        out = reduced(*inputs)
        if not out.requires_grad:
            raise AssertionError(
                "gradient_check: f's result does not depend on the inputs through recorded "
                "operations. Call enable_autograd() first, and build the result from the "
                "input Tensors with Tensor operations (not from their .data)."
            )
        backward(out)
        analytic = [
            np.zeros(x.shape) if x.grad is None else x.grad.data.astype(np.float64) for x in inputs
        ]
    finally:
        for x, grad in zip(inputs, saved, strict=True):
            x.grad = grad
    numeric = numerical_gradient(reduced, inputs, eps)
    worst = 0.0
    for position, (x, auto, num) in enumerate(zip(inputs, analytic, numeric, strict=True)):
        error = np.abs(auto - num)
        worst = max(worst, float(error.max(initial=0.0)))
        excess = error - (atol + rtol * np.abs(num))
        if (excess > 0).any():
            index = np.unravel_index(int(np.argmax(excess)), x.shape)
            index = tuple(int(i) for i in index)
            raise AssertionError(
                f"gradient check failed for input {position} (shape {x.shape}) at entry "
                f"{index}: autograd gives {auto[index]:.6g}, central differences give "
                f"{num[index]:.6g} (difference {error[index]:.3g}, allowed "
                f"{atol + rtol * abs(num[index]):.3g}). Check the backward rules of the "
                f"operations f applies to this input."
            )
    return worst


# %% [markdown]
# ## 05.11 What the graph costs
#
# Every recorded result stays alive as long as the graph does: the rules of later
# operations hold it as a parent, and `exp` even holds its own output. For a
# model that is every activation of every layer, for the whole batch, until
# `backward()` has run — usually far more memory than the parameters themselves.
# `graph_stats(out)` visits the graph from `out` (iteratively, like 05.7, but
# order does not matter here) and counts the recorded operations (tensors with a
# `grad_fn`, including `out`), the leaves that require a gradient, and the bytes of
# the recorded results (`memory_footprint()`), each tensor counted once.


# %%
@dataclass(frozen=True)
class GraphStats:
    """What a graph holds: recorded operations, leaves with requires_grad, and the
    bytes of the recorded results that stay alive until the graph is dropped."""

    operations: int
    leaves: int
    saved_bytes: int


def graph_stats(output: Tensor) -> GraphStats:
    """Count the operations, leaves and saved bytes of the graph that ends in `output`.
    Cost: one visit per tensor; no tensor data is touched."""
    ### BEGIN SOLUTION 05.11
    operations = leaves = saved_bytes = 0
    seen: set[int] = set()
    stack = [output]
    while stack:
        tensor = stack.pop()
        if id(tensor) in seen:
            continue
        seen.add(id(tensor))
        node = getattr(tensor, "grad_fn", None)
        if node is None:
            leaves += int(tensor.requires_grad)
            continue
        operations += 1
        saved_bytes += tensor.memory_footprint()
        stack.extend(node.parents)
    return GraphStats(operations, leaves, saved_bytes)
    ### END SOLUTION


# %% [markdown]
# ## Try it
#
# Run this file (`python modules/05_autograd/autograd.py`) to differentiate a
# small expression, check it numerically and see what its graph holds.

# %%
if __name__ == "__main__":
    enable_autograd()
    rng = np.random.default_rng(0)
    x = Tensor(rng.normal(size=(64, 100)))
    w = Tensor(rng.normal(size=(100, 50)) * 0.1, requires_grad=True)
    loss = ((x @ w).exp() - 1).mean()
    loss.backward()
    print("loss:", round(loss.item(), 4), "| w.grad shape:", w.grad.shape)
    print("graph:", graph_stats(loss))
    with no_grad():
        print("under no_grad the result records nothing:", (x @ w).requires_grad is False)
    small = Tensor(rng.normal(size=(3, 4)), requires_grad=True)
    error = gradient_check(lambda t: (t.exp() * t).sum(axis=1).max(), small)
    print(f"gradient check: largest difference {error:.2e}")
