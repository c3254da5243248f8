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
# # Module 08 — DataLoader
#
# In Module 07 every training loop began with the same chores: draw a permutation,
# slice it into mini-batches, index `x` and `y`, wrap the rows in Tensors. This module
# turns those chores into three small, reusable pieces that every later module feeds
# its models through:
#
# - a **Dataset**: anything with `len(dataset)` and `dataset[i]` → one sample,
# - **collation**: stacking a list of samples into one batch of Tensors,
# - a **DataLoader**: the loop that decides the order (seeded, a new order every
#   epoch), cuts it into batches (optionally dropping a short last one) and collates.
#
# **Systems concept: the cost of feeding the model.** A model can only learn as fast
# as batches arrive. `dataset[i]` is Python work *per sample*; stacking is one NumPy
# call *per batch*. You will measure the **throughput** of a loader in samples per
# second and what fraction of its time goes into collation, and see why libraries
# work hard to touch each sample as few times as possible.
#
# You edit only this file. `from tinytorch.data import DataLoader` reads it directly.
#
# | exercise | what you write |
# |---|---|
# | 08.1 tensor_dataset | a Dataset over Tensors that share their first axis |
# | 08.2 collate | stack samples field by field into batch Tensors |
# | 08.3 sample_order | the order of one pass: in order, or a fresh seeded permutation |
# | 08.4 index_batches | cut the order into batches, honour `drop_last`; `len(loader)` |
# | 08.5 iteration | `for batch in loader`: fetch, collate, yield |
# | 08.6 measurements | samples per second, and the share of time spent collating |

# %%
from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from tinytorch._cells import part_of
from tinytorch.core import Tensor

# %% [markdown]
# ## The Dataset protocol
#
# A dataset is anything that answers two questions: *how many samples?* (`__len__`)
# and *what is sample i?* (`__getitem__`). Nothing else — no batches, no order, no
# randomness. Keeping the dataset that small is what lets one DataLoader serve data
# held in memory, files on disk or samples computed on the fly.
#
# A sample is usually a tuple of fields, e.g. `(inputs, target)`. `TensorDataset`
# is the common case: several Tensors whose first axis is the sample axis, and
# sample `i` is row `i` of each.


# %%
class Dataset:
    """The protocol every dataset follows: `len(ds)` samples, `ds[i]` → sample i.

    Subclass it and define both methods. A sample is one field or a tuple of fields
    (Tensor, NumPy array or number); all samples of a dataset share the same structure.
    """

    def __len__(self) -> int:
        raise NotImplementedError(
            f"{type(self).__name__} must define __len__(self) -> int: the number of samples"
        )

    def __getitem__(self, index: int):
        raise NotImplementedError(
            f"{type(self).__name__} must define __getitem__(self, index) -> sample: "
            f"sample number `index`, 0 <= index < len(self)"
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}({len(self)} samples)"


class TensorDataset(Dataset):
    """Samples are rows: sample i is (t[i] for each tensor t).

    >>> ds = TensorDataset(np.zeros((100, 784)), np.arange(100))
    >>> len(ds), [field.shape for field in ds[3]]
    (100, [(784,), ()])

    Every argument becomes a float32 Tensor (copied only if it was not float32 already);
    class numbers stored this way are exact up to 2**24. `ds[i]` returns Tensors that
    are views of row i: 0 new bytes of data, one small Python object per field.
    Keep the Tensors in `self.tensors`, in the order given.
    """

    def __init__(self, *tensors):
        ### BEGIN SOLUTION 08.1
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor, e.g. TensorDataset(x, y)")
        self.tensors = tuple(t if isinstance(t, Tensor) else Tensor(t) for t in tensors)
        shapes = [t.shape for t in self.tensors]
        if any(len(shape) == 0 for shape in shapes) or len({s[0] for s in shapes}) != 1:
            raise ValueError(
                f"every tensor of a TensorDataset needs the same length along axis 0 (one row "
                f"per sample), got shapes {shapes}. Check that inputs and targets have the same "
                f"number of samples."
            )
        ### END SOLUTION

    def __len__(self) -> int:
        ### BEGIN SOLUTION 08.1
        return self.tensors[0].shape[0]
        ### END SOLUTION

    def __getitem__(self, index: int) -> tuple[Tensor, ...]:
        ### BEGIN SOLUTION 08.1
        if not -len(self) <= index < len(self):
            raise IndexError(f"sample {index} does not exist: this dataset has {len(self)}")
        return tuple(Tensor(t.data[index]) for t in self.tensors)
        ### END SOLUTION


# %% [markdown]
# ## Collation: from samples to a batch
#
# The model wants one Tensor of shape `(B, ...)` per field, not B separate samples.
# **Collation** stacks field k of every sample along a new first axis:
#
#     [(x0, y0), (x1, y1), (x2, y2)]   →   (Tensor[x0, x1, x2], Tensor[y0, y1, y2])
#       B samples of shapes (S,), ()         shapes (B, S) and (B,)
#
# `np.stack` does the copying in one call per field, but it needs every sample's
# field to have the same shape — a ragged dataset fails here, and the error should
# say which sample broke the pattern. A sample that is not a tuple is a single
# field, and its batch is a single Tensor.


# %%
def collate(samples: Sequence) -> Tensor | tuple[Tensor, ...]:
    """Stack a list of B samples into one batch.

    Each sample is a tuple (or list) of F fields, or a single field; fields may be Tensors,
    arrays or numbers. Returns a tuple of F Tensors of shape (B, *field_shape), or one
    Tensor for single-field samples.
    Cost: B·F small conversions in Python, then one float32 copy per field:
    B × (bytes of one sample) in total.
    Raises ValueError naming the sample when structures or shapes differ.
    """
    ### BEGIN SOLUTION 08.2
    if len(samples) == 0:
        raise ValueError("collate needs at least one sample, got an empty list")
    single = not isinstance(samples[0], (tuple, list))
    rows = [(sample,) if single else tuple(sample) for sample in samples]
    width = len(rows[0])
    batch = []
    for field in range(width):
        arrays = []
        for number, row in enumerate(rows):
            if len(row) != width:
                raise ValueError(
                    f"sample {number} has {len(row)} fields but sample 0 has {width}: every "
                    f"sample of a batch must have the same structure"
                )
            value = row[field]
            array = value.data if isinstance(value, Tensor) else np.asarray(value, np.float32)
            if arrays and array.shape != arrays[0].shape:
                raise ValueError(
                    f"field {field} of sample {number} has shape {array.shape}, but sample 0's "
                    f"has shape {arrays[0].shape}. Samples are stacked into one Tensor, so they "
                    f"must have equal shapes: check what your Dataset's __getitem__ returns."
                )
            arrays.append(array)
        batch.append(Tensor(np.stack(arrays)))
    return batch[0] if single else tuple(batch)
    ### END SOLUTION


# %% [markdown]
# ## The DataLoader
#
# A DataLoader owns three decisions, each a method you write:
#
# 1. **The order** of one pass (`sample_order`). Without `shuffle`, it is
#    `0, 1, …, N−1`. With `shuffle`, it is a permutation drawn from the loader's own
#    `np.random.Generator`, `self.rng`, created once from `seed`. Because the
#    generator moves on after every draw, every epoch gets a *different* order — yet
#    two loaders built with the same seed produce the *same sequence* of orders, so
#    a run can be repeated exactly. (`seed=None` asks the operating system for
#    fresh randomness: not repeatable.)
# 2. **The batches** (`index_batches`): consecutive slices of `batch_size` indices.
#    The last slice is shorter when `batch_size` does not divide N; `drop_last=True`
#    drops it, so every batch has exactly `batch_size` samples (useful when a short
#    batch would give a noisy step). `len(loader)` is the number of batches:
#    `ceil(N / B)`, or `floor(N / B)` with `drop_last`.
# 3. **The loop** (`__iter__`): for each slice, fetch `dataset[i]` for its indices
#    and pass the list to `collate_fn`.
#
#     N = 10, batch_size = 4:   order  7 2 9 0 | 4 1 8 3 | 6 5
#                               batches  [7 2 9 0] [4 1 8 3] [6 5]   (drop_last: no [6 5])


# %%
class DataLoader:
    """Batches of a Dataset, in order or shuffled, collated into Tensors.

    >>> loader = DataLoader(TensorDataset(np.zeros((10, 3)), np.arange(10)), batch_size=4)
    >>> len(loader), [x.shape for x, y in loader]
    (3, [(4, 3), (4, 3), (2, 3)])

    shuffle: a new permutation every pass, drawn from np.random.default_rng(seed).
    drop_last: leave out the final batch if it is shorter than batch_size.
    collate_fn: turns a list of samples into a batch (default: collate).
    Memory: one batch at a time — batch_size × (bytes of one sample) — plus the order
    of one pass, 8·N bytes of int64.
    """

    def __init__(
        self,
        dataset,
        batch_size: int = 32,
        shuffle: bool = False,
        drop_last: bool = False,
        seed: int | None = None,
        collate_fn: Callable = collate,
    ):
        if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"batch_size must be a whole number >= 1, got {batch_size!r}")
        if not (hasattr(dataset, "__len__") and hasattr(dataset, "__getitem__")):
            raise TypeError(
                f"a DataLoader needs a dataset with __len__ and __getitem__, got "
                f"{type(dataset).__name__}. Wrap arrays in TensorDataset(x, y)."
            )
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.collate_fn = collate_fn
        self.rng = np.random.default_rng(seed)

    def sample_order(self) -> np.ndarray:
        """Indices of one pass, int64 (N,): 0..N-1, or with shuffle a fresh permutation
        from self.rng (so each call — each epoch — gives a different order).
        Cost: 8·N bytes; a permutation is O(N)."""
        ### BEGIN SOLUTION 08.3
        count = len(self.dataset)
        return self.rng.permutation(count) if self.shuffle else np.arange(count)
        ### END SOLUTION


# %% [markdown]
# ### Cutting a pass into batches (08.4)
#
# Part 2 of the list above: consecutive slices of one pass's order, and how many there
# are. `@part_of(DataLoader)` adds these methods to the class above (see Module 01).


# %%
@part_of(DataLoader)
class DataLoaderBatches:
    """08.4: the batches of one pass, and their number."""

    def index_batches(self) -> list[np.ndarray]:
        """One pass cut into batches: consecutive slices of sample_order() of length
        batch_size; the last may be shorter, and is left out if drop_last is set.
        Slices are views of the order: no indices are copied."""
        order = self.sample_order()
        ### BEGIN SOLUTION 08.4
        stop = len(order) - len(order) % self.batch_size if self.drop_last else len(order)
        return [order[start : start + self.batch_size] for start in range(0, stop, self.batch_size)]
        ### END SOLUTION

    def __len__(self) -> int:
        """Number of batches per pass: ceil(N / batch_size), or floor with drop_last."""
        ### BEGIN SOLUTION 08.4
        count = len(self.dataset)
        return count // self.batch_size if self.drop_last else -(-count // self.batch_size)
        ### END SOLUTION


# %% [markdown]
# ### The loop (08.5)
#
# Part 3: fetch the samples of each batch and collate them.


# %%
@part_of(DataLoader)
class DataLoaderIteration:
    """08.5: iterate over collated batches."""

    def __iter__(self):
        """Yield collate_fn([dataset[i] for i in batch]) for each batch of index_batches().
        Each pass calls index_batches() once, so a shuffled loader reorders every pass."""
        ### BEGIN SOLUTION 08.5
        for indices in self.index_batches():
            yield self.collate_fn([self.dataset[int(i)] for i in indices])
        ### END SOLUTION

    def __repr__(self) -> str:
        return (
            f"DataLoader({len(self.dataset)} samples, batch_size={self.batch_size}, "
            f"shuffle={self.shuffle}, drop_last={self.drop_last})"
        )


# %% [markdown]
# ## Measuring the loader
#
# Two numbers tell you whether data loading can keep up with the model:
#
# - **throughput**: samples delivered per second over whole passes,
#   `samples / seconds`. Compare it with how many samples per second one training
#   step can consume: if the loader is slower, the model waits.
# - **collation share**: of the time spent producing batches, how much went into
#   `collate_fn` (stacking) rather than fetching samples with `dataset[i]`.
#
# Both functions take the clock as an argument (`time.perf_counter` by default), so
# the arithmetic can be checked with a fake clock — a measurement you cannot test
# is a measurement you cannot trust. `measure_throughput` accepts anything you can
# iterate over that yields batches, not only a DataLoader. Read the clock once
# before the work and once after it; do not read it inside the loop.


# %%
@dataclass(frozen=True)
class ThroughputReport:
    """What measure_throughput saw: totals over all passes."""

    samples: int
    batches: int
    seconds: float
    samples_per_second: float


@dataclass(frozen=True)
class CollationReport:
    """Time of one pass split into fetching samples and collating them."""

    fetch_seconds: float
    collate_seconds: float
    collate_fraction: float  # collate_seconds / (fetch_seconds + collate_seconds)


def measure_throughput(
    loader: Iterable, passes: int = 1, clock: Callable[[], float] = time.perf_counter
) -> ThroughputReport:
    """Iterate `passes` times over `loader` and count what arrives.

    A batch is a Tensor or a tuple of Tensors; its sample count is the length of the
    first axis of its (first) Tensor. Reads `clock` exactly twice: before the first pass
    and after the last. samples_per_second is samples / seconds (inf if no time passed).
    """
    if passes < 1:
        raise ValueError(f"passes must be at least 1, got {passes!r}")
    ### BEGIN SOLUTION 08.6
    samples = batches = 0
    start = clock()
    for _ in range(passes):
        for batch in loader:
            first = batch[0] if isinstance(batch, (tuple, list)) else batch
            samples += first.shape[0]
            batches += 1
    seconds = clock() - start
    rate = samples / seconds if seconds > 0 else float("inf")
    return ThroughputReport(samples, batches, seconds, rate)
    ### END SOLUTION


def collation_overhead(loader: DataLoader, clock: Callable[[], float] = time.perf_counter):
    """Time one pass of `loader`, batch by batch, split into fetch and collate.

    For each batch of loader.index_batches(): read the clock, fetch the samples
    [loader.dataset[i] for i in batch], read the clock, call loader.collate_fn on them,
    read the clock — three reads per batch. Returns a CollationReport; collate_fraction
    is 0.0 if no time was measured.
    """
    ### BEGIN SOLUTION 08.6
    fetch = collate_time = 0.0
    for indices in loader.index_batches():
        started = clock()
        samples = [loader.dataset[int(i)] for i in indices]
        fetched = clock()
        loader.collate_fn(samples)
        finished = clock()
        fetch += fetched - started
        collate_time += finished - fetched
    total = fetch + collate_time
    return CollationReport(fetch, collate_time, collate_time / total if total > 0 else 0.0)
    ### END SOLUTION


# %% [markdown]
# ## Module 07's loop, refactored onto the DataLoader (given)
#
# Module 07's `train_epoch(model, loss_fn, optimizer, x, y, *, batch_size, rng)` did
# the batching itself:
#
#     for batch in minibatch_indices(len(x), batch_size, rng):
#         loss = train_step(model, loss_fn, optimizer, Tensor(x[batch]), Tensor(y[batch]))
#
# With a DataLoader the order, the slicing and the stacking move out of the loop;
# what is left is the one line only training needs:
#
#     loader = DataLoader(TensorDataset(x, y), batch_size=32, shuffle=True, seed=0)
#     for epoch in range(epochs):
#         mean_loss = train_epoch_loader(model, loss_fn, optimizer, loader)
#
# `train_epoch_loader` below is Module 07's `train_epoch` with `x, y, batch_size, rng`
# replaced by a loader. The same loop now trains on any Dataset, in memory or not,
# and evaluation is the same loader with `shuffle=False`.


# %%
def train_epoch_loader(model, loss_fn, optimizer, loader, *, schedule=None, max_norm=None):
    """One epoch: Module 07's train_step on every batch of `loader`; returns the mean
    loss over the samples, Σ batch_loss · batch_length / Σ batch_length.
    Batches must be (inputs, targets) pairs of Tensors."""
    from tinytorch.training import train_step  # Module 07, loaded when first needed

    total, count = 0.0, 0
    for inputs, targets in loader:
        loss = train_step(
            model, loss_fn, optimizer, inputs, targets, schedule=schedule, max_norm=max_norm
        )
        total += loss * len(inputs)
        count += len(inputs)
    if count == 0:
        raise ValueError("the loader produced no batches: is the dataset empty?")
    return total / count


# %% [markdown]
# ## Try it
#
# Run `python modules/08_dataloader/dataloader.py`: it measures a loader over 20,000
# samples of 784 numbers and compares it with slicing the arrays directly — one
# NumPy gather per batch instead of one `dataset[i]` per sample.

# %%
if __name__ == "__main__":
    data_rng = np.random.default_rng(0)
    features = data_rng.random((20_000, 784), dtype=np.float32)
    labels = data_rng.integers(0, 10, size=20_000)
    dataset = TensorDataset(features, labels)
    for size in (16, 64, 256):
        loader = DataLoader(dataset, batch_size=size, shuffle=True, seed=0)
        report = measure_throughput(loader)
        split = collation_overhead(loader)
        direct = measure_throughput(
            (Tensor(features[b]), Tensor(labels[b])) for b in loader.index_batches()
        )
        print(
            f"batch {size:3d}: loader {report.samples_per_second:>10,.0f} samples/s, "
            f"{split.collate_fraction:.0%} of it collating; direct slicing "
            f"{direct.samples_per_second:>12,.0f} samples/s "
            f"({direct.samples_per_second / report.samples_per_second:.0f}x)"
        )
