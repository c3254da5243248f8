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
# # Module 07 — Training
#
# You now have every part of learning: tensors (01), activations (02), layers
# (03), losses (04), gradients (05) and optimizers (06). Training is the loop
# that runs them again and again: take a mini-batch, compute the loss, backward,
# update — and, around that loop, the engineering that makes a long run work:
#
# - a **learning rate schedule** (a short warmup, then a cosine decay),
# - **gradient clipping** so one bad batch cannot throw the weights away,
# - an **epoch** loop over shuffled mini-batches, and evaluation without gradients,
# - a **checkpoint** file, so a run that stops can resume exactly where it was.
#
# **Systems concept: the memory of one training step.** While a step runs, the
# machine holds the parameters, their gradients, the optimizer state and every
# activation the backward pass will need. `estimate_step_memory()` adds these up
# from a formula before you allocate anything — and shows which part dominates:
# optimizer state for a large model on small batches, activations for large batches.
#
# You edit only this file. `from tinytorch.training import fit` reads it directly.
#
# | exercise | what you write |
# |---|---|
# | 07.1 cosine_schedule | the learning rate at every step: warmup, then a cosine down to min_lr |
# | 07.2 clip_grad_norm | scale all gradients together so their global norm is at most max_norm |
# | 07.3 training_loop | shuffled mini-batch indices, one training step, one epoch |
# | 07.4 evaluate | the mean loss over held-out data, without building a graph |
# | 07.5 checkpoint | save and load parameters, optimizer state and counters in one .npz |
# | 07.6 step_memory | a byte estimate of one training step of an MLP |

# %%
from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

from tinytorch.core import Tensor, enable_autograd, no_grad
from tinytorch.optim import Optimizer

# %% [markdown]
# ## A learning rate that changes with the step
#
# A fixed learning rate is a compromise: large enough to make progress early, small
# enough to settle at the end. A **cosine schedule** starts at `max_lr` and glides
# down to `min_lr` along half a cosine — fast in the middle, gentle at both ends.
# A **warmup** first ramps the rate up linearly over a few steps, because at step 0
# the weights are random, the gradients are large and Adam's running averages have
# seen only one batch.
#
#     step < warmup:   lr = max_lr · (step + 1) / warmup
#     otherwise:       progress = (step − warmup) / (total − warmup), at most 1
#                      lr = min_lr + ½ · (max_lr − min_lr) · (1 + cos(π · progress))
#
# `step` is the number of updates already taken — `optimizer.step_count` just
# before `optimizer.step()`. The schedule is a pure function of that number and
# keeps no state of its own, so resuming a run only needs the step.


# %%
class CosineSchedule:
    """Learning rate for each step: linear warmup, then a half cosine from max_lr to min_lr.

    >>> schedule = CosineSchedule(max_lr=0.1, total_steps=100, warmup_steps=10)
    >>> [round(schedule(step), 4) for step in (0, 9, 10, 55, 100, 500)]
    [0.01, 0.1, 0.1, 0.05, 0.0, 0.0]

    Steps at or after total_steps get min_lr. Cost: one cosine per call.
    """

    def __init__(self, max_lr: float, total_steps: int, warmup_steps: int = 0, min_lr: float = 0.0):
        if not max_lr > 0 or not 0 <= min_lr <= max_lr:
            raise ValueError(
                f"CosineSchedule needs max_lr > 0 and 0 <= min_lr <= max_lr, "
                f"got max_lr={max_lr!r}, min_lr={min_lr!r}"
            )
        if not 0 <= warmup_steps < total_steps:
            raise ValueError(
                f"CosineSchedule needs 0 <= warmup_steps < total_steps, got "
                f"warmup_steps={warmup_steps!r}, total_steps={total_steps!r}. total_steps is the "
                f"number of updates of the whole run: epochs × batches per epoch."
            )
        self.max_lr = float(max_lr)
        self.min_lr = float(min_lr)
        self.total_steps = int(total_steps)
        self.warmup_steps = int(warmup_steps)

    def __call__(self, step: int) -> float:
        """The learning rate for the update that follows `step` completed updates."""
        if step < 0:
            raise ValueError(f"step counts completed updates and cannot be negative, got {step}")
        ### BEGIN SOLUTION 07.1
        if step < self.warmup_steps:
            return self.max_lr * (step + 1) / self.warmup_steps
        progress = (step - self.warmup_steps) / (self.total_steps - self.warmup_steps)
        progress = min(progress, 1.0)
        cosine = 0.5 * (1.0 + math.cos(math.pi * progress))  # 1 at the start, 0 at the end
        return self.min_lr + (self.max_lr - self.min_lr) * cosine
        ### END SOLUTION

    def __repr__(self) -> str:
        return (
            f"CosineSchedule(max_lr={self.max_lr:g}, total_steps={self.total_steps}, "
            f"warmup_steps={self.warmup_steps}, min_lr={self.min_lr:g})"
        )


# %% [markdown]
# ## Gradient clipping by global norm
#
# Now and then one mini-batch produces a gradient far larger than usual, and one
# step of that size can undo hours of progress. **Gradient clipping** measures the
# length of *all* gradients together, as if they were one long vector,
#
#     norm = √(Σ over every parameter and every entry of g²)
#
# and, if that is above `max_norm`, multiplies every gradient by the same factor
# `max_norm / (norm + 1e-6)`. One factor for everything keeps the direction of the
# update and only shortens it. The function returns the norm measured *before*
# clipping: logged over a run, it is one of the best early warnings that training
# is going unstable.


# %%
def clip_grad_norm(params, max_norm: float) -> float:
    """Scale every `.grad` in place so the global L2 norm is at most `max_norm`.

    params: a list of Tensors (or anything with .parameters()); a None `.grad` is skipped.
    Returns the global norm before clipping, as a Python float. The squares are summed
    in float64, so even huge gradients do not overflow the sum.
    Cost: 2 FLOPs per gradient entry to measure, 1 more to scale; no new gradient arrays.

    >>> w = Tensor([0.0, 0.0]); w.grad = Tensor([3.0, 4.0])
    >>> clip_grad_norm([w], max_norm=1.0), w.grad.data.round(3)
    (5.0, array([0.6, 0.8], dtype=float32))
    """
    if not max_norm > 0:
        raise ValueError(f"max_norm must be a positive number, got {max_norm!r}")
    params = _parameters_of(params)
    ### BEGIN SOLUTION 07.2
    grads = [param.grad for param in params if param.grad is not None]
    total = sum(float(np.sum(grad.data.astype(np.float64) ** 2)) for grad in grads)
    norm = math.sqrt(total)
    if norm > max_norm:
        scale = max_norm / (norm + 1e-6)
        for grad in grads:
            grad.data *= scale
    return norm
    ### END SOLUTION


# %% [markdown]
# ## The training loop
#
# An **epoch** is one pass over all N training samples. We shuffle the sample
# order at the start of every epoch (so that consecutive steps do not always see
# the same neighbours) and cut it into mini-batches of `batch_size` rows; the last
# batch holds whatever is left. The shuffle uses a seeded `np.random.Generator`
# passed in by the caller, so a run is reproducible: same seed, same batches.
#
# One training step is always the same six moves:
#
#     set the learning rate (if there is a schedule)   optimizer.lr = schedule(step)
#     forget old gradients                             optimizer.zero_grad()
#     forward                                          loss = loss_fn(model(inputs), targets)
#     backward                                         loss.backward()
#     clip (if max_norm is given)                      clip_grad_norm(optimizer.params, max_norm)
#     update                                           optimizer.step()
#
# If the loss is already `nan` or `inf`, stepping would write `nan` into every
# weight; stop before the backward pass instead, with a message that says what to try.


# %%
def minibatch_indices(
    num_samples: int, batch_size: int, rng: np.random.Generator
) -> list[np.ndarray]:
    """Shuffle 0..num_samples-1 with `rng.permutation` and cut the order into slices.

    Returns a list of int arrays, each of batch_size indices except the last, which holds
    the remainder (never empty). Every sample appears exactly once.
    >>> [len(batch) for batch in minibatch_indices(10, 4, np.random.default_rng(0))]
    [4, 4, 2]
    Cost: one permutation, 8 · num_samples bytes.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size!r}")
    ### BEGIN SOLUTION 07.3
    order = rng.permutation(num_samples)
    return [order[start : start + batch_size] for start in range(0, num_samples, batch_size)]
    ### END SOLUTION


def train_step(model, loss_fn, optimizer, inputs, targets, *, schedule=None, max_norm=None):
    """One update of `optimizer.params` on one mini-batch; returns that batch's loss (a float).

    model: callable, Tensor (B, ...) -> predictions; loss_fn(predictions, targets) -> a
    one-entry Tensor; schedule: any callable step -> lr (e.g. CosineSchedule), applied
    before the update; max_norm: clip the global gradient norm to this (None: no clipping).
    The loss returned is the one measured before the update.
    Raises FloatingPointError, before any parameter changes, if the loss is nan or inf.
    Memory: parameters, gradients, optimizer state and the graph of this batch
    (estimate_step_memory below); the graph is freed when `loss` goes out of scope.
    """
    enable_autograd()
    ### BEGIN SOLUTION 07.3
    if schedule is not None:
        optimizer.lr = schedule(optimizer.step_count)
    optimizer.zero_grad()
    loss = loss_fn(model(inputs), targets)
    value = loss.item()
    if not math.isfinite(value):
        raise FloatingPointError(
            f"the loss is {value} at step {optimizer.step_count}, so this update would write "
            f"nan or inf into the weights. Try a smaller learning rate, gradient clipping "
            f"(max_norm), or check the inputs for very large values."
        )
    loss.backward()
    if max_norm is not None:
        clip_grad_norm(optimizer.params, max_norm)
    optimizer.step()
    return value
    ### END SOLUTION


def train_epoch(model, loss_fn, optimizer, x, y, *, batch_size, rng, schedule=None, max_norm=None):
    """One epoch: one train_step per shuffled mini-batch of (x, y); returns the mean loss.

    x, y: arrays (or Tensors) whose first axis is the sample, N = len(x) = len(y).
    Each batch is passed as Tensor(x[batch]), Tensor(y[batch]). Returns the mean over the N
    samples, Σ batch_loss · batch_length / N, so the smaller last batch weighs less.
    Cost: ceil(N / batch_size) steps; x[batch] copies batch_size rows per step.
    """
    x, y = _samples(x, y)
    ### BEGIN SOLUTION 07.3
    total = 0.0
    for batch in minibatch_indices(len(x), batch_size, rng):
        loss = train_step(
            model,
            loss_fn,
            optimizer,
            Tensor(x[batch]),
            Tensor(y[batch]),
            schedule=schedule,
            max_norm=max_norm,
        )
        total += loss * len(batch)
    return total / len(x)
    ### END SOLUTION


# %% [markdown]
# ## Evaluation
#
# Evaluation runs the model on data it does not learn from, and nothing in it
# will ever call `backward()`. So it runs under `no_grad()`: no graph is built and
# no activation is kept for a backward pass, which saves exactly the activation
# memory counted in 07.6. The order is fixed (no shuffling: the answer must not
# depend on luck) and the batches can be larger than in training.


# %%
def evaluate(model, loss_fn, x, y, *, batch_size: int = 256) -> float:
    """Mean loss over all N samples of (x, y), in order, under no_grad(); returns a float.

    Same batching and weighting as train_epoch (Σ batch_loss · batch_length / N) but
    without shuffling, without gradients and without changing any parameter.
    """
    x, y = _samples(x, y)
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size!r}")
    ### BEGIN SOLUTION 07.4
    total = 0.0
    with no_grad():
        for start in range(0, len(x), batch_size):
            inputs, targets = x[start : start + batch_size], y[start : start + batch_size]
            loss = loss_fn(model(Tensor(inputs)), Tensor(targets))
            total += loss.item() * len(inputs)
    return total / len(x)
    ### END SOLUTION


def _samples(x, y) -> tuple[np.ndarray, np.ndarray]:
    """x and y as arrays with the same number of samples (first axis)."""
    x = x.data if isinstance(x, Tensor) else np.asarray(x)
    y = y.data if isinstance(y, Tensor) else np.asarray(y)
    if x.ndim == 0 or len(x) == 0 or len(x) != len(y):
        raise ValueError(
            f"x and y must hold the same number of samples along their first axis, got "
            f"x of shape {x.shape} and y of shape {y.shape}"
        )
    return x, y


def _parameters_of(model) -> list[Tensor]:
    """model.parameters() if the model has that method, else the list of Tensors given."""
    params = list(model.parameters()) if hasattr(model, "parameters") else list(model)
    if not all(isinstance(param, Tensor) for param in params):
        raise TypeError(
            f"expected a model with .parameters() or a list of Tensors, got "
            f"{[type(param).__name__ for param in params]}"
        )
    return params


# %% [markdown]
# ## Checkpoints
#
# A long run will stop: a crash, a time limit, a laptop lid. A **checkpoint** is
# everything needed to continue *as if nothing had happened*: the parameters, the
# optimizer state (SGD's velocity, Adam's `m` and `v` — without them the next step
# is a different step), the optimizer's step counter (Adam's bias correction and
# the schedule read it) and the epoch.
#
# We write one `.npz` file: NumPy's zip of plain arrays. Loading it with
# `allow_pickle=False` reads numbers and strings only. (A pickle file, by
# contrast, can run arbitrary code when loaded: never load one you did not write.)
#
# Checkpoint format, version 1 — every key of the .npz:
#
# | key | content |
# |---|---|
# | `format` | int64 scalar: 1 |
# | `epoch`, `step` | int64 scalars |
# | `param.<i>` | float32 array: parameter i, in `model.parameters()` order |
# | `optim.kind` | string scalar: the optimizer class name, e.g. `"Adam"` |
# | `optim.lr`, `optim.step_count` | float64 and int64 scalars |
# | `optim.<name>.<i>` | float32 array: `optimizer.state[name][i]` |
#
# Hyperparameters such as momentum or betas are not stored: build the same
# optimizer as before, then load. Loading copies *into* the existing arrays
# (`param.data[...] = saved`) so the layers and the optimizer keep pointing at them.

# %%
CHECKPOINT_FORMAT = 1


def save_checkpoint(path, model, optimizer, *, epoch: int, step: int | None = None) -> Path:
    """Write parameters, optimizer state, epoch and step to one .npz file; return its path.

    model: anything with .parameters(), or a list of Tensors. optimizer: an Optimizer, or
    None to save parameters only. step defaults to optimizer.step_count (0 without one).
    Size on disk: parameter bytes + optimizer state bytes + about 100 bytes per array.
    The file is written under a temporary name and then renamed, so a crash in the middle
    of saving never destroys the previous checkpoint.
    """
    path = Path(path)
    if path.suffix != ".npz":
        raise ValueError(f"checkpoint files end in .npz, got '{path}'")
    params = _parameters_of(model)
    if optimizer is not None and not isinstance(optimizer, Optimizer):
        raise TypeError(f"optimizer must be an Optimizer or None, got {type(optimizer).__name__}")
    if step is None:
        step = optimizer.step_count if optimizer is not None else 0
    ### BEGIN SOLUTION 07.5
    arrays = {
        "format": np.int64(CHECKPOINT_FORMAT),
        "epoch": np.int64(epoch),
        "step": np.int64(step),
    }
    for index, param in enumerate(params):
        arrays[f"param.{index}"] = param.data
    if optimizer is not None:
        arrays["optim.kind"] = np.str_(type(optimizer).__name__)
        arrays["optim.lr"] = np.float64(optimizer.lr)
        arrays["optim.step_count"] = np.int64(optimizer.step_count)
        for name, buffers in optimizer.state.items():
            for index, buffer in enumerate(buffers):
                arrays[f"optim.{name}.{index}"] = buffer
    ### END SOLUTION
    partial = path.with_name(path.name + ".partial")
    with open(partial, "wb") as file:
        np.savez(file, **arrays)
    os.replace(partial, path)
    return path


def load_checkpoint(path, model, optimizer=None) -> dict[str, int]:
    """Restore what save_checkpoint wrote, in place; return {"epoch": ..., "step": ...}.

    model: the same architecture as when saving (parameters() in the same order and shapes).
    optimizer: None (parameters only) or an optimizer of the same class built on model's
    parameters: its lr, step_count and every state buffer are restored.
    Everything is checked before anything changes: on a mismatch a ValueError says what
    differs, and model and optimizer are left as they were.
    """
    params = _parameters_of(model)
    with np.load(path, allow_pickle=False) as archive:
        saved = {key: archive[key] for key in archive.files}
    _check_checkpoint(saved, params, optimizer, path)
    ### BEGIN SOLUTION 07.5
    for index, param in enumerate(params):
        param.data[...] = saved[f"param.{index}"]
    if optimizer is not None:
        optimizer.lr = float(saved["optim.lr"])
        optimizer.step_count = int(saved["optim.step_count"])
        for name, buffers in optimizer.state.items():
            for index, buffer in enumerate(buffers):
                buffer[...] = saved[f"optim.{name}.{index}"]
    return {"epoch": int(saved["epoch"]), "step": int(saved["step"])}
    ### END SOLUTION


def _check_checkpoint(saved: dict, params: list[Tensor], optimizer, path) -> None:
    """Raise ValueError if `saved` cannot be loaded into params/optimizer; change nothing."""
    version = int(saved["format"]) if "format" in saved else None
    if version != CHECKPOINT_FORMAT:
        raise ValueError(
            f"{path} is not a version-{CHECKPOINT_FORMAT} checkpoint (format: {version})"
        )
    expected = {f"param.{index}": param.shape for index, param in enumerate(params)}
    if optimizer is not None:
        if "optim.kind" not in saved:
            raise ValueError(f"{path} holds no optimizer state: load it with optimizer=None")
        kind = str(saved["optim.kind"])
        if kind != type(optimizer).__name__:
            raise ValueError(
                f"{path} holds the state of a {kind} optimizer, but a "
                f"{type(optimizer).__name__} was given: build the same optimizer as when saving"
            )
        for name, buffers in optimizer.state.items():
            for index, buffer in enumerate(buffers):
                expected[f"optim.{name}.{index}"] = buffer.shape
    found = {key for key in saved if key.startswith("param.")}
    if optimizer is not None:
        counters = {"optim.kind", "optim.lr", "optim.step_count"}
        found |= {key for key in saved if key.startswith("optim.") and key not in counters}
    missing = sorted(set(expected) - found)
    extra = sorted(found - set(expected))
    if missing or extra:
        raise ValueError(
            f"{path} does not fit this model: {len(params)} parameters here, "
            f"{sum(key.startswith('param.') for key in saved)} in the file "
            f"(missing from the file: {missing[:4]}, not used here: {extra[:4]}). "
            f"Build the same architecture and optimizer as when the file was saved."
        )
    for key, shape in expected.items():
        if saved[key].shape != shape:
            raise ValueError(
                f"{path}: '{key}' has shape {saved[key].shape} in the file but {shape} here. "
                f"Check the layer sizes of the model you are loading into."
            )


# %% [markdown]
# ## The memory of one training step
#
# Take an MLP `Linear(d0→d1), activation, Linear(d1→d2), …, Linear(d_{L−1}→dL)`
# and a batch of B samples. At the start of the backward pass the machine holds:
#
# | part | float32 values |
# |---|---|
# | parameters | P = Σ (d_{i−1}·d_i + d_i), weights and biases |
# | gradients | P, one `.grad` per parameter |
# | optimizer state | k·P: k = 0 SGD, 1 momentum, 2 Adam/AdamW (Module 06) |
# | activations | B · (Σ_{i<L} d_i + Σ_{0<i<L} d_i + d_L) |
#
# The activations are what the backward pass reads: every Linear keeps its input
# (its weight gradient is input.T @ grad_out), every activation function keeps its
# input (for its derivative), and the loss keeps the model output.
#
# Multiply by 4 bytes per float32 value. Parameters, gradients and state do not
# depend on B; activations grow linearly with it. Which term wins tells you what
# to change when memory runs out: the batch size, or the optimizer.

# %%
OPTIMIZER_BUFFERS = {"sgd": 0, "sgd_momentum": 1, "adam": 2, "adamw": 2}


def estimate_step_memory(
    layer_sizes, batch_size: int, optimizer: str = "adam", bytes_per_value: int = 4
) -> dict[str, int]:
    """Bytes held during one training step of an MLP, from the formula above.

    layer_sizes [d0, d1, ..., dL]: Linear(d0→d1), activation, ..., Linear(d_{L-1}→dL), with an
    activation after every Linear except the last. optimizer: "sgd", "sgd_momentum", "adam"
    or "adamw" (k = 0, 1, 2, 2 buffers per parameter value). With b = bytes_per_value,
    B = batch_size and P = Σ_{i=1..L} (d_{i-1}·d_i + d_i):

        parameters      = b · P
        gradients       = b · P
        optimizer_state = b · k · P
        activations     = b · B · (Σ_{i=0..L-1} d_i + Σ_{i=1..L-1} d_i + d_L)
        total           = the sum of the four

    An upper bound on the minimum: everything is counted as alive at once, although a
    backward pass frees activations as it goes; a framework that keeps more intermediate
    results per layer (ours keeps x @ W and x @ W + b separately) needs more.
    Returns {"parameters", "gradients", "optimizer_state", "activations", "total"} as ints.

    >>> estimate_step_memory([4, 8, 3], batch_size=16, optimizer="adam")["total"]
    2544
    """
    sizes = [int(size) for size in layer_sizes]
    if len(sizes) < 2 or min(sizes) < 1 or batch_size < 1:
        raise ValueError(
            f"need at least two layer sizes (inputs and outputs), all >= 1, and batch_size >= 1, "
            f"got layer_sizes={list(layer_sizes)}, batch_size={batch_size!r}"
        )
    if optimizer not in OPTIMIZER_BUFFERS:
        raise ValueError(
            f"unknown optimizer {optimizer!r}: choose one of {', '.join(OPTIMIZER_BUFFERS)}"
        )
    ### BEGIN SOLUTION 07.6
    buffers = OPTIMIZER_BUFFERS[optimizer]
    values = sum(d_in * d_out + d_out for d_in, d_out in zip(sizes[:-1], sizes[1:], strict=True))
    linear_inputs = sum(sizes[:-1])
    activation_inputs = sum(sizes[1:-1])
    saved_per_sample = linear_inputs + activation_inputs + sizes[-1]
    memory = {
        "parameters": bytes_per_value * values,
        "gradients": bytes_per_value * values,
        "optimizer_state": bytes_per_value * buffers * values,
        "activations": bytes_per_value * batch_size * saved_per_sample,
    }
    memory["total"] = sum(memory.values())
    return memory
    ### END SOLUTION


# %% [markdown]
# ## fit: the pieces together (given)
#
# `fit` runs epochs of `train_epoch`, evaluates after each if you pass
# `eval_data`, and saves a checkpoint after each if you pass `checkpoint_path`.
# Epoch e shuffles with `np.random.default_rng([seed, e])`, so its batches depend
# only on the seed and the epoch number. That is what makes resuming exact: start
# `fit` again with the same arguments and it loads the checkpoint, skips the
# finished epochs and produces the same numbers an uninterrupted run would have.


# %%
def fit(
    model,
    loss_fn,
    optimizer,
    x,
    y,
    *,
    epochs: int,
    batch_size: int = 32,
    seed: int = 0,
    schedule=None,
    max_norm=None,
    eval_data=None,
    checkpoint_path=None,
    verbose: bool = False,
) -> dict[str, list]:
    """Train for `epochs` epochs (counting the ones a checkpoint says are done).

    Returns the history of the epochs run in this call:
    {"epoch": [...], "train_loss": [...], "eval_loss": [...]} (eval_loss empty without eval_data).
    """
    start = 0
    if checkpoint_path is not None and Path(checkpoint_path).exists():
        start = load_checkpoint(checkpoint_path, model, optimizer)["epoch"]
    history = {"epoch": [], "train_loss": [], "eval_loss": []}
    for epoch in range(start, epochs):
        rng = np.random.default_rng([seed, epoch])
        train_loss = train_epoch(
            model,
            loss_fn,
            optimizer,
            x,
            y,
            batch_size=batch_size,
            rng=rng,
            schedule=schedule,
            max_norm=max_norm,
        )
        history["epoch"].append(epoch + 1)
        history["train_loss"].append(train_loss)
        line = f"epoch {epoch + 1}/{epochs}  train loss {train_loss:.4f}  lr {optimizer.lr:.4g}"
        if eval_data is not None:
            history["eval_loss"].append(evaluate(model, loss_fn, *eval_data))
            line += f"  eval loss {history['eval_loss'][-1]:.4f}"
        if checkpoint_path is not None:
            save_checkpoint(checkpoint_path, model, optimizer, epoch=epoch + 1)
        if verbose:
            print(line)
    return history


# %% [markdown]
# ## Try it
#
# Fit a small regression problem with Adam, a warmup + cosine schedule and
# clipping, then print the step-memory estimate of a 784-128-10 MLP at three
# batch sizes. Run `python modules/07_training/training.py`.

# %%
if __name__ == "__main__":
    from tinytorch.core import graph_stats
    from tinytorch.nn import Linear, MSELoss, ReLU, Sequential
    from tinytorch.optim import Adam

    data_rng = np.random.default_rng(0)
    x_all = data_rng.normal(size=(256, 3)).astype(np.float32)
    y_all = np.tanh(x_all @ np.array([[1.0], [-2.0], [0.5]], dtype=np.float32))
    net = Sequential(Linear(3, 32, rng=0), ReLU(), Linear(32, 1, rng=1))
    adam = Adam(net.parameters(), lr=0.02)
    cosine = CosineSchedule(max_lr=0.02, total_steps=20 * 7, warmup_steps=10)
    fit(
        net,
        MSELoss(),
        adam,
        x_all[:200],
        y_all[:200],
        epochs=20,
        batch_size=32,
        schedule=cosine,
        max_norm=1.0,
        eval_data=(x_all[200:], y_all[200:]),
        verbose=True,
    )
    for optimizer_name in ("sgd", "adam"):
        for batch in (1, 64, 1024):
            estimate = estimate_step_memory([784, 128, 10], batch, optimizer_name)
            parts = ", ".join(f"{key} {value:,}" for key, value in estimate.items())
            print(f"784-128-10 {optimizer_name:4s} batch {batch:4d}: {parts} bytes")
    enable_autograd()
    mlp = Sequential(Linear(784, 128, rng=0), ReLU(), Linear(128, 10, rng=1))
    recorded = graph_stats(mlp(Tensor(np.zeros((64, 784))))).saved_bytes
    print(
        f"our graph for one 784-128-10 forward at batch 64 records {recorded:,} bytes of "
        f"results (graph_stats; the input batch and the ReLU mask come on top)"
    )
