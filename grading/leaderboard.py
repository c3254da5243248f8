"""Capstone leaderboard: rank validated submissions and render Markdown, CSV and HTML.

Pure functions only: `tiny leaderboard` (grading/commands/leaderboard.py) finds and reads
the files, validates each with grading/submission.py and hands the results here as
`Entry` values. Nothing is dropped: an entry with an `error` is listed with its reason in
every output.

Ranking: a sort specification is a comma-separated list of `field:direction`, e.g. the
default `optimized.accuracy:desc,optimized.latency_p50_ms:asc` (most accurate first, then
fastest). Fields are the numbers of the submission schema (RANKABLE). Entries whose keys
are all equal share a rank (competition ranking: 1, 2, 2, 4).

The HTML page is self-contained: inline CSS and an inline SVG bar chart of the first sort
field, no scripts, no external files or fonts.
"""

from __future__ import annotations

import csv
import html
import io
from dataclasses import dataclass

from grading.submission import METRIC_NAMES

DEFAULT_SORT = "optimized.accuracy:desc,optimized.latency_p50_ms:asc"
RANKABLE = tuple(
    [f"{variant}.{metric}" for variant in ("optimized", "baseline") for metric in METRIC_NAMES]
    + [
        "improvement.speedup_p50",
        "improvement.throughput_ratio",
        "improvement.model_size_ratio",
        "improvement.accuracy_delta",
    ]
)
COLUMNS = (
    ("rank", "rank"),
    ("student", "student"),
    ("submitter", "submitter"),
    ("accuracy", "optimized.accuracy"),
    ("p50 ms", "optimized.latency_p50_ms"),
    ("p99 ms", "optimized.latency_p99_ms"),
    ("samples/s", "optimized.throughput_samples_per_s"),
    ("model bytes", "optimized.model_bytes"),
    ("speedup", "improvement.speedup_p50"),
    ("size ratio", "improvement.model_size_ratio"),
    ("baseline accuracy", "baseline.accuracy"),
    ("cpu", "system.cpu"),
    ("source", "source"),
)


@dataclass(frozen=True)
class Entry:
    """One submission found in the artifacts folder.

    source: where it was found, relative to the folder ('alice/submission.json',
    'bob.zip!out/capstone/submission.json'); student: who it belongs to (see student_name);
    submission: the validated document, or None; error: why it is invalid, or None."""

    source: str
    student: str
    submission: dict | None = None
    error: str | None = None


@dataclass(frozen=True)
class SortKey:
    field: str
    descending: bool

    def __str__(self) -> str:
        return f"{self.field}:{'desc' if self.descending else 'asc'}"


def parse_sort(spec: str) -> tuple[SortKey, ...]:
    """'optimized.accuracy:desc,optimized.latency_p50_ms' → SortKeys (direction defaults to
    desc for accuracy, ratios and throughput, asc for latencies, memory and bytes)."""
    keys = []
    for part in (piece.strip() for piece in spec.split(",")):
        if not part:
            continue
        field, _, direction = part.partition(":")
        field, direction = field.strip(), direction.strip().lower()
        if field not in RANKABLE:
            raise ValueError(f"cannot rank by '{field}'; choose from: {', '.join(RANKABLE)}")
        if direction not in ("", "asc", "desc"):
            raise ValueError(f"sort direction of '{field}' must be asc or desc, got '{direction}'")
        if not direction:
            lower_is_better = ("latency", "memory", "bytes")
            direction = "asc" if any(word in field for word in lower_is_better) else "desc"
        keys.append(SortKey(field, direction == "desc"))
    if not keys:
        raise ValueError("the sort specification names no field")
    return tuple(keys)


def student_name(source: str, submission: dict | None) -> str:
    """The first folder (or zip, without '.zip') of `source`, as GitHub's artifact download
    makes one per student or run; for a file at the top level, the document's submitter."""
    first = source.replace("!", "/").split("/")[0]
    if "/" in source.replace("!", "/"):
        return first.removesuffix(".zip")
    if submission is not None:
        return str(submission.get("submitter", first))
    return first.removesuffix(".zip")


def field_value(entry: Entry, field: str):
    """A column's value: 'rank' aside, 'student', 'source', or a dotted submission field."""
    if field == "student":
        return entry.student
    if field == "source":
        return entry.source
    if entry.submission is None:
        return None
    if field == "submitter":
        return entry.submission.get("submitter")
    node = entry.submission
    for part in field.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return node


def rank(entries, keys: tuple[SortKey, ...]) -> list[tuple[int, Entry]]:
    """Valid entries in ranked order with their rank; ties share a rank. Ties on every key
    keep a stable order by student name then source."""

    def sort_key(entry: Entry):
        values = tuple(
            -field_value(entry, key.field) if key.descending else field_value(entry, key.field)
            for key in keys
        )
        return values, entry.student, entry.source

    valid = sorted((e for e in entries if e.error is None), key=sort_key)
    ranked: list[tuple[int, Entry]] = []
    for position, entry in enumerate(valid, start=1):
        same = ranked and sort_key(ranked[-1][1])[0] == sort_key(entry)[0]
        ranked.append((ranked[-1][0] if same else position, entry))
    return ranked


def invalid(entries) -> list[Entry]:
    """Entries that failed validation, by source."""
    return sorted((e for e in entries if e.error is not None), key=lambda e: e.source)


def _format(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def table_rows(ranked: list[tuple[int, Entry]]) -> list[list[str]]:
    """One list of formatted cells (COLUMNS order) per ranked entry."""
    return [
        [
            str(position) if field == "rank" else _format(field_value(entry, field))
            for _, field in COLUMNS
        ]
        for position, entry in ranked
    ]


def _markdown_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(entries, keys: tuple[SortKey, ...], title: str = "Capstone leaderboard") -> str:
    """Ranked table, then every invalid submission with its reason."""
    ranked, rejected = rank(entries, keys), invalid(entries)
    lines = [
        f"# {title}",
        "",
        f"Ranked by {', '.join(str(key) for key in keys)}. "
        f"{len(ranked)} valid, {len(rejected)} invalid submissions.",
        "",
        "| " + " | ".join(name for name, _ in COLUMNS) + " |",
        "|" + "|".join("---:" if name in ("rank",) else "---" for name, _ in COLUMNS) + "|",
    ]
    for row in table_rows(ranked):
        lines.append("| " + " | ".join(_markdown_cell(cell) for cell in row) + " |")
    if rejected:
        lines += [
            "",
            "## Invalid submissions",
            "",
            "| student | source | reason |",
            "|---|---|---|",
        ]
        for entry in rejected:
            cells = (entry.student, entry.source, entry.error or "")
            lines.append("| " + " | ".join(_markdown_cell(cell) for cell in cells) + " |")
    return "\n".join(lines) + "\n"


def render_csv(entries, keys: tuple[SortKey, ...]) -> str:
    """Every entry: ranked valid ones (status 'valid'), then invalid ones (status 'invalid',
    with the reason), one header row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([name for name, _ in COLUMNS] + ["status", "reason"])
    for row in table_rows(rank(entries, keys)):
        writer.writerow(row + ["valid", ""])
    for entry in invalid(entries):
        cells = ["" for _ in COLUMNS]
        cells[1], cells[-1] = entry.student, entry.source
        writer.writerow(cells + ["invalid", entry.error])
    return buffer.getvalue()


def svg_bar_chart(ranked: list[tuple[int, Entry]], key: SortKey, width: int = 640) -> str:
    """Horizontal bars of `key.field` per ranked entry, as inline SVG (no external refs)."""
    bar_height, gap, label_width, top = 22, 6, 170, 28
    values = [float(field_value(entry, key.field)) for _, entry in ranked]
    largest = max((abs(v) for v in values), default=0.0) or 1.0
    height = top + len(ranked) * (bar_height + gap) + 10
    span = width - label_width - 90
    parts = [
        f'<svg role="img" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'aria-label="{html.escape(key.field)} by student">',
        f'<text x="0" y="18" class="axis">{html.escape(key.field)} '
        f"({'higher' if key.descending else 'lower'} is better)</text>",
    ]
    for index, ((position, entry), value) in enumerate(zip(ranked, values, strict=True)):
        y = top + index * (bar_height + gap)
        length = max(1.0, span * abs(value) / largest)
        name = html.escape(f"{position}. {entry.student}")
        parts += [
            f'<text x="{label_width - 8}" y="{y + 16}" text-anchor="end">{name}</text>',
            f'<rect x="{label_width}" y="{y}" width="{length:.1f}" height="{bar_height}" '
            f'class="bar"><title>{name}: {value:.6g}</title></rect>',
            f'<text x="{label_width + length + 6:.1f}" y="{y + 16}">{value:.4g}</text>',
        ]
    parts.append("</svg>")
    return "\n".join(parts)


STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem; color: #1b1b1b; }
table { border-collapse: collapse; margin: 1rem 0; font-size: 0.9rem; }
th, td { border: 1px solid #ccc; padding: 0.3rem 0.6rem; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
svg text { font-size: 13px; font-family: system-ui, sans-serif; }
svg .bar { fill: #3b6ea8; }
.invalid td { background: #fff3f3; }
"""


def render_html(entries, keys: tuple[SortKey, ...], title: str = "Capstone leaderboard") -> str:
    """A self-contained page: chart of the first sort field, ranked table, invalid list."""
    ranked, rejected = rank(entries, keys), invalid(entries)
    numeric = {name for name, field in COLUMNS if field.count(".") == 1 and "cpu" not in field}
    head = "".join(f"<th>{html.escape(name)}</th>" for name, _ in COLUMNS)
    body = []
    for row in table_rows(ranked):
        cells = "".join(
            f'<td class="num">{html.escape(cell)}</td>'
            if name in numeric or name == "rank"
            else f"<td>{html.escape(cell)}</td>"
            for (name, _), cell in zip(COLUMNS, row, strict=True)
        )
        body.append(f"<tr>{cells}</tr>")
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f"<p>Ranked by {html.escape(', '.join(str(key) for key in keys))}. "
        f"{len(ranked)} valid, {len(rejected)} invalid submissions.</p>",
        svg_bar_chart(ranked, keys[0]) if ranked else "<p>No valid submission to chart.</p>",
        f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>",
    ]
    if rejected:
        rows = "".join(
            f'<tr class="invalid"><td>{html.escape(e.student)}</td><td>{html.escape(e.source)}'
            f"</td><td>{html.escape(e.error or '')}</td></tr>"
            for e in rejected
        )
        parts.append(
            "<h2>Invalid submissions</h2><table><thead><tr><th>student</th><th>source</th>"
            f"<th>reason</th></tr></thead><tbody>{rows}</tbody></table>"
        )
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
