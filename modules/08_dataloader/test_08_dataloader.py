"""Graded tests for Module 08 (DataLoader). Each test carries the exercise id it grades;
points come from module.yaml, split evenly over that exercise's tests.

Each exercise is tested on its own: the DataLoader tests use small hand-written datasets
instead of your TensorDataset, and replace `sample_order` or `index_batches` with fixed
answers where another exercise would otherwise decide the result. Measurements are
checked with a fake clock, never by timing.
"""

import numpy as np
import pytest

from tinytorch.core import Tensor
from tinytorch.data import (
    CollationReport,
    DataLoader,
    Dataset,
    TensorDataset,
    ThroughputReport,
    collate,
    collation_overhead,
    measure_throughput,
)

exercise = pytest.mark.exercise


class Squares(Dataset):
    """Sample i is (i, i*i) as plain numbers; remembers which indices were fetched."""

    def __init__(self, count: int):
        self.count = count
        self.fetched = []

    def __len__(self):
        return self.count

    def __getitem__(self, index):
        self.fetched.append(index)
        return (index, index * index)


def fake_clock(*readings):
    """A clock that returns `readings` in turn and fails the test if read once more."""
    remaining = list(readings)

    def clock():
        assert remaining, f"the clock was read more than the {len(readings)} times expected"
        return remaining.pop(0)

    return clock


# ---- 08.1 TensorDataset --------------------------------------------------------
@exercise("08.1")
def test_08_1_sample_i_is_row_i_of_every_tensor():
    x = Tensor(np.arange(15).reshape(5, 3))
    y = np.array([10, 11, 12, 13, 14])
    dataset = TensorDataset(x, y)
    assert len(dataset) == 5, f"5 rows means 5 samples, len gave {len(dataset)}"
    inputs, target = dataset[2]
    assert isinstance(inputs, Tensor) and isinstance(target, Tensor), "fields must be Tensors"
    np.testing.assert_array_equal(inputs.data, [6, 7, 8], "dataset[2] is row 2 of x: [6, 7, 8]")
    assert target.shape == () and target.item() == 12.0, "the target of a row is a scalar"
    assert target.dtype == np.float32, "TensorDataset stores float32 Tensors"
    np.testing.assert_array_equal(dataset[-1][0].data, [12, 13, 14], "negative indices count back")
    assert np.shares_memory(dataset[1][0].data, x.data), (
        "dataset[i] should be a view of row i of the Tensor you passed, not a copy"
    )


@exercise("08.1")
def test_08_1_mismatched_lengths_and_bad_indices_are_explained():
    with pytest.raises(ValueError) as caught:
        TensorDataset(np.zeros((5, 3)), np.zeros(4))
    assert "(5, 3)" in str(caught.value) and "(4,)" in str(caught.value), (
        f"the error should show both shapes, got: {caught.value}"
    )
    dataset = TensorDataset(np.zeros((5, 2)), np.arange(5))
    with pytest.raises(IndexError):
        dataset[5]
    assert len(list(dataset)) == 5, "for sample in dataset stops at the IndexError after the end"


# ---- 08.2 collate --------------------------------------------------------------
@exercise("08.2")
def test_08_2_stacks_each_field_along_a_new_first_axis():
    samples = [(Tensor([i, i + 1.0, i + 2.0]), i * 10) for i in range(4)]
    inputs, targets = collate(samples)
    assert isinstance(inputs, Tensor) and inputs.shape == (4, 3), (
        f"4 samples of shape (3,) stack to (4, 3), got {getattr(inputs, 'shape', inputs)}"
    )
    assert targets.shape == (4,) and targets.dtype == np.float32, (
        f"4 number targets stack to a float32 (4,) Tensor, got {targets.dtype} {targets.shape}"
    )
    np.testing.assert_array_equal(
        inputs.data[:, 0], [0, 1, 2, 3], "row i of the batch is sample i, in order"
    )
    np.testing.assert_array_equal(targets.data, [0, 10, 20, 30], "targets 0, 10, 20, 30 in order")
    arrays = collate([(np.ones((2, 2)), np.zeros(1)), [np.zeros((2, 2)), np.ones(1)]])
    assert [t.shape for t in arrays] == [(2, 2, 2), (2, 1)], "arrays and lists work too"


@exercise("08.2")
def test_08_2_single_fields_and_ragged_samples():
    single = collate([np.full((2, 3), k) for k in range(5)])
    assert isinstance(single, Tensor) and single.shape == (5, 2, 3), (
        "samples that are not tuples are one field: the batch is one Tensor"
    )
    ragged = [(np.zeros(3), 0), (np.zeros(3), 1), (np.zeros(4), 2)]
    with pytest.raises(ValueError) as caught:
        collate(ragged)
    message = str(caught.value)
    assert "sample 2" in message and "(4,)" in message and "(3,)" in message, (
        f"name the sample that breaks the pattern and both shapes, got: {message}"
    )
    with pytest.raises(ValueError):
        collate([(1, 2), (3,)])
    with pytest.raises(ValueError):
        collate([])


# ---- 08.3 sample_order -----------------------------------------------------------
@exercise("08.3")
def test_08_3_without_shuffle_the_order_is_0_to_n():
    loader = DataLoader(Squares(7), batch_size=3)
    for _ in range(2):
        np.testing.assert_array_equal(
            loader.sample_order(), np.arange(7), "shuffle=False: every pass is 0, 1, ..., 6"
        )


@exercise("08.3")
def test_08_3_shuffle_is_a_new_permutation_each_pass_and_repeatable_from_the_seed():
    first = DataLoader(Squares(50), batch_size=8, shuffle=True, seed=3)
    again = DataLoader(Squares(50), batch_size=8, shuffle=True, seed=3)
    other = DataLoader(Squares(50), batch_size=8, shuffle=True, seed=4)
    passes = [first.sample_order() for _ in range(3)]
    for order in passes:
        np.testing.assert_array_equal(
            np.sort(order), np.arange(50), "a pass visits every sample once"
        )
    assert not np.array_equal(passes[0], passes[1]), "each pass must draw a new order"
    for order in passes:
        np.testing.assert_array_equal(again.sample_order(), order, "same seed, same orders")
    assert not np.array_equal(other.sample_order(), passes[0]), "another seed, another order"


@exercise("08.3")
def test_08_3_the_order_comes_from_the_loaders_generator():
    left = DataLoader(Squares(30), shuffle=True, seed=1)
    right = DataLoader(Squares(30), shuffle=True, seed=2)
    left.rng, right.rng = np.random.default_rng(9), np.random.default_rng(9)
    np.testing.assert_array_equal(
        left.sample_order(),
        right.sample_order(),
        "draw the permutation from self.rng (the loader's np.random.Generator)",
    )


# ---- 08.4 index_batches and len ---------------------------------------------------
@exercise("08.4")
def test_08_4_consecutive_slices_and_drop_last(monkeypatch):
    order = np.array([7, 2, 9, 0, 4, 1, 8, 3, 6, 5])
    loader = DataLoader(Squares(10), batch_size=4)
    monkeypatch.setattr(loader, "sample_order", lambda: order)
    batches = loader.index_batches()
    assert [list(b) for b in batches] == [[7, 2, 9, 0], [4, 1, 8, 3], [6, 5]], (
        f"order {list(order)} in batches of 4: [7, 2, 9, 0], [4, 1, 8, 3], [6, 5]; got "
        f"{[list(b) for b in batches]}"
    )
    loader.drop_last = True
    assert [list(b) for b in loader.index_batches()] == [[7, 2, 9, 0], [4, 1, 8, 3]], (
        "drop_last leaves out the short last batch"
    )
    loader.batch_size = 5
    assert [len(b) for b in loader.index_batches()] == [5, 5], "nothing to drop when B divides N"
    loader.batch_size = 12
    assert loader.index_batches() == [], "with drop_last, B > N leaves no full batch"
    loader.drop_last = False
    assert [list(b) for b in loader.index_batches()] == [list(order)], (
        "without drop_last, B = 12 > N = 10 gives one short batch holding the whole order"
    )


@exercise("08.4")
def test_08_4_len_is_the_number_of_batches():
    cases = [(10, 4, False, 3), (10, 4, True, 2), (8, 4, False, 2), (8, 4, True, 2)]
    cases += [(3, 5, False, 1), (3, 5, True, 0), (1, 1, False, 1)]
    for count, size, drop, expected in cases:
        loader = DataLoader(Squares(count), batch_size=size, drop_last=drop)
        assert len(loader) == expected, (
            f"N={count}, batch_size={size}, drop_last={drop}: expected {expected} batches, "
            f"got {len(loader)}"
        )


# ---- 08.5 iteration -----------------------------------------------------------------
@exercise("08.5")
def test_08_5_fetches_each_batch_and_hands_it_to_collate_fn(monkeypatch):
    dataset = Squares(4)
    loader = DataLoader(dataset, batch_size=2, collate_fn=list)
    monkeypatch.setattr(loader, "index_batches", lambda: [np.array([3, 1]), np.array([0, 2])])
    batches = list(loader)
    assert batches == [[(3, 9), (1, 1)], [(0, 0), (2, 4)]], (
        f"expected collate_fn([dataset[i] for i in batch]) for each batch, got {batches}"
    )
    assert all(type(index) is int for index in dataset.fetched), (
        "pass plain Python ints to dataset[...] (int(i)), not NumPy integers"
    )


@exercise("08.5")
def test_08_5_every_pass_asks_for_new_batches(monkeypatch):
    loader = DataLoader(Squares(3), batch_size=3, collate_fn=len)
    calls = []

    def batches():
        calls.append(1)
        return [np.array([0, 1, 2])]

    monkeypatch.setattr(loader, "index_batches", batches)
    assert [list(loader), list(loader)] == [[3], [3]], "two passes, one batch of 3 samples each"
    assert len(calls) == 2, "each pass (each epoch) must call index_batches() once"


# ---- 08.6 measurements ----------------------------------------------------------------
@exercise("08.6")
def test_08_6_throughput_counts_samples_over_passes_with_two_clock_reads():
    batches = [(Tensor(np.zeros((4, 3))), Tensor(np.zeros(4))), (Tensor(np.zeros((2, 3))), None)]
    report = measure_throughput(batches, passes=3, clock=fake_clock(10.0, 14.0))
    assert isinstance(report, ThroughputReport), f"return a ThroughputReport, got {report!r}"
    assert (report.samples, report.batches) == (18, 6), (
        f"3 passes over batches of 4 and 2 samples: 18 samples in 6 batches, got "
        f"{report.samples} in {report.batches}"
    )
    assert report.seconds == pytest.approx(4.0), (
        f"clock 10.0 then 14.0: 4.0 s, got {report.seconds}"
    )
    assert report.samples_per_second == pytest.approx(4.5), (
        f"18 samples / 4.0 s = 4.5 samples/s, got {report.samples_per_second}"
    )
    single = measure_throughput([Tensor(np.zeros((5, 2)))], clock=fake_clock(0.0, 0.5))
    assert single.samples == 5 and single.samples_per_second == pytest.approx(10.0), (
        "a batch that is one Tensor counts its first axis"
    )


@exercise("08.6")
def test_08_6_collation_overhead_splits_each_batch_into_fetch_and_collate(monkeypatch):
    seen = []

    def recording_collate(samples):
        seen.append(samples)
        return samples

    loader = DataLoader(Squares(4), batch_size=2, collate_fn=recording_collate)
    monkeypatch.setattr(loader, "index_batches", lambda: [np.array([0, 1]), np.array([2, 3])])
    report = collation_overhead(loader, clock=fake_clock(0.0, 1.0, 4.0, 10.0, 12.0, 13.0))
    assert isinstance(report, CollationReport), f"return a CollationReport, got {report!r}"
    assert report.fetch_seconds == pytest.approx(3.0), "fetch: (1 - 0) + (12 - 10)"
    assert report.collate_seconds == pytest.approx(4.0), "collate: (4 - 1) + (13 - 12)"
    assert report.collate_fraction == pytest.approx(4 / 7), (
        f"collate 4 s of 3 + 4 s in all: 4/7, got {report.collate_fraction}"
    )
    assert seen == [[(0, 0), (1, 1)], [(2, 4), (3, 9)]], "collate_fn gets the fetched samples"


@exercise("08.6")
def test_08_6_real_clock_gives_sane_figures():
    batches = [Tensor(np.ones((8, 16))) for _ in range(5)]
    report = measure_throughput(batches, passes=2)
    assert report.samples == 80 and report.seconds >= 0, (
        f"2 passes over 5 batches of 8: 80 samples in >= 0 s, got {report.samples} in "
        f"{report.seconds} s"
    )
    assert report.samples_per_second > 0, f"got {report.samples_per_second} samples/s"
    if report.seconds > 0:
        assert report.samples_per_second == pytest.approx(80 / report.seconds), (
            f"80 samples / {report.seconds} s, got {report.samples_per_second}"
        )


# ---- across modules (not graded) -------------------------------------------------------
@pytest.mark.integration
def test_integration_loader_batches_equal_module_07_minibatches():
    from tinytorch.training import minibatch_indices

    x, y = np.arange(22).reshape(11, 2), np.arange(11)
    loader = DataLoader(TensorDataset(x, y), batch_size=4, shuffle=True, seed=7)
    expected = minibatch_indices(11, 4, np.random.default_rng(7))
    for (inputs, targets), indices in zip(loader, expected, strict=True):
        np.testing.assert_array_equal(inputs.data, x[indices])
        np.testing.assert_array_equal(targets.data, y[indices])


@pytest.mark.integration
def test_integration_train_epoch_loader_matches_module_07_train_epoch():
    """The refactor is faithful: same seed, same batches, same updates, same loss."""
    from tinytorch.optim import SGD
    from tinytorch.training import train_epoch, train_epoch_loader

    rng = np.random.default_rng(0)
    x = rng.normal(size=(20, 3)).astype(np.float32)
    y = (x @ np.array([[1.0], [-2.0], [0.5]]) + 0.1).astype(np.float32)

    class Affine:
        def __init__(self):
            self.w = Tensor(np.full((3, 1), 0.1), requires_grad=True)
            self.b = Tensor(np.zeros(1), requires_grad=True)

        def parameters(self):
            return [self.w, self.b]

        def __call__(self, inputs):
            return inputs @ self.w + self.b

    def mse(predictions, targets):
        return ((predictions - targets) ** 2).mean()

    manual, loaded = Affine(), Affine()
    manual_optimizer = SGD(manual.parameters(), lr=0.05)
    rng = np.random.default_rng(5)
    manual_loss = train_epoch(manual, mse, manual_optimizer, x, y, batch_size=6, rng=rng)
    loader = DataLoader(TensorDataset(x, y), batch_size=6, shuffle=True, seed=5)
    loader_loss = train_epoch_loader(loaded, mse, SGD(loaded.parameters(), lr=0.05), loader)
    assert loader_loss == pytest.approx(manual_loss, rel=1e-6)
    np.testing.assert_allclose(loaded.w.data, manual.w.data, rtol=1e-6)
    np.testing.assert_allclose(loaded.b.data, manual.b.data, rtol=1e-6)
