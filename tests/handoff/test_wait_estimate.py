"""Business hours as told to a waiting customer (``handoff/services/wait_estimate.py``)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from handoff.services.wait_estimate import business_hours_state
from handoff.settings import load_settings


def _settings(tmp_path: Path, hours: str) -> object:
    return load_settings(
        _env_file=None,
        bot_var_dir=tmp_path,
        handoff_business_hours=hours,
        handoff_timezone="Asia/Shanghai",
    )


def test_business_hours_in_the_configured_time_zone(tmp_path: Path) -> None:
    settings = _settings(tmp_path, "09:00-21:00")
    # 02:00 UTC is 10:00 in Shanghai: open.
    assert business_hours_state(settings, datetime(2024, 11, 5, 2, 0, tzinfo=UTC)) == (
        True,
        None,
    )  # type: ignore[arg-type]
    # 14:00 UTC is 22:00 in Shanghai: closed until 09:00 the next day.
    is_open, next_open = business_hours_state(settings, datetime(2024, 11, 5, 14, 0, tzinfo=UTC))  # type: ignore[arg-type]
    assert not is_open and next_open == "2024-11-06T09:00:00+08:00"
    # 00:30 UTC is 08:30 in Shanghai: opens the same day.
    assert (
        business_hours_state(settings, datetime(2024, 11, 5, 0, 30, tzinfo=UTC))[1]
        == "2024-11-05T09:00:00+08:00"
    )  # type: ignore[arg-type]


def test_overnight_hours(tmp_path: Path) -> None:
    settings = _settings(tmp_path, "20:00-04:00")
    assert business_hours_state(settings, datetime(2024, 11, 5, 17, 0, tzinfo=UTC))[0] is True  # type: ignore[arg-type]  # 01:00 local
