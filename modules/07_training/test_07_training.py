"""Graded tests for Module 07 (Training). Each test carries the exercise id it grades;
points come from module.yaml, split evenly over that exercise's tests.

Most tests need no autograd: `HandLinear` and `HandMSE` below are a tiny model and loss
whose gradient is written out by hand, so the loop, the checkpoint and the numbers can
be compared with a NumPy reference. Tests that train a real `tinytorch.nn` model say so.
"""

import numpy as np
import pytest

from tinytorch.core import Tensor
from tinytorch.optim import SGD, Adam, CosineSchedule, clip_grad_norm
from tinytorch.training import (
    estimate_step_memory,
    evaluate,
    fit,
    load_checkpoint,
    minibatch_indices,
    save_checkpoint,
    train_epoch,
    train_step,
)

exercise = pytest.mark.exercise


# ---- a model and a loss with hand-written gradients ---------------------------------
class HandLinear:
    """predictions = x @ w + b; remembers the last input for HandMSE's backward."""

    def __init__(self, n_in: int, n_out: int, seed: int = 0):
        rng = np.random.default_rng(seed)
        self.w = Tensor(rng.normal(size=(n_in, n_out)) * 0.5)
        self.b = Tensor(np.zeros(n_out))
        self.batches_seen = []

    def parameters(self):
        return [self.w, self.b]

    def __call__(self, inputs: Tensor) -> Tensor:
        self.last_x = np.array(inputs.data, dtype=np.float64)
        self.batches_seen.append(self.last_x)
        return Tensor(inputs.data @ self.w.data + self.b.data)


class HandLoss:
    """A one-number loss whose backward() *adds* into .grad, as autograd does."""

    def __init__(self, model: HandLinear, predictions: Tensor, targets):
        targets = targets.data if isinstance(targets, Tensor) else np.asarray(targets)
        self.model = model
        self.x = model.last_x
        self.error = predictions.data.astype(np.float64) - targets.astype(np.float64)

    def item(self) -> float:
        return float(np.mean(self.error**2))

    def backward(self) -> None:
        d_pred = 2.0 * self.error / self.error.size
        for param, grad in ((self.model.w, self.x.T @ d_pred), (self.model.b, d_pred.sum(0))):
            old = 0.0 if param.grad is None else param.grad.data
            param.grad = Tensor(old + grad)


class HandMSE:
    def __init__(self, model: HandLinear):
        self.model = model

    def __call__(self, predictions, targets) -> HandLoss:
        return HandLoss(self.model, predictions, targets)


def regression_data(n: int = 10, seed: int = 4):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3)).astype(np.float32)
    y = (x @ np.array([[1.0, -1.0], [2.0, 0.0], [-0.5, 1.5]]) + 0.3).astype(np.float32)
    return x, y


def reference_sgd(w, b, x, y, batches, lrs):
    """Plain mini-batch SGD on mean squared error, in float64."""
    w, b = w.astype(np.float64), b.astype(np.float64)
    total = 0.0
    for batch, lr in zip(batches, lrs, strict=True):
        xb, yb = x[batch].astype(np.float64), y[batch].astype(np.float64)
        error = xb @ w + b - yb
        total += np.mean(error**2) * len(batch)
        d_pred = 2.0 * error / error.size
        w, b = w - lr * xb.T @ d_pred, b - lr * d_pred.sum(0)
    return w, b, total / len(x)


def set_grads(params, seed):
    rng = np.random.default_rng(seed)
    for param in params:
        param.grad = Tensor(rng.normal(size=param.shape))


# ---- 07.1 cosine_schedule -------------------------------------------------------
@exercise("07.1")
def test_07_1_cosine_without_warmup():
    schedule = CosineSchedule(max_lr=0.1, total_steps=100)
    expected = {0: 0.1, 25: 0.05 * (1 + np.cos(np.pi / 4)), 50: 0.05, 75: 0.05 * (1 - 0.5**0.5)}
    for step, want in expected.items():
        assert schedule(step) == pytest.approx(want, abs=1e-12), (
            f"step {step} of 100: lr should be 0.1 · ½(1 + cos(π·{step}/100)) = {want:.6f}, "
            f"got {schedule(step)}"
        )
    assert schedule(100) == pytest.approx(0.0, abs=1e-12) and schedule(1000) == 0.0, (
        "at and after total_steps the learning rate stays at min_lr"
    )


@exercise("07.1")
def test_07_1_warmup_then_cosine_to_min_lr():
    schedule = CosineSchedule(max_lr=0.2, total_steps=110, warmup_steps=10, min_lr=0.02)
    warmup = [schedule(step) for step in range(10)]
    np.testing.assert_allclose(
        warmup,
        [0.02 * (step + 1) for step in range(10)],
        rtol=1e-12,
        err_msg="during warmup lr = max_lr · (step + 1) / warmup_steps: 0.02, 0.04, ..., 0.2",
    )
    assert schedule(10) == pytest.approx(0.2), "the cosine starts at max_lr right after warmup"
    assert schedule(60) == pytest.approx(0.11), (
        "halfway through the cosine part (step 60 of 10..110) lr is (max_lr + min_lr) / 2"
    )
    assert schedule(110) == pytest.approx(0.02) and schedule(200) == pytest.approx(0.02), (
        "the schedule ends at min_lr and stays there"
    )
    assert isinstance(schedule(3), float), (
        f"the schedule returns a float, got {type(schedule(3)).__name__}"
    )


# ---- 07.2 clip_grad_norm -------------------------------------------------------
@exercise("07.2")
def test_07_2_clips_all_gradients_by_one_factor():
    a, b, c = Tensor(np.zeros(2)), Tensor(np.zeros(1)), Tensor(np.zeros(3))
    a.grad, b.grad = Tensor([3.0, 4.0]), Tensor([12.0])  # global norm √(9 + 16 + 144) = 13
    norm = clip_grad_norm([a, b, c], max_norm=6.5)
    assert isinstance(norm, float) and norm == pytest.approx(13.0), (
        f"return the global norm before clipping, √(3² + 4² + 12²) = 13.0, got {norm!r}"
    )
    np.testing.assert_allclose(
        np.concatenate([a.grad.data, b.grad.data]),
        [1.5, 2.0, 6.0],
        rtol=1e-5,
        err_msg="every gradient is scaled by the same factor max_norm / norm = 0.5",
    )
    assert c.grad is None, "a parameter without a gradient stays without one"


@exercise("07.2")
def test_07_2_small_gradients_are_left_alone():
    w = Tensor(np.zeros((2, 2)))
    w.grad = Tensor([[0.1, -0.2], [0.2, 0.4]])  # norm 0.5
    norm = clip_grad_norm([w], max_norm=1.0)
    assert norm == pytest.approx(0.5, rel=1e-6), (
        f"clip_grad_norm returns the norm before clipping, 0.5 here, got {norm}"
    )
    np.testing.assert_array_equal(
        w.grad.data, np.float32([[0.1, -0.2], [0.2, 0.4]]), "below max_norm nothing changes"
    )
    big = Tensor(np.zeros(4))
    big.grad = Tensor(np.full(4, 1e20))  # the squares overflow float32: sum them in float64
    assert clip_grad_norm([big], max_norm=1.0) == pytest.approx(2e20, rel=1e-6), (
        "the norm of a gradient of 2e20 is 2e20: sum squares in float64 so it does not overflow"
    )
    assert np.linalg.norm(big.grad.data.astype(np.float64)) == pytest.approx(1.0, rel=1e-5), (
        f"after clipping to max_norm=1.0 the norm should be 1, got "
        f"{np.linalg.norm(big.grad.data.astype(np.float64))}"
    )


# ---- 07.3 training_loop ----------------------------------------------------------
@exercise("07.3")
def test_07_3_minibatch_indices_follow_the_generator():
    batches = minibatch_indices(10, 4, np.random.default_rng(3))
    assert [len(batch) for batch in batches] == [4, 4, 2], (
        f"10 samples in batches of 4 give sizes [4, 4, 2], got {[len(b) for b in batches]}"
    )
    np.testing.assert_array_equal(
        np.concatenate(batches),
        np.random.default_rng(3).permutation(10),
        err_msg="the order must be rng.permutation(num_samples), cut into consecutive slices",
    )
    assert [len(batch) for batch in minibatch_indices(8, 4, np.random.default_rng(0))] == [4, 4], (
        "8 samples in batches of 4: two batches of 4 and no empty third batch"
    )


@exercise("07.3")
def test_07_3_train_step_is_one_update_with_the_scheduled_lr():
    x, y = regression_data(6)
    model = HandLinear(3, 2)
    w0, b0 = model.w.data.copy(), model.b.data.copy()
    optimizer = SGD(model.parameters(), lr=1.0)
    model.w.grad = Tensor(np.full(w0.shape, 100.0))  # stale: must be cleared first
    loss = train_step(
        model, HandMSE(model), optimizer, Tensor(x), Tensor(y), schedule=lambda s: 0.1 / (s + 1)
    )
    w_ref, b_ref, loss_ref = reference_sgd(w0, b0, x, y, [np.arange(6)], [0.1])
    assert isinstance(loss, float) and loss == pytest.approx(loss_ref, rel=1e-5), (
        "train_step returns the batch loss measured before the update, as a float"
    )
    assert optimizer.lr == pytest.approx(0.1) and optimizer.step_count == 1, (
        "set optimizer.lr = schedule(optimizer.step_count) before stepping"
    )
    np.testing.assert_allclose(
        model.w.data,
        w_ref,
        rtol=1e-5,
        atol=1e-6,
        err_msg="one SGD step with lr 0.1 from zeroed gradients (call optimizer.zero_grad() "
        "before the backward pass: gradients accumulate)",
    )
    np.testing.assert_allclose(model.b.data, b_ref, rtol=1e-5, atol=1e-6)
    train_step(
        model, HandMSE(model), optimizer, Tensor(x), Tensor(y), schedule=lambda s: 0.1 / (s + 1)
    )
    assert optimizer.lr == pytest.approx(0.05), "second step: schedule(1) = 0.1 / 2"


@exercise("07.3")
def test_07_3_train_step_clips_this_batchs_gradients_before_the_update(monkeypatch):
    x, y = regression_data(6)
    y = y * 100.0  # large errors: the gradient norm is far above max_norm
    model = HandLinear(3, 2)
    w0, b0 = model.w.data.copy(), model.b.data.copy()
    norms_seen = []

    def reference_clip(params, max_norm):  # stands in for your 07.2
        grads = [p.grad for p in params if p.grad is not None]
        norm = float(np.sqrt(sum(np.sum(g.data.astype(np.float64) ** 2) for g in grads)))
        norms_seen.append(norm)
        if norm > max_norm:
            for g in grads:
                g.data *= max_norm / norm
        return norm

    monkeypatch.setitem(train_step.__globals__, "clip_grad_norm", reference_clip)
    optimizer = SGD(model.parameters(), lr=0.1)
    train_step(model, HandMSE(model), optimizer, Tensor(x), Tensor(y), max_norm=1.0)
    w_ref, b_ref, _ = reference_sgd(w0, b0, x, y, [np.arange(6)], [1.0])  # w0 - gradient
    grad_w, grad_b = w0 - w_ref, b0 - b_ref
    norm = float(np.sqrt(np.sum(grad_w**2) + np.sum(grad_b**2)))
    assert len(norms_seen) == 1 and norms_seen[0] == pytest.approx(norm, rel=1e-4), (
        f"with max_norm=1.0, clip_grad_norm should be called once, after loss.backward(), "
        f"on this batch's gradients (norm {norm:.4g}); it saw norms {norms_seen}"
    )
    np.testing.assert_allclose(
        model.w.data,
        w0 - 0.1 * grad_w / norm,
        rtol=1e-4,
        atol=1e-6,
        err_msg=f"one SGD step (lr 0.1) with the gradient clipped from norm {norm:.4g} to 1.0",
    )


@exercise("07.3")
def test_07_3_train_epoch_matches_minibatch_sgd():
    x, y = regression_data(10)
    model = HandLinear(3, 2)
    w0, b0 = model.w.data.copy(), model.b.data.copy()
    optimizer = SGD(model.parameters(), lr=0.05)
    mean_loss = train_epoch(
        model, HandMSE(model), optimizer, x, y, batch_size=4, rng=np.random.default_rng(5)
    )
    batches = [batch for batch in np.split(np.random.default_rng(5).permutation(10), [4, 8])]
    w_ref, b_ref, loss_ref = reference_sgd(w0, b0, x, y, batches, [0.05] * 3)
    assert optimizer.step_count == 3, (
        f"10 samples, batches of 4: 3 steps, got {optimizer.step_count}"
    )
    np.testing.assert_allclose(
        model.batches_seen[0],
        x[batches[0]],
        err_msg="the first batch should be x[order[:4]] with order = rng.permutation(10)",
    )
    np.testing.assert_allclose(model.w.data, w_ref, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model.b.data, b_ref, rtol=1e-5, atol=1e-6)
    assert mean_loss == pytest.approx(loss_ref, rel=1e-5), (
        "return Σ batch_loss · batch_length / N: the last batch has 2 samples, not 4"
    )


@exercise("07.3")
def test_07_3_train_epoch_passes_schedule_and_max_norm_to_every_step(monkeypatch):
    calls = []

    def recording_step(model, loss_fn, optimizer, inputs, targets, **options):
        calls.append((len(inputs), options))
        return 1.0

    monkeypatch.setitem(train_epoch.__globals__, "train_step", recording_step)
    x, y = regression_data(10)

    def schedule(step):
        return 0.1

    model = HandLinear(3, 2)
    optimizer = SGD(model.parameters(), lr=0.1)
    train_epoch(
        model,
        HandMSE(model),
        optimizer,
        x,
        y,
        batch_size=4,
        rng=np.random.default_rng(0),
        schedule=schedule,
        max_norm=2.5,
    )
    assert [size for size, _ in calls] == [4, 4, 2], (
        f"10 samples in batches of 4: train_step on batches of 4, 4 and 2, got "
        f"{[size for size, _ in calls]}"
    )
    for _, options in calls:
        assert options.get("schedule") is schedule and options.get("max_norm") == 2.5, (
            f"train_epoch must hand schedule and max_norm=2.5 to every train_step, got {options}"
        )


@exercise("07.3")
def test_07_3_a_nan_loss_stops_before_the_update():
    x, y = regression_data(4)
    y[0, 0] = np.nan
    model = HandLinear(3, 2)
    w0 = model.w.data.copy()
    optimizer = SGD(model.parameters(), lr=0.1)
    with pytest.raises(FloatingPointError, match="learning rate"):
        train_step(model, HandMSE(model), optimizer, Tensor(x), Tensor(y))
    np.testing.assert_array_equal(model.w.data, w0, "a nan loss must not reach the weights")


@exercise("07.3")
def test_07_3_training_lowers_the_loss_of_a_real_model():
    """Uses tinytorch.nn (Modules 03–04) and autograd (Module 05)."""
    from tinytorch.nn import Linear, MSELoss, Sequential

    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 3)).astype(np.float32)
    y = (x @ np.array([[1.5], [-2.0], [0.5]]) + 0.5).astype(np.float32)
    model, loss_fn = Sequential(Linear(3, 1, rng=0)), MSELoss()
    before = loss_fn(model(Tensor(x)), Tensor(y)).item()
    optimizer = SGD(model.parameters(), lr=0.05)
    losses = [
        train_epoch(model, loss_fn, optimizer, x, y, batch_size=16, rng=rng) for _ in range(30)
    ]
    after = loss_fn(model(Tensor(x)), Tensor(y)).item()
    assert after < 0.01 * before, (
        f"30 epochs of SGD on a linear problem should cut the loss by 100×: "
        f"{before:.4f} -> {after:.6f} (epoch means: {[round(v, 4) for v in losses[:5]]} ...)"
    )


# ---- 07.4 evaluate -----------------------------------------------------------------
@exercise("07.4")
def test_07_4_evaluate_averages_over_samples_in_order():
    x = np.arange(10, dtype=np.float32).reshape(10, 1)
    y = np.zeros((10, 1), dtype=np.float32)
    seen = []

    def model(inputs):
        seen.append(inputs.data[:, 0].tolist())
        return inputs * 1.0

    result = evaluate(model, lambda p, t: ((p - t) ** 2).mean(), x, y, batch_size=4)
    assert seen == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]], (
        f"evaluate goes through the samples in order, batch_size at a time; saw {seen}"
    )
    assert isinstance(result, float) and result == pytest.approx(28.5), (
        "the mean of 0², 1², ..., 9² is 28.5. Weight each batch loss by its length: "
        f"averaging the three batch means would give 35.8; got {result!r}"
    )


@exercise("07.4")
def test_07_4_evaluate_builds_no_graph_and_changes_nothing():
    from tinytorch.core import enable_autograd

    enable_autograd()
    w = Tensor([[2.0], [-1.0]], requires_grad=True)
    flags = []

    def model(inputs):
        out = inputs @ w
        flags.append(out.requires_grad)
        return out

    x = np.ones((5, 2), dtype=np.float32)
    result = evaluate(model, lambda p, t: ((p - t) ** 2).mean(), x, np.zeros((5, 1)))
    assert result == pytest.approx(1.0), (
        f"the mean loss over the 5 samples should be 1.0, got {result}"
    )
    assert flags and not any(flags), (
        "run the model under no_grad(): no graph is built, so outputs do not require grad"
    )
    assert w.grad is None, "evaluate must not compute gradients: w.grad should stay None"
    np.testing.assert_array_equal(w.data, [[2.0], [-1.0]])


# ---- 07.5 checkpoint -------------------------------------------------------------
def adam_after_steps(steps: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    params = [Tensor(rng.normal(size=(3, 4))), Tensor(rng.normal(size=4))]
    optimizer = Adam(params, lr=0.01)
    for step in range(steps):
        set_grads(params, seed=100 + step)
        optimizer.step()
    return params, optimizer


@exercise("07.5")
def test_07_5_round_trip_restores_parameters_and_optimizer_state(tmp_path):
    params, optimizer = adam_after_steps(3)
    optimizer.lr = 0.0042
    path = save_checkpoint(tmp_path / "run.npz", params, optimizer, epoch=2)
    fresh_params, fresh = adam_after_steps(0, seed=9)
    info = load_checkpoint(path, fresh_params, fresh)
    assert info == {"epoch": 2, "step": 3}, f"expected epoch 2 and step 3, got {info}"
    for saved, loaded in zip(params, fresh_params, strict=True):
        np.testing.assert_array_equal(loaded.data, saved.data, "parameters must be identical")
    for name in ("m", "v"):
        for saved, loaded in zip(optimizer.state[name], fresh.state[name], strict=True):
            np.testing.assert_array_equal(loaded, saved, f"optimizer.state['{name}'] not restored")
    assert fresh.step_count == 3 and fresh.lr == pytest.approx(0.0042), (
        "restore optimizer.step_count (Adam's bias correction reads it) and optimizer.lr"
    )


@exercise("07.5")
@pytest.mark.parametrize("kind", ["adam", "momentum"])
def test_07_5_resuming_gives_the_same_next_step(tmp_path, kind):
    def build(seed):
        rng = np.random.default_rng(seed)
        params = [Tensor(rng.normal(size=(3, 4))), Tensor(rng.normal(size=4))]
        if kind == "adam":
            return params, Adam(params, lr=0.01)
        return params, SGD(params, lr=0.01, momentum=0.9)

    params, optimizer = build(0)
    for step in range(3):
        set_grads(params, seed=100 + step)
        optimizer.step()
    save_checkpoint(tmp_path / "run.npz", params, optimizer, epoch=1)
    set_grads(params, seed=200)
    optimizer.step()  # the run that never stopped

    resumed_params, resumed = build(1)  # a new process: new objects, other initial values
    load_checkpoint(tmp_path / "run.npz", resumed_params, resumed)
    set_grads(resumed_params, seed=200)
    resumed.step()
    for straight, again in zip(params, resumed_params, strict=True):
        np.testing.assert_allclose(
            again.data,
            straight.data,
            rtol=0,
            atol=1e-7,
            err_msg=f"{kind}: after loading, the next step must equal the uninterrupted run's "
            "(save and restore every optimizer.state buffer and the step count)",
        )


@exercise("07.5")
def test_07_5_file_holds_plain_arrays_only(tmp_path):
    params, optimizer = adam_after_steps(2)
    save_checkpoint(tmp_path / "c.npz", params, optimizer, epoch=5, step=7)
    with np.load(tmp_path / "c.npz", allow_pickle=False) as archive:
        keys = set(archive.files)
        assert all(archive[key].dtype != object for key in keys), "no pickled objects"
        assert int(archive["epoch"]) == 5 and int(archive["step"]) == 7, (
            f"saved epoch=5, step=7, the file holds {archive['epoch']}, {archive['step']}"
        )
        assert str(archive["optim.kind"]) == "Adam", (
            f"optim.kind should be 'Adam', got {archive['optim.kind']}"
        )
    expected = {"format", "epoch", "step", "optim.kind", "optim.lr", "optim.step_count"}
    expected |= {f"param.{i}" for i in range(2)}
    expected |= {f"optim.{name}.{i}" for name in ("m", "v") for i in range(2)}
    assert keys == expected, f"keys differ from the documented format: {sorted(keys ^ expected)}"
    assert not list(tmp_path.glob("*.partial")), "the temporary file is renamed, not left behind"


@exercise("07.5")
def test_07_5_a_mismatched_model_is_refused_and_left_untouched(tmp_path):
    params, optimizer = adam_after_steps(1)
    save_checkpoint(tmp_path / "c.npz", params, None, epoch=0)
    other = [Tensor(np.ones((4, 3))), Tensor(np.ones(4))]
    with pytest.raises(ValueError, match=r"\(3, 4\)"):
        load_checkpoint(tmp_path / "c.npz", other)
    np.testing.assert_array_equal(
        other[0].data, np.ones((4, 3)), "nothing may change on a mismatch"
    )
    info = load_checkpoint(tmp_path / "c.npz", [Tensor(np.ones((3, 4))), Tensor(np.ones(4))])
    assert info == {"epoch": 0, "step": 0}, (
        f"a checkpoint saved without epoch and step loads as epoch 0, step 0, got {info}"
    )


# ---- 07.6 step_memory -------------------------------------------------------------
@exercise("07.6")
def test_07_6_small_mlp_with_adam_by_hand():
    # P = 4·8 + 8 + 8·3 + 3 = 67 values; activations per sample: inputs of the Linears
    # (4 + 8), input of the ReLU (8), output kept by the loss (3) = 23.
    assert estimate_step_memory([4, 8, 3], batch_size=16, optimizer="adam") == {
        "parameters": 268,
        "gradients": 268,
        "optimizer_state": 536,
        "activations": 1472,
        "total": 2544,
    }


@exercise("07.6")
def test_07_6_deeper_mlp_with_momentum_by_hand():
    # P = 10·20 + 20 + 20·20 + 20 + 20·5 + 5 = 745; per sample (10 + 20 + 20) + (20 + 20) + 5 = 95
    estimate = estimate_step_memory([10, 20, 20, 5], batch_size=8, optimizer="sgd_momentum")
    assert estimate == {
        "parameters": 2980,
        "gradients": 2980,
        "optimizer_state": 2980,
        "activations": 3040,
        "total": 11980,
    }, f"got {estimate}"


@exercise("07.6")
def test_07_6_what_grows_with_the_batch_and_what_does_not():
    small = estimate_step_memory([784, 128, 10], batch_size=1, optimizer="sgd")
    large = estimate_step_memory([784, 128, 10], batch_size=1024, optimizer="sgd")
    assert small["optimizer_state"] == 0 and small["parameters"] == 101_770 * 4, (
        f"plain SGD keeps no state and 784→128→10 has 101,770 parameters (407,080 bytes), got "
        f"{small}"
    )
    assert large["activations"] == 1024 * small["activations"] == 1024 * 1050 * 4, (
        "activations grow linearly with the batch size; per sample 784 + 128 + 128 + 10 values"
    )
    assert (
        large["parameters"] == small["parameters"] and large["gradients"] == small["gradients"]
    ), "parameters and gradients do not grow with the batch size"
    with pytest.raises(ValueError, match="sgd_momentum"):
        estimate_step_memory([4, 2], batch_size=1, optimizer="lion")


# ---- integration: real models, autograd, fit ------------------------------------
def make_classification(n: int = 120, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2)).astype(np.float32)
    labels = (x[:, 0] * x[:, 1] > 0).astype(np.int64)  # XOR-like quadrants: needs a hidden layer
    return x, labels


@pytest.mark.integration
def test_fit_resumed_from_a_checkpoint_equals_an_uninterrupted_run(tmp_path):
    from tinytorch.nn import Linear, MSELoss, ReLU, Sequential

    rng = np.random.default_rng(1)
    x = rng.normal(size=(40, 3)).astype(np.float32)
    y = np.tanh(x @ np.array([[1.0], [-1.0], [2.0]], dtype=np.float32))

    def build():  # the same initial weights every time (seeded layers)
        return Sequential(Linear(3, 8, rng=0), ReLU(), Linear(8, 1, rng=1))

    def run(model, epochs, path):
        optimizer = Adam(model.parameters(), lr=0.01)
        schedule = CosineSchedule(max_lr=0.01, total_steps=4 * 5, warmup_steps=3)
        return optimizer, fit(
            model, MSELoss(), optimizer, x, y, epochs=epochs, batch_size=8, seed=3,
            schedule=schedule, max_norm=1.0, checkpoint_path=path,
        )  # fmt: skip

    straight = build()
    _, history = run(straight, 4, None)

    run(build(), 2, tmp_path / "run.npz")  # a run that stops after epoch 2
    resumed = build()
    _, rest = run(resumed, 4, tmp_path / "run.npz")  # a new process would do exactly this
    assert rest["epoch"] == [3, 4]
    np.testing.assert_allclose(rest["train_loss"], history["train_loss"][2:], rtol=1e-5)
    for a, b in zip(straight.parameters(), resumed.parameters(), strict=True):
        np.testing.assert_allclose(a.data, b.data, rtol=1e-5, atol=1e-7)


@pytest.mark.integration
def test_adam_schedule_and_clipping_learn_a_classifier():
    from tinytorch.nn import CrossEntropyLoss, Linear, ReLU, Sequential

    x, labels = make_classification()
    model = Sequential(Linear(2, 16, rng=0), ReLU(), Linear(16, 2, rng=1))
    loss_fn = CrossEntropyLoss()
    optimizer = Adam(model.parameters(), lr=0.05)
    schedule = CosineSchedule(max_lr=0.05, total_steps=60 * 4, warmup_steps=10)
    history = fit(
        model, loss_fn, optimizer, x, labels, epochs=60, batch_size=32, schedule=schedule,
        max_norm=5.0, eval_data=(x, labels),
    )  # fmt: skip
    assert history["eval_loss"][-1] < 0.5 * history["eval_loss"][0], history["eval_loss"][::10]
    accuracy = np.mean(model(Tensor(x)).data.argmax(axis=1) == labels)
    assert accuracy > 0.9, f"training accuracy {accuracy:.2f} on a separable problem"
    grads = [p.grad.data for p in model.parameters() if p.grad is not None]
    assert np.sqrt(sum(float(np.sum(g.astype(np.float64) ** 2)) for g in grads)) <= 5.0 + 1e-4


@pytest.mark.integration
def test_step_memory_estimate_agrees_with_a_real_model_and_optimizer():
    from tinytorch.nn import Linear, ReLU, Sequential

    model = Sequential(Linear(4, 8, rng=0), ReLU(), Linear(8, 3, rng=1))
    optimizer = Adam(model.parameters())
    estimate = estimate_step_memory([4, 8, 3], batch_size=16, optimizer="adam")
    assert estimate["parameters"] == sum(p.memory_footprint() for p in model.parameters())
    assert estimate["optimizer_state"] == optimizer.state_bytes()
