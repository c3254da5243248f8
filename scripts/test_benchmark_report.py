"""The benchmark report writer on tiny sizes: every section present, files written.
Checks values and files, never timings (speed lives in the benchmark, not in tests)."""

import json

import pytest

from scripts.benchmark_report import TARGETS, Sizes, markdown, run

TINY = Sizes(
    matmul=6,
    softmax=10,
    conv=(2, 1, 6, 4, 3),
    explicit_matmul_rows=2,
    explicit_conv_images=1,
    kv_lengths=(2, 3),
    kv_widths=(16, 32),
    compression_epochs=1,
)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    results = run(out, TINY, repeats=2, min_time=0.0, wall=False, grading=False)
    return out, results


def test_report_holds_every_section_with_measured_values(report):
    out, results = report
    text = (out / "report.md").read_text(encoding="utf-8")
    for heading in ("Table 4", "Targets", "KV cache", "Compression", "Machine:", "Threads:"):
        assert heading in text
    assert "matmul 6×6" in text and "216 multiply-adds" in text
    assert "conv 2×1×6×6, 4 filters 3×3" in text and "extrapolated: 1 of 2 images ×2" in text
    assert "extrapolated: 2 of 6 rows ×3" in text
    for row in results["table4"].values():
        for key in ("explicit", "tinytorch", "numpy"):
            assert row[key].median > 0 and row[key].low <= row[key].median <= row[key].high
    assert set(results["ratios"]) == set(TARGETS)
    assert results["ratios"]["matmul: tinytorch / NumPy"] > 0
    assert results["ratios"]["grading: tiny grade / plain pytest (CPU)"] is None
    assert "Grading overhead: skipped" in text
    pairs = [(row["dim"], row["tokens"]) for row in results["kv_cache"]]
    assert pairs == [(16, 2), (16, 3), (32, 3)]
    first = results["kv_cache"][0]
    assert (first["kv_uncached"], first["kv_cached"]) == (8 + 9, 9)
    assert first["same_tokens"] is True
    assert first["cache_bytes"] == 2 * 4 * 4 * 4 * (8 + 2 - 1) * 4
    assert results["compression"][0]["ratio"] == 1.0
    assert 0.0 <= results["compression"][0]["accuracy"] <= 1.0


def test_results_json_and_plots_are_written(report):
    out, results = report
    saved = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert saved["kv_cache"] == results["kv_cache"]
    assert saved["environment"]["threads"].startswith("OMP_NUM_THREADS=")
    pytest.importorskip("matplotlib", reason="plots need matplotlib (the dev extra)")
    for name in ("table4.png", "kv_cache.png", "compression.png"):
        assert (out / name).stat().st_size > 1000, f"{name} should be a written plot"


def test_markdown_says_when_plots_are_skipped(report):
    _, results = report
    text = markdown(results, [], "Plots skipped: matplotlib is not installed.")
    assert "Plots skipped: matplotlib is not installed." in text
    assert "![" not in text
