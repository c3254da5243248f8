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
# # Module 16 — Compression
#
# Module 15 kept every weight and stored it in fewer bytes. This module asks a
# blunter question: which weights does a trained model need at all? Three answers:
#
# - **Magnitude pruning** sets the weights closest to zero to exactly zero — per layer
#   (16.1) or with one threshold for the whole model (16.2). The matrices keep their
#   shape; they become sparse. This is **unstructured** pruning.
# - **Structured pruning** removes whole neurons — a column of one weight matrix and the
#   matching row of the next — so the matrices really get smaller (16.3).
# - **Knowledge distillation** trains a small "student" model to imitate the softened
#   predictions of a large "teacher", which carry more information than the labels
#   alone (16.4).
#
# **Systems concept: zeros are not savings until the format says so.** A float32 matrix
# that is 90 % zeros still takes 4 bytes per entry and the same matmul FLOPs. Only a
# sparse storage format (CSR, 16.5) or a smaller dense matrix (16.3) turns the zeros into
# fewer bytes — and CSR pays 8 bytes per *kept* entry, so it wins only above 50 %
# **sparsity** (fraction of zeros). You will measure sparsity against accuracy (16.6).
#
# | exercise | what you write |
# |---|---|
# | 16.1 magnitude_prune | zero the smallest-magnitude entries of one weight; every layer alike |
# | 16.2 global_magnitude_prune | one threshold across all weights of a model |
# | 16.3 structured_prune | drop whole neurons by L2 norm: a smaller dense model |
# | 16.4 distillation_loss | temperature-softened KL to a teacher + cross-entropy to the labels |
# | 16.5 sparsity_report | zeros, dense bytes and CSR bytes of every weight |
# | 16.6 pruning_sweep | accuracy of pruned copies at several sparsities |
# | 16.7 csr_matrix | real CSR arrays of a weight, and a model's bytes dense and sparse |
# | 16.8 distill | train a smaller student on a teacher's softened outputs (masks kept) |

# %%
from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from tinytorch.core import Tensor, no_grad
from tinytorch.nn import CrossEntropyLoss, Linear, Sequential, log_softmax
from tinytorch.training import accuracy, minibatch_indices

# %% [markdown]
# ## Which weights can be pruned?
#
# The weight matrices: every parameter with two or more axes (Linear, Conv2d, Embedding
# and attention weights). Biases and LayerNorm scales have one axis, are few, and each
# of them shifts or scales a whole output: they are kept. `prunable_weights` (given)
# lists them with a name, in `parameters()` order.


# %%
def prunable_weights(model) -> list[tuple[str, Tensor]]:
    """(name, weight) for every parameter of `model` with at least 2 axes, in parameters()
    order. In a Sequential the name is the layer's position and class, e.g. '0:Linear'."""
    if hasattr(model, "layers"):
        found = []
        for position, layer in enumerate(model.layers):
            params = layer.parameters() if hasattr(layer, "parameters") else []
            matrices = [p for p in params if p.ndim >= 2]
            for k, weight in enumerate(matrices):
                suffix = f".{k}" if len(matrices) > 1 else ""
                found.append((f"{position}:{type(layer).__name__}{suffix}", weight))
        return found
    return [(f"param.{i}", p) for i, p in enumerate(model.parameters()) if p.ndim >= 2]


# %% [markdown]
# ## 16.1 — Magnitude pruning, one matrix at a time
#
# The simplest guess at an unimportant weight is a small one: w·x changes little if a
# tiny w becomes 0. To prune a fraction `sparsity` of a matrix, set its
# k = round(sparsity · size) entries of smallest |w| to zero:
#
#     order = indices of the entries sorted by |w|      (np.argsort, axis=None: flattened)
#     mask  = True everywhere, False at the first k of order
#     w    *= mask                                       (in place: the model changes)
#
# Use `kind="stable"` so that ties are broken by position and exactly k entries go —
# a threshold test `|w| > t` would remove more than k when several entries equal t.
# Return the mask (True = kept): training further must keep pruned weights at zero,
# and the mask is how (`weight.data *= mask` after every optimizer step).
#
# `prune_each_layer` applies the same sparsity to every prunable weight of a model.


# %%
def magnitude_prune(weight: Tensor, sparsity: float) -> np.ndarray:
    """Zero the round(sparsity · size) smallest-|w| entries of `weight` in place.

    Returns the boolean mask (weight's shape, True = kept). Exactly that many entries
    become False, ties broken by position. Cost: one sort of size entries; the mask is
    1 byte per entry.
    """
    _check_sparsity(sparsity)
    k = int(round(sparsity * weight.size))
    ### BEGIN SOLUTION 16.1
    order = np.argsort(np.abs(weight.data), axis=None, kind="stable")
    mask = np.ones(weight.size, dtype=bool)
    mask[order[:k]] = False
    mask = mask.reshape(weight.shape)
    weight.data *= mask
    return mask
    ### END SOLUTION


def prune_each_layer(model, sparsity: float) -> dict[str, np.ndarray]:
    """magnitude_prune every prunable weight of `model` to the same sparsity.
    Returns {name: mask} in prunable_weights order."""
    ### BEGIN SOLUTION 16.1
    return {name: magnitude_prune(weight, sparsity) for name, weight in prunable_weights(model)}
    ### END SOLUTION


def _check_sparsity(sparsity: float) -> None:
    if not 0.0 <= sparsity <= 1.0:
        raise ValueError(
            f"sparsity is the fraction of weights set to zero, between 0 and 1, got {sparsity!r}"
        )


# %% [markdown]
# ## 16.2 — Global magnitude pruning
#
# Layers are not equally redundant: a first layer with 784 inputs per neuron can lose
# more than the last layer with 10 outputs. Global pruning ranks *all* prunable weights
# of the model together and removes the k = round(sparsity · total) smallest, wherever
# they are; each layer ends up with its own sparsity.
#
#     magnitudes = concatenate |w| of every weight, flattened      (total entries)
#     keep       = False at the k smallest (stable argsort), True elsewhere
#     cut keep back into pieces of each weight's size, reshape, apply in place
#
# NOTE: comparing magnitudes across layers assumes they are on a comparable scale.
# Xavier initialisation keeps them close; with very different layers (embeddings
# against attention) per-layer pruning can be the safer choice.


# %%
def global_magnitude_prune(model, sparsity: float) -> dict[str, np.ndarray]:
    """Zero the round(sparsity · total) smallest-|w| entries across all prunable weights.
    Returns {name: mask}; each weight is changed in place.
    Cost: one sort of all prunable entries; a concatenated copy of 4 bytes per entry."""
    _check_sparsity(sparsity)
    named = prunable_weights(model)
    if not named:
        return {}
    total = sum(weight.size for _, weight in named)
    k = int(round(sparsity * total))
    ### BEGIN SOLUTION 16.2
    magnitudes = np.concatenate([np.abs(weight.data).reshape(-1) for _, weight in named])
    keep = np.ones(total, dtype=bool)
    keep[np.argsort(magnitudes, kind="stable")[:k]] = False
    masks, start = {}, 0
    for name, weight in named:
        mask = keep[start : start + weight.size].reshape(weight.shape)
        weight.data *= mask
        masks[name] = mask
        start += weight.size
    return masks
    ### END SOLUTION


# %% [markdown]
# ## 16.3 — Structured pruning: remove whole neurons
#
# A zero in the middle of a matrix saves nothing by itself. A whole neuron does: output
# j of a Linear is column j of its (in, out) weight and entry j of its bias, and it
# feeds row j of the next Linear's weight. Remove all three and both matrices are
# smaller — fewer bytes, fewer FLOPs, with the dense matmul we already have.
#
# Which neurons? The ones with the smallest **L2 norm** of their incoming weights,
# `sqrt(Σ_i w_ij²)` (`neuron_norms`): a neuron whose weights are all small contributes
# little. For a Sequential of Linears separated by elementwise layers (ReLU …):
#
# 1. From the *original* weights, every Linear except the last (its outputs are the
#    model's outputs) keeps its `out − int(fraction · out)` columns of largest norm,
#    at least one, as sorted indices.
# 2. Every Linear is rebuilt with `linear_from` (given): rows = the kept outputs of the
#    previous Linear (all rows for the first), columns = its own kept outputs (all for
#    the last); bias = its kept entries.
# 3. The result is a new Sequential with the rebuilt Linears and the same other layers.
#
# Because ReLU(0) = 0, the pruned model computes exactly what the original would with
# those neurons' weights and biases set to zero — a property the test checks.


# %%
def neuron_norms(layer: Linear) -> np.ndarray:
    """L2 norm of each output neuron's incoming weights: (out_features,) float array."""
    ### BEGIN SOLUTION 16.3
    return np.sqrt((layer.weight.data.astype(np.float64) ** 2).sum(axis=0))
    ### END SOLUTION


def linear_from(weight: np.ndarray, bias: np.ndarray | None) -> Linear:
    """A Linear whose weight (in, out) and bias (out,) are copies of the given arrays."""
    layer = Linear(weight.shape[0], weight.shape[1], bias=bias is not None, rng=0)
    layer.weight.data = np.array(weight, dtype=np.float32)
    if bias is not None:
        layer.bias.data = np.array(bias, dtype=np.float32)
    return layer


def structured_prune(model, fraction: float) -> Sequential:
    """A new, smaller Sequential: every Linear but the last loses int(fraction · out) of
    its output neurons (smallest L2 norm, decided on the original weights), and the
    next Linear loses the matching input rows. Only elementwise layers may sit between
    the Linears. `model` is not changed. Parameters drop by about fraction·(in + out) per
    removed neuron, and so do the FLOPs."""
    _check_sparsity(fraction)
    layers = list(model.layers)
    linears = [i for i, layer in enumerate(layers) if isinstance(layer, Linear)]
    ### BEGIN SOLUTION 16.3
    kept = {}
    for index in linears[:-1]:
        norms = neuron_norms(layers[index])
        count = max(1, len(norms) - int(fraction * len(norms)))
        kept[index] = np.sort(np.argsort(-norms, kind="stable")[:count])
    rows = None  # the kept outputs of the previous Linear: this Linear's kept inputs
    for index in linears:
        layer = layers[index]
        columns = kept.get(index, np.arange(layer.out_features))
        weight = layer.weight.data if rows is None else layer.weight.data[rows]
        bias = None if layer.bias is None else layer.bias.data[columns]
        layers[index] = linear_from(weight[:, columns], bias)
        rows = columns
    return Sequential(*layers)
    ### END SOLUTION


# %% [markdown]
# ## 16.4 — Knowledge distillation
#
# A trained teacher's output says more than its top answer: for a handwritten 7 it may
# give 0.9 to "7", 0.09 to "1" and almost nothing to "6" — "this 7 looks a bit like a 1".
# A student trained on those probabilities learns the teacher's notion of similarity,
# not just the labels. Softmax of ordinary logits is nearly one-hot, so both are first
# softened with a **temperature** T > 1 (Module 13's sampling used the same knob):
#
#     p = softmax(teacher_logits / T)       constant: the teacher is not trained
#     q = softmax(student_logits / T)
#     soft = KL(p ‖ q) = mean over rows of Σ_c p_c · (log p_c − log q_c)
#     loss = alpha · T² · soft + (1 − alpha) · CrossEntropy(student_logits, labels)
#
# Why T²? The gradient of the soft term with respect to a student logit is
# (q − p) / T: dividing logits by T shrinks it by 1/T, and the softer p and q differ by
# about another 1/T. Multiplying by T² keeps the soft term's gradient on the scale of
# the hard term's whatever T is, so alpha alone sets the balance.
#
# Build it from Tensor operations only — `log_softmax` (Module 04), `*`, `-`, `sum`,
# `mean`, and Module 04's `CrossEntropyLoss` — so that autograd differentiates it. Use
# `log_softmax` for both log p and log q (never `log` of a softmax: a probability that
# rounds to 0 would give −inf). The teacher's side is plain data: compute it from
# `teacher / T` as a NumPy array wrapped in constant Tensors.


# %%
def distillation_loss(
    student_logits: Tensor,
    teacher_logits,
    labels,
    temperature: float = 2.0,
    alpha: float = 0.5,
) -> Tensor:
    """alpha · T² · KL(softmax(teacher / T) ‖ softmax(student / T)) + (1 − alpha) · CE.

    student_logits: (N, C) Tensor (differentiable); teacher_logits: (N, C) Tensor or array,
    treated as a constant; labels: (N,) class ids. Returns a Tensor of shape ().
    Cost: two log-softmaxes and one cross-entropy over (N, C): a few (N, C) temporaries.
    """
    if temperature <= 0 or not 0.0 <= alpha <= 1.0:
        raise ValueError(
            f"distillation_loss needs temperature > 0 and 0 <= alpha <= 1, got "
            f"temperature={temperature!r}, alpha={alpha!r}"
        )
    teacher = teacher_logits.data if isinstance(teacher_logits, Tensor) else teacher_logits
    teacher = np.asarray(teacher, dtype=np.float32)
    if teacher.shape != student_logits.shape:
        raise ValueError(
            f"teacher and student must score the same classes for the same rows: teacher "
            f"{teacher.shape}, student {student_logits.shape}"
        )
    ### BEGIN SOLUTION 16.4
    teacher_log_probs = log_softmax(Tensor(teacher / temperature)).data
    teacher_probs = Tensor(np.exp(teacher_log_probs))
    student_log_probs = log_softmax(student_logits * (1.0 / temperature))
    gap = Tensor(teacher_log_probs) - student_log_probs
    soft = (teacher_probs * gap).sum(axis=-1).mean()
    hard = CrossEntropyLoss()(student_logits, labels)
    return soft * (alpha * temperature**2) + hard * (1.0 - alpha)
    ### END SOLUTION


# %% [markdown]
# ## 16.5 — What the zeros are worth: a sparsity report
#
# **CSR** (compressed sparse row) stores only the nonzeros of a matrix with R rows:
#
#     values          nnz float32       4·nnz bytes
#     column indices  nnz int32         4·nnz bytes
#     row pointers    R + 1 int32       4·(R + 1) bytes     where each row starts
#
# against 4·size bytes dense. CSR is smaller only when 8·nnz + 4·(R + 1) < 4·size, i.e.
# above about 50 % sparsity. A tensor with more than two axes (a convolution kernel) is
# viewed as (shape[0], rest). `sparsity_report` gives, per prunable weight, the zeros,
# the size, and both byte counts.


# %%
def csr_bytes(array: np.ndarray) -> int:
    """Bytes of `array` in CSR with float32 values and int32 indices, viewed as
    (shape[0], -1): 4·nnz + 4·nnz + 4·(rows + 1)."""
    array = np.asarray(array)
    if array.ndim == 0:
        raise ValueError("csr_bytes needs an array with at least one axis, got a single number")
    matrix = array.reshape(array.shape[0], -1)
    ### BEGIN SOLUTION 16.5
    nonzeros = int(np.count_nonzero(matrix))
    return 4 * nonzeros + 4 * nonzeros + 4 * (matrix.shape[0] + 1)
    ### END SOLUTION


@dataclass(frozen=True)
class SparsityRow:
    """One prunable weight: how many zeros, and what it costs dense and in CSR."""

    name: str
    shape: tuple[int, ...]
    zeros: int
    size: int
    dense_bytes: int
    csr_bytes: int

    @property
    def sparsity(self) -> float:
        return self.zeros / self.size


def sparsity_report(model) -> list[SparsityRow]:
    """One SparsityRow per prunable weight of `model`, in prunable_weights order."""
    ### BEGIN SOLUTION 16.5
    rows = []
    for name, weight in prunable_weights(model):
        zeros = weight.size - int(np.count_nonzero(weight.data))
        rows.append(
            SparsityRow(
                name,
                weight.shape,
                zeros,
                weight.size,
                weight.memory_footprint(),
                csr_bytes(weight.data),
            )
        )
    return rows
    ### END SOLUTION


def format_report(rows: list[SparsityRow]) -> str:
    """A text table of a sparsity report with a total line."""
    lines = [f"{'weight':>12} {'shape':>12} {'sparsity':>9} {'dense B':>10} {'CSR B':>10}"]
    for row in rows:
        lines.append(
            f"{row.name:>12} {str(row.shape):>12} {row.sparsity:>9.1%} "
            f"{row.dense_bytes:>10,} {row.csr_bytes:>10,}"
        )
    zeros, size = sum(r.zeros for r in rows), sum(r.size for r in rows)
    dense, csr = sum(r.dense_bytes for r in rows), sum(r.csr_bytes for r in rows)
    lines.append(f"{'total':>12} {'':>12} {zeros / size:>9.1%} {dense:>10,} {csr:>10,}")
    return "\n".join(lines)


# %% [markdown]
# ## 16.6 — Sparsity against accuracy
#
# How far can a trained model be pruned? Measure it: for each sparsity, prune a
# *copy* (`copy.deepcopy`: the original must stay intact for the next one) with
# `prune` (global magnitude pruning unless told otherwise), and record the sparsity
# the masks actually reached and the copy's `accuracy` (Module 15) on held-out data.
#
# Without any retraining, accuracy usually holds up to a point and then falls off a
# cliff. Retraining a little with the masks re-applied after each step ("fine-tuning")
# moves the cliff much further; that is left to the reflection questions.


# %%
@dataclass(frozen=True)
class PruningResult:
    """Accuracy of a pruned copy of a model."""

    sparsity: float  # what was asked for
    accuracy: float
    measured_sparsity: float  # fraction of False in the masks the pruning returned


def pruning_sweep(
    model,
    x,
    labels,
    sparsities,
    prune: Callable | None = None,
) -> list[PruningResult]:
    """One PruningResult per entry of `sparsities`, each from a fresh deep copy of
    `model` pruned with prune(copy, sparsity) (default: global_magnitude_prune).
    `model` itself is never changed. Cost: one copy, one pruning and one accuracy
    pass per sparsity."""
    prune = global_magnitude_prune if prune is None else prune
    results = []
    ### BEGIN SOLUTION 16.6
    for sparsity in sparsities:
        pruned = copy.deepcopy(model)
        masks = list(prune(pruned, sparsity).values())
        kept = sum(int(mask.sum()) for mask in masks)
        total = sum(mask.size for mask in masks)
        results.append(
            PruningResult(sparsity, accuracy(pruned, x, labels), 1.0 - kept / max(total, 1))
        )
    ### END SOLUTION
    return results


# %% [markdown]
# ## 16.7 — CSR for real: the arrays, and what a model weighs
#
# `csr_bytes` (16.5) predicts the bytes; now build the three arrays and *measure* them.
# For a matrix with R rows, walk the rows in order and keep, for each nonzero, its value
# and its column; `row_starts[r]` is how many nonzeros come before row r, so row r's
# entries are `values[row_starts[r] : row_starts[r + 1]]` and `row_starts[R]` = nnz:
#
#     [[0, 5, 0],        values     [5., 7., 2.]       float32
#      [0, 0, 0],   →    columns    [1, 0, 2]          int32
#      [7, 0, 2]]        row_starts [0, 1, 1, 3]       int32
#
# NumPy finds the nonzeros in row order for you (`np.nonzero`), and the row starts are
# a running count of nonzeros per row (`np.bincount`, `np.cumsum`). A tensor with more
# than two axes is viewed as (shape[0], rest), as in 16.5. `to_dense` undoes it.
#
# `model_bytes(model, sparse)` is what a model costs to store: every parameter dense
# (`nbytes`), or, with `sparse=True`, every prunable weight as CSR (`to_csr(...).nbytes`)
# and the rest (biases, norms) dense. Bytes of real arrays, not a count of zeros.


# %%
@dataclass(frozen=True)
class CSRMatrix:
    """A (rows, cols) float32 matrix in compressed sparse row form.

    values: float32 (nnz,); columns: int32 (nnz,); row_starts: int32 (rows + 1,).
    Memory: 4·nnz + 4·nnz + 4·(rows + 1) bytes = csr_bytes of the dense matrix.
    """

    values: np.ndarray
    columns: np.ndarray
    row_starts: np.ndarray
    shape: tuple[int, int]

    @property
    def nbytes(self) -> int:
        return self.values.nbytes + self.columns.nbytes + self.row_starts.nbytes

    def to_dense(self) -> np.ndarray:
        """The (rows, cols) float32 matrix, zeros filled back in."""
        dense = np.zeros(self.shape, dtype=np.float32)
        rows = np.repeat(np.arange(self.shape[0]), np.diff(self.row_starts))
        dense[rows, self.columns] = self.values
        return dense


def to_csr(array) -> CSRMatrix:
    """`array` (Tensor or array, at least 1 axis) viewed as (shape[0], -1), in CSR.
    Cost: one pass over the entries; allocates 8 bytes per nonzero + 4·(rows + 1)."""
    array = np.asarray(array.data if isinstance(array, Tensor) else array, dtype=np.float32)
    if array.ndim == 0:
        raise ValueError("to_csr needs an array with at least one axis, got a single number")
    matrix = array.reshape(array.shape[0], -1)
    ### BEGIN SOLUTION 16.7
    rows, columns = np.nonzero(matrix)
    per_row = np.bincount(rows, minlength=matrix.shape[0])
    row_starts = np.concatenate([[0], np.cumsum(per_row)]).astype(np.int32)
    return CSRMatrix(
        matrix[rows, columns].astype(np.float32),
        columns.astype(np.int32),
        row_starts,
        matrix.shape,
    )
    ### END SOLUTION


def model_bytes(model, sparse: bool = False) -> int:
    """Bytes to store every parameter of `model`: dense, or (sparse=True) each prunable
    weight in CSR and every other parameter dense. Measured from the arrays' nbytes."""
    ### BEGIN SOLUTION 16.7
    prunable = {id(weight) for _, weight in prunable_weights(model)}
    total = 0
    for param in model.parameters():
        if sparse and id(param) in prunable:
            total += to_csr(param).nbytes
        else:
            total += param.data.nbytes
    return total
    ### END SOLUTION


# %% [markdown]
# ## 16.8 — Distillation as training, and fine-tuning what was pruned
#
# `distillation_loss` (16.4) is one batch; `distill` is the training loop around it.
# Per epoch, go through `minibatch_indices(len(x), batch_size, rng)` (Module 07, with
# `rng = np.random.default_rng([seed, epoch])` as `fit` does). Per batch: the teacher's
# logits under `no_grad()` (the teacher is never trained: no graph, no gradients), the
# student's logits, `distillation_loss`, then zero the gradients, backward, step.
#
# Pruning and training meet here too: after an optimizer step a pruned weight would
# become nonzero again. With `masks` (name → bool mask, as the pruning functions return
# them), multiply every masked weight by its mask after each step, so the zeros stay
# zeros. With `alpha = 0` the teacher's term vanishes and this is plain fine-tuning of a
# pruned model on the labels.


# %%
def distill(
    student,
    teacher,
    optimizer,
    x,
    labels,
    *,
    epochs: int,
    batch_size: int = 32,
    temperature: float = 2.0,
    alpha: float = 0.5,
    masks: dict[str, np.ndarray] | None = None,
    seed: int = 0,
) -> list[float]:
    """Train `student` on (x, labels) with distillation_loss against `teacher`'s logits;
    keep masked weights at zero after every step. Returns the mean loss of each epoch.
    Cost per batch: one teacher forward (no graph), one student forward and backward."""
    x = np.asarray(x.data if isinstance(x, Tensor) else x, dtype=np.float32)
    labels = np.asarray(labels.data if isinstance(labels, Tensor) else labels).astype(np.int64)
    weights = dict(prunable_weights(student))
    unknown = sorted(set(masks or {}) - set(weights))
    if unknown:
        raise ValueError(
            f"masks name weights the student does not have: {unknown}; its prunable weights "
            f"are {sorted(weights)} (prune the student itself, not another model)"
        )
    history = []
    ### BEGIN SOLUTION 16.8
    for epoch in range(epochs):
        rng = np.random.default_rng([seed, epoch])
        total = 0.0
        for batch in minibatch_indices(len(x), batch_size, rng):
            inputs = Tensor(x[batch])
            with no_grad():
                teacher_logits = teacher(inputs).data
            loss = distillation_loss(
                student(inputs), teacher_logits, labels[batch], temperature, alpha
            )
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            for name, mask in (masks or {}).items():
                weights[name].data *= mask
            total += float(loss.data) * len(batch)
        history.append(total / len(x))
    ### END SOLUTION
    return history


# %% [markdown]
# ## Try it
#
# Run this file (`python modules/16_compression/compression.py`): it trains an MLP on a
# synthetic problem, prunes copies of it per layer and globally, shrinks it
# structurally, and prints the sparsity report of a 90 % pruned copy.

# %%
if __name__ == "__main__":
    from tinytorch.nn import ReLU
    from tinytorch.optim import Adam
    from tinytorch.training import fit

    rng = np.random.default_rng(0)
    centers = rng.normal(size=(4, 16))
    labels_all = rng.integers(0, 4, size=2000)
    x_all = (centers[labels_all] + 1.5 * rng.normal(size=(2000, 16))).astype(np.float32)
    x_train, y_train = x_all[:1500], labels_all[:1500]
    x_test, y_test = x_all[1500:], labels_all[1500:]
    net = Sequential(
        Linear(16, 128, rng=1), ReLU(), Linear(128, 128, rng=2), ReLU(), Linear(128, 4, rng=3)
    )
    fit(net, CrossEntropyLoss(), Adam(net.parameters(), lr=0.01), x_train, y_train, epochs=5)
    levels = (0.0, 0.5, 0.8, 0.9, 0.95)
    for label, prune in (("per layer", prune_each_layer), ("global", global_magnitude_prune)):
        for result in pruning_sweep(net, x_test, y_test, levels, prune):
            print(
                f"{label:>9} {result.sparsity:4.0%}: accuracy {result.accuracy:.3f} "
                f"(measured sparsity {result.measured_sparsity:.1%})"
            )
    for fraction in (0.5, 0.75):
        smaller = structured_prune(net, fraction)
        sizes = [layer.weight.shape for layer in smaller.layers if isinstance(layer, Linear)]
        print(
            f"structured {fraction:.0%}: {sizes}, accuracy {accuracy(smaller, x_test, y_test):.3f}"
        )
    pruned = copy.deepcopy(net)
    global_magnitude_prune(pruned, 0.9)
    print(format_report(sparsity_report(pruned)))
