"""Writing the report: the page and one CSV file per table."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import TYPE_CHECKING, Any

from report.figures import Table

if TYPE_CHECKING:
    from report.page import Report

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any, free_text: bool) -> Any:
    """Free text that a spreadsheet would run as a formula is prefixed with an apostrophe."""
    if free_text and isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def write_csv(table: Table, folder: Path) -> Path:
    path = folder / f"{table.name}.csv"
    free = [column in table.free_text_columns for column in table.columns]
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(table.columns)
        for row in table.rows:
            writer.writerow([csv_cell(value, is_free) for value, is_free in zip(row, free, strict=False)])
    return path


def write(report: Report, out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = [write_csv(table, out) for table in report.tables]
    names = {table.name for table in report.tables}
    for stale in ("least_helpful_comments", "not_understood"):  # from an earlier run with free text
        if stale not in names:
            (out / f"{stale}.csv").unlink(missing_ok=True)
    page = out / "report.html"
    page.write_text(report.html, encoding="utf-8")
    return [page] + written
