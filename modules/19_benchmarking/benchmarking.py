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
# # Module 19 — Benchmarking: numbers you can defend
#
# "My version is 1.3× faster" is a claim about a *random* quantity. Run the same
# function twenty times and you get twenty different durations: other programs
# share the processor, caches are cold on the first call, the clock itself has a
# resolution. One measurement of each version proves nothing; a careful
# measurement answers three questions:
#
# 1. **How long does it take, typically?** Discard warm-up runs, repeat, and report
#    the median (robust to the occasional slow outlier) and a high percentile
#    (p99: what the unlucky caller sees).
# 2. **How sure are we?** A **confidence interval** gives the range of values
#    consistent with the measurements: from Student's t-distribution for a mean,
#    or by **bootstrap** resampling for any statistic, such as the median.
# 3. **Is the difference real?** A **significance test** asks how often a
#    difference this large would appear by chance if both versions were equally
#    fast (the **null hypothesis**). That probability is the **p-value**. You write
#    two: **Welch**'s t-test and a **permutation test**.
#
# A number without its machine is not reproducible, so the module ends by recording
# the environment: Python, NumPy, processor, cores, operating system.
#
# **Systems concept: measurement is a statistical experiment.** Speed varies; a
# benchmark reports the distribution, its uncertainty and the conditions it ran
# under — never one lucky number.
#
# | exercise | what you write |
# |---|---|
# | 19.1 measure | warm-up runs, then timed repeats |
# | 19.2 summarize | n, mean, std, median, p50, p99, min, max |
# | 19.3 confidence_intervals | t interval for the mean, bootstrap interval for any statistic |
# | 19.4 welch_t_test | Welch's t statistic, degrees of freedom and two-sided p-value |
# | 19.5 permutation_test | the p-value by reshuffling the labels |
# | 19.6 environment | processor name and the machine's description |

# %%
from __future__ import annotations

import math
import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# %% [markdown]
# ## 19.1 — Warm-up, then repeat
#
# The first calls of a function are often slower than the rest: its data is not in
# the caches yet, NumPy allocates buffers for the first time, the processor has not
# raised its clock speed. Those runs measure the start-up, not the function, so run
# it `warmup` times first and throw those runs away. Then time `repeats` calls one
# by one, reading the clock just before and just after each call (not around the
# whole loop: you want the spread, not only the total).
#
# As in Modules 08 and 18 the clock is an argument, so a fake clock can check the
# arithmetic exactly.


# %%
def measure(
    fn: Callable,
    *args,
    repeats: int = 20,
    warmup: int = 3,
    clock: Callable[[], float] = time.perf_counter,
) -> np.ndarray:
    """Durations in seconds of `repeats` calls fn(*args), after `warmup` untimed calls.

    Returns a float64 array of shape (repeats,). Reads `clock` exactly twice per timed
    call and never during warm-up. Cost: (warmup + repeats) calls of fn.
    """
    if repeats < 1 or warmup < 0:
        raise ValueError(
            f"need repeats >= 1 and warmup >= 0, got repeats={repeats!r}, warmup={warmup!r}"
        )
    ### BEGIN SOLUTION 19.1
    for _ in range(warmup):
        fn(*args)
    durations = np.empty(repeats, dtype=np.float64)
    for index in range(repeats):
        started = clock()
        fn(*args)
        durations[index] = clock() - started
    return durations
    ### END SOLUTION


# %% [markdown]
# ## 19.2 — Summarize the distribution
#
# Timings are skewed: most runs cluster near the fastest, a few are much slower
# (an interruption, a page fault). The **mean** is pulled up by those few; the
# **median** (p50, the middle value) is not. The **p99** is the time 99% of runs
# beat — what a service promises its users. Use `np.percentile` with its default
# linear interpolation, and the sample standard deviation (`ddof=1`: divide by
# n − 1, because the mean was estimated from the same samples). Refuse empty input
# and non-finite values with a ValueError: a NaN timing means a broken clock or a
# broken harness, and averaging it away hides the bug.


# %%
@dataclass(frozen=True)
class Summary:
    """Distribution of one set of samples (same unit as the samples)."""

    n: int
    mean: float
    std: float  # sample standard deviation (ddof=1); 0.0 for one sample
    median: float
    p50: float
    p99: float
    min: float
    max: float

    def __str__(self) -> str:
        return (
            f"n={self.n} median {self.median:.4g} (p99 {self.p99:.4g}, mean {self.mean:.4g} "
            f"± {self.std:.2g}, range {self.min:.4g}–{self.max:.4g})"
        )


def _samples(samples, name: str = "samples") -> np.ndarray:
    """The samples as a 1-D float64 array; ValueError if empty or not all finite."""
    ### BEGIN SOLUTION 19.2
    values = np.asarray(samples, dtype=np.float64)
    if values.ndim != 1 or values.size == 0:
        raise ValueError(
            f"{name} must be a non-empty list of numbers (1-D), got shape {values.shape}"
        )
    if not np.all(np.isfinite(values)):
        bad = int(np.count_nonzero(~np.isfinite(values)))
        raise ValueError(
            f"{name} contain {bad} NaN or infinite value(s): a timing is always a finite "
            f"number of seconds, so check the clock and the harness that produced them"
        )
    return values
    ### END SOLUTION


def summarize(samples) -> Summary:
    """Summary of a 1-D set of finite numbers (e.g. the durations from measure).
    Cost: one sort of the n samples."""
    ### BEGIN SOLUTION 19.2
    values = _samples(samples)
    std = float(np.std(values, ddof=1)) if values.size > 1 else 0.0
    p50, p99 = np.percentile(values, [50, 99])
    return Summary(
        n=int(values.size),
        mean=float(np.mean(values)),
        std=std,
        median=float(np.median(values)),
        p50=float(p50),
        p99=float(p99),
        min=float(np.min(values)),
        max=float(np.max(values)),
    )
    ### END SOLUTION


# %% [markdown]
# ## Student's t-distribution (given)
#
# The mean of n samples wobbles around the true mean with a spread of σ/√n. We do
# not know σ, only its estimate s from the same samples, and with few samples s is
# itself uncertain. William Gosset (publishing as "Student", 1908) worked out the
# distribution of (mean − true mean) / (s/√n): the **t-distribution** with n − 1
# degrees of freedom, wider than the normal curve for small n and equal to it as n
# grows.
#
# Its cumulative probability needs the regularized incomplete beta function,
# computed below with a continued fraction (Lentz's method, as in *Numerical
# Recipes*), so this module needs nothing beyond NumPy and the standard library.
# `t_quantile` inverts `t_cdf` by bisection. Both are given: use them.


# %%
def _beta_fraction(a: float, b: float, x: float) -> float:
    """Continued fraction of the incomplete beta function (converges for x < (a+1)/(a+b+2))."""
    tiny, qab, qap, qam = 1e-300, a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    result = d
    for m in range(1, 500):
        m2 = 2 * m
        for numerator in (
            m * (b - m) * x / ((qam + m2) * (a + m2)),
            -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2)),
        ):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + numerator / c
            c = c if abs(c) > tiny else tiny
            result *= d * c
        if abs(d * c - 1.0) < 1e-15:
            break
    return result


def _incomplete_beta(a: float, b: float, x: float, y: float) -> float:
    """Regularized incomplete beta I_x(a, b) for a, b > 0, 0 <= x <= 1 and y = 1 − x
    (passed separately so that a y far below 1e-16 keeps its digits)."""
    if x <= 0.0:
        return 0.0
    if y <= 0.0:
        return 1.0
    log_front = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
    front = math.exp(log_front + a * math.log(x) + b * math.log(y))
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _beta_fraction(a, b, x) / a
    return 1.0 - front * _beta_fraction(b, a, y) / b


def t_cdf(t: float, df: float) -> float:
    """P(T <= t) for Student's t-distribution with df > 0 degrees of freedom.
    Accurate to about 1e-9. Example: t_cdf(0, 5) == 0.5."""
    if not df > 0:
        raise ValueError(f"degrees of freedom must be positive, got {df!r}")
    if math.isinf(t):
        return 1.0 if t > 0 else 0.0
    x, y = df / (df + t * t), t * t / (df + t * t)
    tail = 0.5 * _incomplete_beta(df / 2.0, 0.5, x, y)  # P(T > |t|)
    return 1.0 - tail if t > 0 else tail


def t_quantile(probability: float, df: float) -> float:
    """The t with t_cdf(t, df) == probability, by bisection (0 < probability < 1).
    Example: t_quantile(0.975, 9) ≈ 2.2622 (the 95% two-sided value for 10 samples)."""
    if not 0.0 < probability < 1.0:
        raise ValueError(f"probability must be strictly between 0 and 1, got {probability!r}")
    low, high = -1.0, 1.0
    while t_cdf(low, df) > probability:
        low *= 2.0
    while t_cdf(high, df) < probability:
        high *= 2.0
    for _ in range(200):
        middle = 0.5 * (low + high)
        if t_cdf(middle, df) < probability:
            low = middle
        else:
            high = middle
        if high - low < 1e-12 * max(1.0, abs(middle)):
            break
    return 0.5 * (low + high)


# %% [markdown]
# ## 19.3 — Confidence intervals
#
# **For the mean (t interval).** With n samples, mean m and sample standard
# deviation s, the 95% interval is
#
#     m ± t* · s / √n,     t* = t_quantile(0.975, n − 1)
#
# In general t* = t_quantile(1 − (1 − confidence)/2, n − 1). "95%" describes the
# procedure: over many repetitions of the whole experiment, 95% of the intervals
# built this way contain the true mean (a test checks exactly that).
#
# **For any statistic (bootstrap).** The median has no simple formula for its
# spread. Efron's bootstrap (1979) lets the data stand in for the unknown
# distribution: draw n values *with replacement* from the samples, compute the
# statistic, and repeat `resamples` times. The middle `confidence` share of those
# recomputed statistics is the interval (the *percentile* bootstrap). Vectorize
# it: one (resamples, n) array of random indices, `samples[indices]`, and the
# statistic along `axis=1` — no Python loop over resamples.


# %%
def t_interval(samples, confidence: float = 0.95) -> tuple[float, float]:
    """(low, high) interval for the mean of `samples` (at least 2) from Student's t.
    Cost: one pass over the samples plus a few dozen t_cdf evaluations."""
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be between 0 and 1, e.g. 0.95, got {confidence!r}")
    values = _samples(samples)
    if values.size < 2:
        raise ValueError("an interval for the mean needs at least 2 samples to estimate spread")
    ### BEGIN SOLUTION 19.3
    n = values.size
    critical = t_quantile(1.0 - (1.0 - confidence) / 2.0, n - 1)
    half_width = critical * float(np.std(values, ddof=1)) / math.sqrt(n)
    center = float(np.mean(values))
    return center - half_width, center + half_width
    ### END SOLUTION


def bootstrap_interval(
    samples,
    statistic: Callable = np.median,
    confidence: float = 0.95,
    resamples: int = 2000,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile-bootstrap (low, high) interval for `statistic` of `samples`.

    `statistic(array, axis=1)` must reduce each row of a (resamples, n) array (np.median,
    np.mean, np.min ... do). Draws from np.random.default_rng(seed): the same seed gives
    the same interval. Cost: 8·resamples·n bytes of indices plus as many of values.
    """
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be between 0 and 1, e.g. 0.95, got {confidence!r}")
    if resamples < 1:
        raise ValueError(f"resamples must be at least 1, got {resamples!r}")
    values = _samples(samples)
    rng = np.random.default_rng(seed)
    ### BEGIN SOLUTION 19.3
    indices = rng.integers(0, values.size, size=(resamples, values.size))
    statistics = statistic(values[indices], axis=1)
    alpha = (1.0 - confidence) / 2.0
    low, high = np.quantile(statistics, [alpha, 1.0 - alpha])
    return float(low), float(high)
    ### END SOLUTION


# %% [markdown]
# ## 19.4 — Welch's t-test
#
# Two variants, a and b, timed na and nb times. Is the difference of their means
# real? Welch (1947) compares the difference with its own uncertainty, without
# assuming both variants vary equally (a faster variant often varies less):
#
#     va = var(a, ddof=1) / na        vb = var(b, ddof=1) / nb
#     t  = (mean(a) − mean(b)) / √(va + vb)
#     df = (va + vb)² / (va² / (na − 1) + vb² / (nb − 1))      (Welch–Satterthwaite)
#
# The two-sided p-value is the probability that a t-distributed value with df
# degrees of freedom lies at least |t| away from 0: p = 2 · (1 − t_cdf(|t|, df)).
# p < 0.05 is the usual (arbitrary) bar for calling a difference statistically
# significant.
#
# If neither variant varies at all, the formula divides by zero: raise a ValueError
# that says so (identical timings usually mean the clock is too coarse).


# %%
@dataclass(frozen=True)
class WelchResult:
    statistic: float  # t: positive when a's mean is larger
    df: float  # Welch–Satterthwaite degrees of freedom
    p_value: float  # two-sided


def welch_t_test(a, b) -> WelchResult:
    """Welch's two-sided t-test of equal means for two independent samples (>= 2 each).
    Cost: one pass over each sample."""
    a, b = _samples(a, "a"), _samples(b, "b")
    if a.size < 2 or b.size < 2:
        raise ValueError(f"each sample needs at least 2 values, got {a.size} and {b.size}")
    ### BEGIN SOLUTION 19.4
    va = float(np.var(a, ddof=1)) / a.size
    vb = float(np.var(b, ddof=1)) / b.size
    if va + vb == 0.0:
        raise ValueError(
            "both samples have zero spread (every value identical): the test cannot compare "
            "them. Time more work per call, or use a finer clock."
        )
    statistic = (float(np.mean(a)) - float(np.mean(b))) / math.sqrt(va + vb)
    df = (va + vb) ** 2 / (va**2 / (a.size - 1) + vb**2 / (b.size - 1))
    p_value = 2.0 * (1.0 - t_cdf(abs(statistic), df))
    return WelchResult(statistic, df, min(1.0, p_value))
    ### END SOLUTION


# %% [markdown]
# ## 19.5 — A permutation test
#
# Welch's test leans on the t-distribution, which fits means of roughly normal
# data. Timings are skewed, and you may care about medians. A permutation test
# assumes only this: if the null hypothesis is true, the labels "a" and "b" are
# arbitrary, so shuffling them should produce differences as large as the observed
# one about as often as p says.
#
#     observed = |statistic(a) − statistic(b)|
#     repeat `resamples` times: shuffle a ∪ b, split at len(a), recompute the difference
#     p = (number of shuffled differences >= observed + 1) / (resamples + 1)
#
# The +1 counts the observed split itself, so p is never exactly 0 — with 999
# shuffles the smallest possible p is 0.001.


# %%
def permutation_test(
    a, b, statistic: Callable = np.median, resamples: int = 2000, seed: int = 0
) -> float:
    """Two-sided permutation p-value for a difference in `statistic` between a and b.
    Cost: `resamples` shuffles of the na + nb pooled values."""
    a, b = _samples(a, "a"), _samples(b, "b")
    if resamples < 1:
        raise ValueError(f"resamples must be at least 1, got {resamples!r}")
    rng = np.random.default_rng(seed)
    ### BEGIN SOLUTION 19.5
    observed = abs(float(statistic(a)) - float(statistic(b)))
    pooled = np.concatenate([a, b])
    count = 0
    for _ in range(resamples):
        shuffled = rng.permutation(pooled)
        difference = abs(
            float(statistic(shuffled[: a.size])) - float(statistic(shuffled[a.size :]))
        )
        count += difference >= observed - 1e-12 * max(1.0, observed)
    return (count + 1) / (resamples + 1)
    ### END SOLUTION


# %% [markdown]
# ## Comparing two variants (given)
#
# `compare` puts 19.2–19.5 together the way a report needs them: the speedup as a
# ratio of medians with its bootstrap interval (resampling both variants), both
# p-values, and a verdict that says "faster" or "slower" only when the difference is
# significant at level `alpha` by Welch's test *and* the interval of the ratio
# excludes 1.


# %%
@dataclass(frozen=True)
class Comparison:
    baseline: Summary
    candidate: Summary
    speedup: float  # baseline median / candidate median
    speedup_interval: tuple[float, float]
    welch_p: float
    permutation_p: float
    verdict: str  # "faster", "slower" or "no significant difference"

    def __str__(self) -> str:
        low, high = self.speedup_interval
        return (
            f"speedup {self.speedup:.2f}x (95% interval {low:.2f}–{high:.2f}), Welch p = "
            f"{self.welch_p:.2g}, permutation p = {self.permutation_p:.2g}: {self.verdict}"
        )


def compare(
    baseline_samples, candidate_samples, alpha: float = 0.05, resamples: int = 2000, seed: int = 0
) -> Comparison:
    """Compare two sets of timings (seconds): summaries, speedup of medians with a bootstrap
    interval, Welch and permutation p-values, and a verdict at level alpha."""
    base, cand = _samples(baseline_samples, "baseline"), _samples(candidate_samples, "candidate")
    rng = np.random.default_rng(seed)
    base_medians = np.median(base[rng.integers(0, base.size, (resamples, base.size))], axis=1)
    cand_medians = np.median(cand[rng.integers(0, cand.size, (resamples, cand.size))], axis=1)
    if np.any(cand_medians <= 0):
        raise ValueError("candidate timings must be positive to form a speedup ratio")
    low, high = np.quantile(base_medians / cand_medians, [alpha / 2, 1 - alpha / 2])
    speedup = float(np.median(base) / np.median(cand))
    welch = welch_t_test(base, cand)
    permutation_p = permutation_test(base, cand, resamples=resamples, seed=seed)
    verdict = "no significant difference"
    if welch.p_value < alpha and not low <= 1.0 <= high:
        verdict = "faster" if speedup > 1.0 else "slower"
    return Comparison(
        summarize(base),
        summarize(cand),
        speedup,
        (float(low), float(high)),
        welch.p_value,
        permutation_p,
        verdict,
    )


# %% [markdown]
# ## 19.6 — Record the machine
#
# The same code is 3× faster on one laptop than on another, so every reported
# figure carries the environment it was measured in: Python and NumPy versions,
# the processor model, how many cores, the operating system. On Linux the
# processor's name is the `model name` line of `/proc/cpuinfo`
# (`model name	: Intel(R) Xeon(R) ...`); elsewhere, `platform.processor()`, and
# `platform.machine()` (e.g. 'arm64') as a last resort. `cpu_model` takes the file's
# text as an argument so it can be tested with any text.


# %%
def cpu_model(cpuinfo: str | None = None) -> str:
    """Processor name: from the 'model name' line of /proc/cpuinfo text (read from the file
    when `cpuinfo` is None and the file exists), else platform.processor(), else
    platform.machine(), else 'unknown'."""
    if cpuinfo is None:
        path = Path("/proc/cpuinfo")
        cpuinfo = path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""
    ### BEGIN SOLUTION 19.6
    for line in cpuinfo.splitlines():
        if line.strip().lower().startswith("model name") and ":" in line:
            name = line.split(":", 1)[1].strip()
            if name:
                return name
    return platform.processor() or platform.machine() or "unknown"
    ### END SOLUTION


def environment() -> dict:
    """The machine a measurement ran on: {"python", "numpy", "cpu", "cores", "os"}.
    Strings except cores (an int >= 1)."""
    ### BEGIN SOLUTION 19.6
    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "cpu": cpu_model(),
        "cores": int(os.cpu_count() or 1),
        "os": platform.platform(),
    }
    ### END SOLUTION


# %% [markdown]
# ## Try it
#
# Run this file (`python modules/19_benchmarking/benchmarking.py`): it times a
# matrix product with a row-major and with a column-major right operand, then a sum
# over values spread 64 bytes apart against the same values packed, and says which
# differences are significant.

# %%
if __name__ == "__main__":
    rng = np.random.default_rng(0)
    left = rng.normal(size=(256, 256)).astype(np.float32)
    right = rng.normal(size=(256, 256)).astype(np.float32)
    flipped = np.asfortranarray(right)
    packed = measure(np.matmul, left, right, repeats=30, warmup=3)
    strided = measure(np.matmul, left, flipped, repeats=30, warmup=3)
    print("environment:", environment())
    print("row-major   ", summarize(packed * 1e3), "ms")
    print("column-major", summarize(strided * 1e3), "ms")
    low, high = bootstrap_interval(packed * 1e3)
    print(f"median row-major time: 95% bootstrap interval {low:.3f}–{high:.3f} ms")
    print("matmul, column-major vs row-major:", compare(strided, packed))
    values = rng.normal(size=4 * 1024 * 1024).astype(np.float32)
    spread, dense = values[::16], values[::16].copy()
    spread_times = measure(spread.sum, repeats=30, warmup=3)
    dense_times = measure(dense.sum, repeats=30, warmup=3)
    print("sum, spread vs packed:", compare(spread_times, dense_times))
