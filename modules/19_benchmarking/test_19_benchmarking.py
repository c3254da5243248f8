"""Graded tests for Module 19 (Benchmarking). Each test carries the exercise id it grades;
points come from module.yaml, split evenly over that exercise's tests.

Statistics are checked on synthetic samples with known answers: reference values were
computed once with an independent statistics library and are written here as numbers
(no such library is needed to run these tests). Timing code is checked with a fake
clock, so nothing here depends on the speed of the machine.
"""

import math
import os
import platform

import numpy as np
import pytest

from tinytorch.benchmarking import (
    Comparison,
    Summary,
    WelchResult,
    bootstrap_interval,
    compare,
    cpu_model,
    environment,
    measure,
    permutation_test,
    summarize,
    t_cdf,
    t_interval,
    t_quantile,
    welch_t_test,
)

exercise = pytest.mark.exercise


class FakeClock:
    """Advances only when the timed function says so; counts how often it is read."""

    def __init__(self, durations):
        self.now, self.reads, self.calls = 0.0, 0, 0
        self.durations = list(durations)

    def __call__(self) -> float:
        self.reads += 1
        return self.now

    def work(self, *args):
        self.calls += 1
        self.now += self.durations.pop(0)
        return sum(args)


# ---- 19.1 measure -------------------------------------------------------------------------


@exercise("19.1")
def test_19_1_warmup_runs_are_not_recorded():
    clock = FakeClock([9.0, 8.0, 0.5, 0.25, 0.75, 0.5])
    durations = measure(clock.work, 1, 2, repeats=4, warmup=2, clock=clock)
    assert clock.calls == 6, f"2 warm-up calls + 4 timed calls = 6, the function ran {clock.calls}"
    np.testing.assert_allclose(
        durations,
        [0.5, 0.25, 0.75, 0.5],
        err_msg="record only the timed calls, one duration per call, in order (the 9 s and "
        "8 s warm-up calls must be thrown away)",
    )
    assert isinstance(durations, np.ndarray) and durations.dtype == np.float64, (
        f"return a float64 NumPy array, got {type(durations).__name__} "
        f"{getattr(durations, 'dtype', None)}"
    )
    assert clock.reads == 8, f"read the clock twice per timed call (8), got {clock.reads}"


@exercise("19.1")
def test_19_1_no_warmup_and_bad_arguments():
    clock = FakeClock([0.125, 0.25])
    np.testing.assert_allclose(
        measure(clock.work, repeats=2, warmup=0, clock=clock),
        [0.125, 0.25],
        err_msg="warmup=0: both calls are timed",
    )
    with pytest.raises(ValueError):
        measure(clock.work, repeats=0)


# ---- 19.2 summarize -----------------------------------------------------------------------


@exercise("19.2")
def test_19_2_summary_of_one_to_one_hundred():
    values = np.random.default_rng(0).permutation(np.arange(1, 101))  # order must not matter
    summary = summarize(values)
    assert isinstance(summary, Summary) and summary.n == 100, (
        f"a Summary of 100 values: {summary!r}"
    )
    expected = {
        "mean": 50.5,
        "median": 50.5,
        "p50": 50.5,
        "p99": 99.01,
        "min": 1.0,
        "max": 100.0,
        "std": 29.011491975882016,
    }
    for field, value in expected.items():
        assert getattr(summary, field) == pytest.approx(value, rel=1e-9), (
            f"{field} of 1..100 should be {value} (std uses ddof=1; p99 uses np.percentile's "
            f"linear interpolation), got {getattr(summary, field)}"
        )


@exercise("19.2")
def test_19_2_one_outlier_moves_the_mean_not_the_median():
    summary = summarize([3.0, 1.0, 100.0, 2.0, 4.0])
    got = (summary.mean, summary.median, summary.p50, summary.p99)
    assert got == pytest.approx((22.0, 3.0, 3.0, 96.16)), (
        f"for samples 1, 2, 3, 4, 100: mean 22, median 3, p50 3 and p99 96.16 (linear "
        f"interpolation between 4 and 100), got (mean, median, p50, p99) = {got}"
    )


@exercise("19.2")
def test_19_2_one_sample_and_refusals():
    single = summarize([0.25])
    got = (single.n, single.median, single.std, single.p99)
    assert got == (1, 0.25, 0.0, 0.25), (
        f"one sample 0.25: (n, median, std, p99) = (1, 0.25, 0.0, 0.25), got {got}"
    )
    for bad in ([], [1.0, float("nan")], [1.0, float("inf")]):
        with pytest.raises(ValueError) as caught:
            summarize(bad)
        if bad:
            assert "nan" in str(caught.value).lower(), (
                f"the error for {bad} should say that NaN or infinite values were found"
            )


# ---- 19.3 confidence intervals --------------------------------------------------------------


@exercise("19.3")
def test_19_3_t_interval_known_answer_and_coverage():
    low, high = t_interval(np.arange(1.0, 11.0))
    assert (low, high) == pytest.approx((3.334149410331846, 7.665850589668154), rel=1e-7), (
        "for 1..10: mean 5.5 ± t_quantile(0.975, 9) · s / sqrt(10) = 5.5 ± 2.1659"
    )
    low90, high90 = t_interval(np.arange(1.0, 11.0), confidence=0.9)
    assert high90 - low90 < high - low, "a 90% interval is narrower than a 95% one"
    rng = np.random.default_rng(42)
    covered = sum(
        low <= 3.0 <= high
        for low, high in (t_interval(rng.normal(3.0, 2.0, size=10)) for _ in range(400))
    )
    assert 0.92 <= covered / 400 <= 0.98, (
        f"95% intervals of 400 experiments should contain the true mean about 95% of the "
        f"time; yours did {covered / 400:.1%}"
    )


@exercise("19.3")
def test_19_3_bootstrap_interval_properties():
    assert bootstrap_interval([2.5] * 20) == pytest.approx((2.5, 2.5)), (
        "every resample of a constant sample has the same statistic"
    )
    x = np.random.default_rng(1).normal(10.0, 2.0, size=2000)
    low, high = bootstrap_interval(x, np.mean)
    t_low, t_high = 9.88489811587804, 10.06151013680965  # t interval of the same data
    assert low < np.mean(x) < high, f"({low}, {high}) should contain the sample mean {np.mean(x)}"
    assert abs((high - low) / (t_high - t_low) - 1.0) < 0.15, (
        f"for the mean of 2000 normal values the bootstrap and t intervals nearly agree: "
        f"bootstrap ({low:.4f}, {high:.4f}) vs t ({t_low:.4f}, {t_high:.4f})"
    )
    skewed = np.random.default_rng(5).exponential(1.0, size=500)
    first = bootstrap_interval(skewed, seed=3)
    assert first == bootstrap_interval(skewed, seed=3), "the same seed must give the same interval"
    assert first[0] < math.log(2) < first[1], "the true median of Exp(1) is ln 2 ≈ 0.693"


@exercise("19.3")
def test_19_3_bootstrap_cuts_half_the_rest_from_each_tail():
    x = np.random.default_rng(1).normal(10.0, 2.0, size=2000)
    low, high = bootstrap_interval(x, np.mean, confidence=0.5, resamples=500)
    standard_error = x.std(ddof=1) / math.sqrt(x.size)
    expected = 2 * 0.6745 * standard_error  # the middle 50% of a normal: ±0.6745 σ
    assert abs((high - low) / expected - 1.0) < 0.2, (
        f"a 50% interval for the mean of 2000 normal values should be about "
        f"{expected:.4f} wide (the 25th to the 75th percentile of 500 resampled means), got "
        f"({low:.4f}, {high:.4f}), {high - low:.4f} wide. Cut (1 - confidence) / 2 from each "
        f"tail and reduce each resample (axis=1)"
    )


# ---- 19.4 welch_t_test ----------------------------------------------------------------------


@exercise("19.4")
@pytest.mark.parametrize(
    "a, b, expected",
    [
        (
            [12.1, 11.8, 12.5, 13.0, 12.2, 11.9, 12.4],
            [11.0, 11.4, 10.9, 11.8, 11.2, 11.1],
            (5.098804940002377, 10.970861546381466, 0.00034757280578670975),
        ),
        (
            [0.92, 1.05, 0.98, 1.10, 0.95],
            [1.20, 1.35, 1.18, 1.42, 1.25, 1.31, 1.29, 1.22],
            (-6.336874115392741, 9.312708189968928, 0.00011626815615287079),
        ),
        (
            [5.0, 5.2, 4.9, 5.1],
            [5.05, 5.15, 4.95, 5.0],
            (0.161514570617452, 5.203278688524596, 0.8777734459701474),
        ),
    ],
)
def test_19_4_welch_known_answers(a, b, expected):
    result = welch_t_test(a, b)
    assert isinstance(result, WelchResult), f"return a WelchResult, got {result!r}"
    got = (result.statistic, result.df, result.p_value)
    assert got == pytest.approx(expected, rel=1e-6), (
        f"(t, df, p) should be {expected}, got {got}. Check ddof=1, the Welch–Satterthwaite "
        f"df and the two-sided p = 2 · (1 − t_cdf(|t|, df))"
    )


@exercise("19.4")
def test_19_4_identical_constant_samples_are_refused():
    with pytest.raises(ValueError) as caught:
        welch_t_test([1.0, 1.0, 1.0], [1.0, 1.0])
    assert "spread" in str(caught.value) or "identical" in str(caught.value), (
        f"say the samples have no spread, got: {caught.value}"
    )


# ---- 19.5 permutation_test -----------------------------------------------------------------


@exercise("19.5")
def test_19_5_exact_small_case():
    # Four values split 2 + 2: 6 equally likely splits, 2 of them as far apart as {1,2}|{3,4}.
    p = permutation_test([1.0, 2.0], [3.0, 4.0], statistic=np.mean, resamples=20000, seed=0)
    assert p == pytest.approx(1 / 3, abs=0.02), f"the exact p-value is 2/6 = 0.333, got {p}"


@exercise("19.5")
def test_19_5_separated_and_equal_distributions():
    rng = np.random.default_rng(2)
    p = permutation_test(rng.normal(10, 1, 20), rng.normal(20, 1, 20), resamples=999)
    assert p == pytest.approx(1 / 1000), (
        f"no shuffle beats clearly separated samples, so p = (0 + 1) / (999 + 1); got {p}"
    )
    rng = np.random.default_rng(3)
    p_same = permutation_test(rng.normal(10, 1, 30), rng.normal(10, 1, 30), resamples=999)
    assert 0.05 < p_same <= 1.0, f"two samples of one distribution: p should be large, got {p_same}"


@exercise("19.5")
def test_19_5_the_statistic_is_used_for_every_split():
    p = permutation_test([0.0, 0.0, 10.0], [1.0, 1.0, 1.0], resamples=20000, seed=0)
    assert p == pytest.approx(0.4, abs=0.02), (
        f"a = [0, 0, 10], b = [1, 1, 1] with the median: 8 of the 20 splits differ by at "
        f"least the observed 1.0, so p = 0.4; got {p}. Use `statistic` for the observed "
        f"difference and for every shuffle"
    )


# ---- 19.6 environment ---------------------------------------------------------------------

CPUINFO = """processor\t: 0
vendor_id\t: GenuineIntel
cpu family\t: 6
model\t\t: 85
model name\t: Intel(R) Xeon(R) CPU @ 2.20GHz
stepping\t: 7

processor\t: 1
model name\t: Intel(R) Xeon(R) CPU @ 2.20GHz
"""


@exercise("19.6")
def test_19_6_cpu_model_parses_proc_cpuinfo():
    assert cpu_model(CPUINFO) == "Intel(R) Xeon(R) CPU @ 2.20GHz", (
        "take the text after ':' on the 'model name' line (not the 'model' line), stripped"
    )
    fallback = cpu_model("processor\t: 0\nHardware\t: BCM2835\n")
    assert isinstance(fallback, str) and fallback, (
        "without a 'model name' line fall back to platform.processor() or platform.machine()"
    )
    expected = platform.processor() or platform.machine() or "unknown"
    assert fallback == expected, (
        f"without a 'model name' line: platform.processor(), else platform.machine(), else "
        f"'unknown'; here that is {expected!r}, got {fallback!r}"
    )


@exercise("19.6")
def test_19_6_environment_describes_this_machine():
    env = environment()
    assert set(env) == {"python", "numpy", "cpu", "cores", "os"}, f"keys: {sorted(env)}"
    expected = {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "cores": os.cpu_count() or 1,
        "os": platform.platform(),
    }
    for key, value in expected.items():
        assert env[key] == value, f"environment()[{key!r}] should be {value!r}, got {env[key]!r}"
    assert isinstance(env["cores"], int), f"cores is an int, got {type(env['cores']).__name__}"
    assert isinstance(env["cpu"], str) and env["cpu"], (
        f"cpu is a non-empty name, got {env['cpu']!r}"
    )


# ---- given code, across exercises --------------------------------------------------------


@pytest.mark.integration
def test_t_distribution_helpers_and_compare():
    assert t_cdf(0.0, 5) == pytest.approx(0.5)
    assert t_quantile(0.975, 9) == pytest.approx(2.2621571627409915, rel=1e-8)
    rng = np.random.default_rng(0)
    slow, fast = rng.normal(2.0, 0.1, 30), rng.normal(1.0, 0.05, 30)
    result = compare(slow, fast)
    assert isinstance(result, Comparison) and result.verdict == "faster"
    assert result.speedup_interval[0] < result.speedup < result.speedup_interval[1]
    same = compare(slow[:15], slow[15:])
    assert same.verdict == "no significant difference"
