"""Rows of plain values as a CSV download Excel opens as UTF-8, formula injection defused."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from fastapi.responses import Response


def _cell(value: Any) -> Any:
    if isinstance(value, dict | list):
        value = json.dumps(value, ensure_ascii=False, sort_keys=True)
    # Spreadsheet formula injection: customer text must never start a formula.
    if isinstance(value, str) and value[:1] in "=+-@\t\r":
        return "'" + value
    return value


def csv_response(
    name: str, rows: list[dict[str, Any]], columns: list[str] | None = None
) -> Response:
    """``rows`` as ``name.csv``; the columns are ``columns``, else the first row's keys."""
    out = io.StringIO()
    fields = columns if columns is not None else (list(rows[0]) if rows else [])
    writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: _cell(value) for key, value in row.items()})
    return Response(
        "\ufeff" + out.getvalue(),  # BOM: Excel opens Chinese text as UTF-8
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )
