"""``python -m handoff report --week 2026-W49``: the week's report on demand.

Keeps it in the service (``/dashboard/reports/2026-W49``), posts it to Slack when
Slack is set up, and writes ``report-2026-W49.html`` / ``.csv`` to ``--out``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from handoff.db import create_engine, migrate, sessionmaker
from handoff.errors import InvalidInput, SettingsError
from handoff.services import report_delivery
from handoff.settings import Settings, load_settings


async def _make(settings: Settings, week: str, out: Path | None) -> str:
    engine = create_engine(settings.database)
    try:
        async with sessionmaker(engine)() as session:
            kept = await report_delivery.make_and_post(session, settings, week)
            html, csv = kept.html, kept.csv
    finally:
        await engine.dispose()
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / f"report-{week}.html").write_text(html, encoding="utf-8")
        (out / f"report-{week}.csv").write_text(csv, encoding="utf-8")
    return report_delivery.link(week)


def main(argv: list[str]) -> int:
    """Runs the command; 0 on success, 2 for bad input or settings."""
    parser = argparse.ArgumentParser(prog="python -m handoff report")
    parser.add_argument("--week", required=True, help="an ISO week, e.g. 2026-W49")
    parser.add_argument("--out", type=Path, help="also write the HTML and CSV here")
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
        migrate(settings.database)
        path = asyncio.run(_make(settings, args.week, args.out))
    except (SettingsError, InvalidInput) as error:
        print(f"handoff report: {error}", file=sys.stderr)
        return 2
    print(f"report {args.week} kept at {path}")
    return 0
