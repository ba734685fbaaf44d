"""The dashboard's filters: a local date range, a channel and a team."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from handoff.errors import InvalidInput
from handoff.services.assignment import TEAMS

MAX_DAYS = 366
DEFAULT_DAYS = 7


class MetricsInputError(InvalidInput):
    """A filter value is malformed (bad date, reversed range, unknown team)."""


@dataclass(frozen=True)
class MetricsFilter:
    """A date range in the shop's time zone (both days included), channel and team.

    Attributes:
        first_day: the first local day.
        last_day: the last local day (included).
        zone: the shop's time zone.
        channel: only this channel (``telegram``, ``wechat``, ``webchat``, ``rest``).
        team: only conversations handed to this team.
    """

    first_day: date
    last_day: date
    zone: ZoneInfo
    channel: str | None = None
    team: str | None = None
    moments: tuple[datetime, datetime] | None = None

    @classmethod
    def between(cls, start: datetime, end: datetime, zone: ZoneInfo) -> MetricsFilter:
        """A window of time rather than whole days (the target alerts' trailing hours)."""
        first, last = start.astimezone(zone).date(), end.astimezone(zone).date()
        return cls(first, last, zone, moments=(start.astimezone(UTC), end.astimezone(UTC)))

    @property
    def start(self) -> datetime:
        """Local midnight of the first day (or the window's start), in UTC."""
        if self.moments:
            return self.moments[0]
        return datetime.combine(self.first_day, time(), self.zone).astimezone(UTC)

    @property
    def end(self) -> datetime:
        """Local midnight after the last day (or the window's end), in UTC (excluded)."""
        if self.moments:
            return self.moments[1]
        return datetime.combine(self.last_day + timedelta(days=1), time(), self.zone).astimezone(
            UTC
        )

    @property
    def offset_minutes(self) -> int:
        """The zone's UTC offset at the range start (SQLite groups by this fixed offset)."""
        offset = datetime.combine(self.first_day, time(12), self.zone).utcoffset()
        return int(offset.total_seconds() // 60) if offset else 0

    def previous(self) -> MetricsFilter:
        """The period of the same length just before this one (same channel and team)."""
        length = self.last_day - self.first_day + timedelta(days=1)
        return MetricsFilter(
            self.first_day - length,
            self.first_day - timedelta(days=1),
            self.zone,
            self.channel,
            self.team,
        )

    def days(self) -> list[date]:
        """Every local day of the range."""
        count = (self.last_day - self.first_day).days + 1
        return [self.first_day + timedelta(days=n) for n in range(count)]


def local_time(moment: object, where: MetricsFilter) -> str:
    """A stored UTC timestamp as local ``YYYY-MM-DD HH:MM:SS`` (the shop's time zone)."""
    if isinstance(moment, datetime):
        aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        return aware.astimezone(where.zone).strftime("%Y-%m-%d %H:%M:%S")
    return str(moment or "")[:19]


FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2999, 12, 31)


def _day(value: str, name: str) -> date:
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise MetricsInputError(f"{name} must be a date YYYY-MM-DD, not {value!r}") from None
    if not FIRST_DAY <= day <= LAST_DAY:
        # The day after 9999-12-31 does not exist; a range's end is computed from it.
        raise MetricsInputError(f"{name} must lie between {FIRST_DAY} and {LAST_DAY}")
    return day


def parse_filter(
    *,
    timezone: str,
    first: str | None = None,
    last: str | None = None,
    channel: str | None = None,
    team: str | None = None,
    today: date | None = None,
) -> MetricsFilter:
    """Validates the query parameters; without dates, the last seven local days.

    Raises:
        MetricsInputError: a malformed or reversed range, one over a year, an unknown team.
    """
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise MetricsInputError(f"unknown time zone {timezone!r}") from None
    today = today or datetime.now(zone).date()
    last_day = _day(last, "to") if last else today
    first_day = _day(first, "from") if first else last_day - timedelta(days=DEFAULT_DAYS - 1)
    if first_day > last_day:
        raise MetricsInputError("from is after to")
    if (last_day - first_day).days >= MAX_DAYS:
        raise MetricsInputError(f"the range is longer than {MAX_DAYS} days")
    if team and team not in TEAMS:
        raise MetricsInputError("team is one of " + ", ".join(TEAMS))
    if channel is not None and (not channel or len(channel) > 32):
        raise MetricsInputError("channel is a channel name such as telegram")
    return MetricsFilter(first_day, last_day, zone, channel or None, team or None)
