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
# # Module 03 — Layers
#
# A layer is a function with numbers of its own. `Linear` holds a weight matrix
# and a bias vector and computes `x @ weight + bias`; stacked with the
# activations of Module 02 in a `Sequential`, it makes a **multilayer
# perceptron (MLP)**, the model the next modules build on:
#
#     Sequential(Linear(784, 128), ReLU(), Linear(128, 10))   # 101,770 numbers of its own
#
# The numbers a layer owns — and that will later be adjusted to fit data — are its
# **parameters**. In this module you write the small `Module` base class that
# finds them, a `Linear` layer that creates them well, and `Sequential`.
#
# | exercise | what you write |
# |---|---|
# | 03.1 module_parameters | `Module.parameters()`: all parameters, nested ones too, in order |
# | 03.2 xavier_uniform | Xavier/Glorot initial values for a weight matrix |
# | 03.3 linear | `Linear`: create weight and bias; `forward` is `x @ weight + bias` |
# | 03.4 sequential | `Sequential.forward`: feed each layer's output to the next |
# | 03.5 parameter_memory | `parameter_count`, `parameter_bytes` |
# | 03.6 activation_memory | `activation_bytes`: memory of the outputs of one forward pass |
#
# **Systems concept: parameter memory vs activation memory.** A model's
# parameters take a fixed amount of memory: 101,770 float32 numbers are 407,080
# bytes whether you feed it one example or ten thousand. The outputs of its layers
# (its activations) grow with every example in the batch. For the MLP above they
# are 266 numbers (1,064 bytes) per example, so from 383 examples per batch on,
# the activations outweigh the model itself. 03.5 and 03.6 measure both sides.

# %%
from __future__ import annotations

import math

import numpy as np

from tinytorch.core import Tensor
from tinytorch.nn import ReLU

# %% [markdown]
# ## 03.1 Module — one base class that finds the parameters
#
# Every layer, and every model made of layers, is a `Module`:
#
# - calling it, `layer(x)`, runs its `forward(x)`;
# - `parameters()` returns every Tensor it owns that is marked as a parameter,
#   including those of the Modules it contains, however deeply nested.
#
# **What counts as a parameter.** A Tensor attribute with `requires_grad=True` —
# the flag you stored (and left dormant) in Module 01, whose meaning arrives in
# Module 05. Tensors without the flag (constants, masks) are not parameters.
#
# **How to find them.** `vars(self)` is the dictionary of an object's attributes,
# in the order they were assigned. Walk its values:
#
# - a Tensor with `requires_grad=True` → a parameter;
# - a Module → its own `parameters()`, in their order (this is the recursion);
# - a list or tuple → look at each item the same way (Sequential keeps its layers
#   in a list);
# - anything else (numbers, strings, Module 02 activations) → nothing.
#
# The order must be **stable**: the same model lists its parameters in the same
# order every time, because later code pairs parameters up by position. And a
# Tensor reachable twice (one matrix shared by two layers) must be listed
# **once** — compare by identity (`is` / `id`), not by value.


# %%
class Module:
    """Base class of layers and models: `module(x)` runs `forward(x)`;
    `parameters()` lists the parameter Tensors it owns, nested Modules included.

    Subclasses assign their parameters and sub-Modules as attributes in __init__ and
    write forward(). Nothing here copies data.
    """

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must define forward(...)")

    def parameters(self) -> list[Tensor]:
        """Every Tensor attribute with requires_grad=True, then (recursively) those of every
        Module attribute, in attribute order; lists and tuples are searched item by item.
        A Tensor reachable twice is listed once. Cost: one walk over the attributes."""
        ### BEGIN SOLUTION 03.1
        found: list[Tensor] = []
        seen: set[int] = set()

        def visit(value) -> None:
            if isinstance(value, Tensor):
                if value.requires_grad and id(value) not in seen:
                    seen.add(id(value))
                    found.append(value)
            elif isinstance(value, Module):
                for parameter in value.parameters():
                    visit(parameter)
            elif isinstance(value, (list, tuple)):
                for item in value:
                    visit(item)

        for value in vars(self).values():
            visit(value)
        return found
        ### END SOLUTION

    def extra_repr(self) -> str:
        """The settings shown between the parentheses of repr(); subclasses override it."""
        return ""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.extra_repr()})"


# %% [markdown]
# ## 03.2 Xavier (Glorot) initialisation — start with the right spread
#
# A weight matrix has to start with *some* numbers, and their size matters. Take
# one output of `x @ W`: `y_j = Σ_i x_i · W_ij`, a sum of `fan_in` products
# (fan_in = in_features, the number of inputs feeding each output). If the inputs
# have variance 1 and each weight has variance v, then `var(y_j) = fan_in · v`.
#
# - v too large: each layer multiplies the spread of its inputs; through a stack
#   of layers the numbers grow until float32 overflows.
# - v too small: the numbers shrink towards 0 layer after layer.
# - v = 1 / fan_in keeps the spread the same.
#
# Glorot and Bengio (2010) asked for the same balance when signals travel through
# the matrix the other way, from outputs to inputs, which needs `1 / fan_out`,
# and settled on the average: **v = 2 / (fan_in + fan_out)**. A uniform
# distribution on (-a, a) has variance a²/3, so
#
#     a = sqrt(6 / (fan_in + fan_out)),     W ~ Uniform(-a, a), shape (fan_in, fan_out)
#
# **Reproducible randomness.** `np.random.default_rng(seed)` is a random number
# generator that produces the same numbers every time for the same seed.
# `default_rng` also accepts an existing generator (returned unchanged) or None
# (fresh, unpredictable numbers), so one `rng` argument covers all three uses.


# %%
def xavier_uniform(fan_in: int, fan_out: int, rng=None) -> Tensor:
    """Values for a (fan_in, fan_out) weight matrix drawn from Uniform(-a, a),
    a = sqrt(6 / (fan_in + fan_out)): variance 2 / (fan_in + fan_out).

    `rng`: a seed (int), a np.random.Generator, or None for unpredictable values.

    >>> xavier_uniform(784, 128, rng=0).shape
    (784, 128)

    Returns a plain Tensor (requires_grad=False): the caller decides that it is a
    parameter. Cost: fan_in · fan_out draws; 4 bytes per entry kept (NumPy draws in
    float64 first, so 8 more bytes per entry exist briefly).
    """
    rng = np.random.default_rng(rng)
    ### BEGIN SOLUTION 03.2
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    return Tensor(rng.uniform(-limit, limit, size=(fan_in, fan_out)))
    ### END SOLUTION


# %% [markdown]
# ## 03.3 Linear — `x @ weight + bias`
#
# `Linear(in_features, out_features)` maps the last axis of its input from
# in_features numbers to out_features numbers:
#
#     x: (N, in_features) @ weight: (in_features, out_features) -> (N, out_features)
#     + bias: (out_features,)  — broadcast over the N rows (Module 01: no copy)
#
# We store the weight as (in, out) so the forward rule needs no transpose. The
# weight starts from `xavier_uniform`, the bias from zeros, and both are marked
# as parameters with `requires_grad = True`. `bias=False` builds a layer without
# one (`self.bias = None`).
#
# `forward` first checks the input's last axis and raises a ValueError that says
# which layer expected what — a wrong size between two layers is the most common
# mistake when assembling a model, and the matmul error alone does not name the
# layer. Like every function in Module 02, it uses Tensor operations only.


# %%
class Linear(Module):
    """y = x @ weight + bias, weight (in_features, out_features), bias (out_features,).

    >>> layer = Linear(784, 128, rng=0)
    >>> layer(Tensor(np.ones((64, 784)))).shape
    (64, 128)

    Parameters: in·out + out numbers (4 bytes each). Forward on (N, in): 2·N·in·out
    FLOPs for the matmul, N·out for the bias; it allocates 2·N·out·4 bytes (the product,
    then the sum with the bias). `rng` seeds the weight's initial values (xavier_uniform).
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, rng=None):
        for name, size in (("in_features", in_features), ("out_features", out_features)):
            if not isinstance(size, (int, np.integer)) or isinstance(size, bool) or size <= 0:
                raise ValueError(
                    f"Linear needs a positive whole number for {name}, got {size!r}. "
                    f"Example: Linear(784, 128) maps 784 numbers per example to 128."
                )
        self.in_features = int(in_features)
        self.out_features = int(out_features)
        ### BEGIN SOLUTION 03.3
        self.weight = xavier_uniform(self.in_features, self.out_features, rng)
        self.weight.requires_grad = True
        self.bias = Tensor(np.zeros(self.out_features), requires_grad=True) if bias else None
        ### END SOLUTION

    def forward(self, x: Tensor) -> Tensor:
        """(..., in_features) -> (..., out_features)."""
        ### BEGIN SOLUTION 03.3
        if x.ndim == 0 or x.shape[-1] != self.in_features:
            raise ValueError(
                f"{self!r} expects inputs whose last axis has length {self.in_features}, "
                f"got shape {x.shape}. Check that the previous layer's out_features equals "
                f"this layer's in_features, or reshape the input to (N, {self.in_features})."
            )
        out = x @ self.weight
        if self.bias is not None:
            out = out + self.bias
        return out
        ### END SOLUTION

    def extra_repr(self) -> str:
        has_bias = getattr(self, "bias", None) is not None
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={has_bias}"


# %% [markdown]
# ## 03.4 Sequential — a model is a list of layers
#
# `Sequential(a, b, c)(x)` is `c(b(a(x)))`. Its items can be Modules (Linear,
# another Sequential) or any callable that maps a Tensor to a Tensor, such as the
# Module 02 activations. Because the layers sit in the list attribute `layers`,
# `Module.parameters()` already finds all their parameters, in layer order:
# Sequential writes only `forward`.


# %%
class Sequential(Module):
    """Apply layers in order: Sequential(a, b, c)(x) == c(b(a(x))).

    >>> model = Sequential(Linear(784, 128, rng=0), ReLU(), Linear(128, 10, rng=1))
    >>> model(Tensor(np.zeros((64, 784)))).shape
    (64, 10)

    Holds references to the layers, no data of its own. Cost: the sum of its layers'.
    """

    def __init__(self, *layers):
        if len(layers) == 1 and isinstance(layers[0], (list, tuple)):
            layers = tuple(layers[0])  # Sequential([a, b]) works like Sequential(a, b)
        for position, layer in enumerate(layers):
            if isinstance(layer, type):
                raise TypeError(
                    f"Sequential item {position} is the class {layer.__name__} itself. Create "
                    f"an object of it first: {layer.__name__}(...) with parentheses."
                )
            if not callable(layer):
                raise TypeError(
                    f"Sequential item {position} is a {type(layer).__name__}, which cannot be "
                    f"called on a Tensor. Pass layer objects such as Linear(4, 2) or ReLU()."
                )
        self.layers = list(layers)

    def forward(self, x: Tensor) -> Tensor:
        ### BEGIN SOLUTION 03.4
        for layer in self.layers:
            x = layer(x)
        return x
        ### END SOLUTION

    def __len__(self) -> int:
        return len(self.layers)

    def __getitem__(self, position: int):
        return self.layers[position]

    def __repr__(self) -> str:
        lines = [f"  ({i}): {layer!r}".replace("\n", "\n  ") for i, layer in enumerate(self.layers)]
        return "Sequential(\n" + "\n".join(lines) + "\n)"


# %% [markdown]
# ## 03.5 Parameter memory
#
# Everything a model has learned lives in its parameters, so their count is the
# model's size and count × 4 is the float32 memory it needs just to exist — before
# it has seen a single example. Write both with `module.parameters()` (and only
# with it: any object with a `parameters()` method should work).
#
# For `Sequential(Linear(784, 128), ReLU(), Linear(128, 10))`:
# 784·128 + 128 + 128·10 + 10 = 101,770 parameters = 407,080 bytes.


# %%
def parameter_count(module) -> int:
    """Total number of parameter entries: sum of p.size over module.parameters()."""
    ### BEGIN SOLUTION 03.5
    return sum(parameter.size for parameter in module.parameters())
    ### END SOLUTION


def parameter_bytes(module) -> int:
    """Bytes held by the parameters: 4 per float32 entry. Independent of the batch."""
    ### BEGIN SOLUTION 03.5
    return sum(parameter.memory_footprint() for parameter in module.parameters())
    ### END SOLUTION


# %% [markdown]
# ## 03.6 Activation memory
#
# The other side of the bill: a forward pass produces one output per layer, and
# every one of them is a new tensor whose size is proportional to the number of
# examples N. Module 05 will keep all of them until they have been used a second
# time, so the sum of their sizes is the memory a forward pass really needs on
# top of the parameters.
#
# Measure rather than derive: push a Tensor of zeros with the given input shape
# through the layers one at a time and add up `memory_footprint()` of each
# output. Zeros are enough — sizes do not depend on values. The input itself is
# not counted (it belongs to whoever called the model).
#
# For the MLP above and N = 64: outputs (64, 128), (64, 128), (64, 10) →
# 17,024 numbers = 68,096 bytes.


# %%
def activation_bytes(model, input_shape: tuple[int, ...]) -> int:
    """Bytes of the outputs that one forward pass on an input of `input_shape` produces:
    one per item of `model.layers` (or one for a model without `.layers`), input excluded.

    >>> mlp = Sequential(Linear(784, 128, rng=0), ReLU(), Linear(128, 10, rng=1))
    >>> activation_bytes(mlp, (64, 784))
    68096

    Cost: one forward pass on zeros; it allocates what it measures, plus each
    layer's internal temporaries (which this function does not count).
    """
    layers = getattr(model, "layers", [model])  # a Sequential's items, or the model itself
    ### BEGIN SOLUTION 03.6
    x = Tensor(np.zeros(input_shape))
    total = 0
    for layer in layers:
        x = layer(x)
        total += x.memory_footprint()
    return total
    ### END SOLUTION


# %% [markdown]
# ## Try it
#
# Run this file (`python modules/03_layers/layers.py`) to see the model, its
# parameter memory, and how its activation memory grows with N.

# %%
if __name__ == "__main__":
    mlp = Sequential(Linear(784, 128, rng=0), ReLU(), Linear(128, 10, rng=1))
    print(mlp)
    print(f"parameters: {parameter_count(mlp):,} numbers = {parameter_bytes(mlp):,} bytes")
    print(f"{'examples N':>10} {'activation bytes':>17} {'vs parameters':>14}")
    for n in (1, 64, 382, 383, 1024):
        outputs = activation_bytes(mlp, (n, 784))
        print(f"{n:>10} {outputs:>17,} {outputs / parameter_bytes(mlp):>13.3f}x")
    spread = mlp[0].weight.data
    print(
        f"first weight: |w| <= {np.abs(spread).max():.4f}, variance {spread.var():.6f} "
        f"(Xavier: bound {math.sqrt(6 / 912):.4f}, variance {2 / 912:.6f})"
    )
