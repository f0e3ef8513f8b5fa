"""Cron schedules as the CronJob controller reads them (pure: no I/O, no clock).

The controller parses ``spec.schedule`` with ``cron.ParseStandard`` of ``github.com/robfig/cron/v3``
(``parser.go``, ``spec.go``, ``constantdelay.go``), prefixed ``TZ=<spec.timeZone>`` when a time
zone is set (``formatSchedule``). This module reproduces that grammar and ``Next``:

- five fields: minute (0-59), hour (0-23), day of month (1-31), month (1-12 or ``jan``-``dec``),
  day of week (0-6 or ``sun``-``sat``; 7 is out of range); each a comma list of ``*`` or ``?``,
  ``N``, ``N-M``, with an optional ``/step`` (``N/step`` means ``N-max/step``); names are
  case-insensitive;
- descriptors ``@yearly`` (``@annually``), ``@monthly``, ``@weekly``, ``@daily`` (``@midnight``),
  ``@hourly`` and ``@every <Go duration>`` (at least 1 s, whole seconds);
- an optional ``TZ=Zone/Name`` or ``CRON_TZ=Zone/Name`` prefix; without one the schedule runs in
  UTC (the zone of the simulated kube-controller-manager);
- when both day fields are restricted a day matching either runs; when either is ``*`` both must
  match (``dayMatches``);
- ``Next`` searches at most five years ahead and returns None when nothing matches (robfig's zero
  time), e.g. for ``0 0 30 2 *``.

Errors carry robfig's messages (``expected exactly 5 fields, found 4: ...``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_STAR = 1 << 63  # starBit

_MONTH_NAMES = {
    n: i + 1
    for i, n in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    )
}
_DOW_NAMES = {n: i for i, n in enumerate(["sun", "mon", "tue", "wed", "thu", "fri", "sat"])}


@dataclass(frozen=True)
class _Bounds:
    low: int
    high: int
    names: dict[str, int] | None = None


_MINUTES = _Bounds(0, 59)
_HOURS = _Bounds(0, 23)
_DOM = _Bounds(1, 31)
_MONTHS = _Bounds(1, 12, _MONTH_NAMES)
_DOW = _Bounds(0, 6, _DOW_NAMES)

_DESCRIPTORS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}

_DURATION_UNITS = {
    "ns": 1e-9,
    "us": 1e-6,
    "\u00b5s": 1e-6,
    "\u03bcs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}
_INT = re.compile(r"[+-]?[0-9]+")
_DURATION_PART = re.compile(r"([0-9]*\.?[0-9]*)(ns|us|\u00b5s|\u03bcs|ms|s|m|h)")


class ScheduleError(ValueError):
    """The schedule does not parse (``UnparseableSchedule``) or its zone is unknown."""


def load_location(name: str) -> tzinfo:
    """``time.LoadLocation``: "" and "UTC" are UTC; other names come from the tz database."""
    if name in ("", "UTC"):
        return UTC
    if name == "Local":
        local = datetime.now().astimezone().tzinfo
        return local if local is not None else UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ScheduleError(f"unknown time zone {name}") from exc


def _parse_int(text: str) -> int:
    """``mustParseInt``."""
    if not _INT.fullmatch(text):
        raise ScheduleError(
            f'failed to parse int from {text}: strconv.Atoi: parsing "{text}": invalid syntax'
        )
    value = int(text, 10)
    if value < 0:
        raise ScheduleError(f"negative number ({value}) not allowed: {text}")
    return value


def _int_or_name(text: str, names: dict[str, int] | None) -> int:
    if names is not None and text.lower() in names:
        return names[text.lower()]
    return _parse_int(text)


def _range(expr: str, bounds: _Bounds) -> int:
    """``getRange``: the bits of one ``a-b/step`` expression."""
    range_and_step = expr.split("/")
    low_and_high = range_and_step[0].split("-")
    single = len(low_and_high) == 1
    extra = 0
    if low_and_high[0] in ("*", "?"):
        start, end, extra = bounds.low, bounds.high, _STAR
    else:
        start = _int_or_name(low_and_high[0], bounds.names)
        if len(low_and_high) == 1:
            end = start
        elif len(low_and_high) == 2:
            end = _int_or_name(low_and_high[1], bounds.names)
        else:
            raise ScheduleError(f"too many hyphens: {expr}")
    if len(range_and_step) == 1:
        step = 1
    elif len(range_and_step) == 2:
        step = _parse_int(range_and_step[1])
        if single:
            end = bounds.high
        if step > 1:
            extra = 0
    else:
        raise ScheduleError(f"too many slashes: {expr}")
    if start < bounds.low:
        raise ScheduleError(f"beginning of range ({start}) below minimum ({bounds.low}): {expr}")
    if end > bounds.high:
        raise ScheduleError(f"end of range ({end}) above maximum ({bounds.high}): {expr}")
    if start > end:
        raise ScheduleError(f"beginning of range ({start}) beyond end of range ({end}): {expr}")
    if step == 0:
        raise ScheduleError(f"step of range should be a positive number: {expr}")
    bits = 0
    for value in range(start, end + 1, step):
        bits |= 1 << value
    return bits | extra


def _field(text: str, bounds: _Bounds) -> int:
    """``getField``: the OR of a comma-separated list."""
    bits = 0
    for expr in text.split(","):
        bits |= _range(expr, bounds)
    return bits


def _go_duration(text: str) -> float:
    """``time.ParseDuration`` (seconds), for ``@every``."""
    s = text
    sign = 1.0
    if s[:1] in ("-", "+"):
        sign = -1.0 if s[0] == "-" else 1.0
        s = s[1:]
    if s == "0":
        return 0.0
    if not s:
        raise ScheduleError(f'time: invalid duration "{text}"')
    total, pos = 0.0, 0
    while pos < len(s):
        match = _DURATION_PART.match(s, pos)
        if match is None or match.group(1) in ("", "."):
            raise ScheduleError(f'time: invalid duration "{text}"')
        total += float(match.group(1)) * _DURATION_UNITS[match.group(2)]
        pos = match.end()
    return sign * total


@dataclass(frozen=True)
class Schedule:
    """A parsed schedule: the bit sets of ``SpecSchedule``, or ``every`` seconds for
    ``@every``'s ``ConstantDelaySchedule``."""

    minute: int = 0
    hour: int = 0
    dom: int = 0
    month: int = 0
    dow: int = 0
    location: tzinfo = UTC
    every: float | None = None

    def next(self, after: datetime) -> datetime | None:
        """``Schedule.Next``: the first activation strictly after ``after`` (an aware datetime),
        in ``after``'s zone; None when there is none within five years."""
        if self.every is not None:
            return after.replace(microsecond=0) + timedelta(seconds=self.every)
        original = after.tzinfo
        loc = self.location
        t = _in_zone(after.replace(microsecond=0) + timedelta(seconds=1), loc)
        added = False
        year_limit = t.year + 5
        while True:  # the WRAP label
            if t.year > year_limit:
                return None
            wrapped = False
            while not (1 << t.month) & self.month:
                if not added:
                    added = True
                    t = _wall(loc, t.year, t.month, 1)
                year, month = (t.year + 1, 1) if t.month == 12 else (t.year, t.month + 1)
                t = _wall(loc, year, month, 1)
                if t.month == 1:
                    wrapped = True
                    break
            if wrapped:
                continue
            while not self._day_matches(t):
                if not added:
                    added = True
                    t = _wall(loc, t.year, t.month, t.day)
                d = t.date() + timedelta(days=1)
                t = _wall(loc, d.year, d.month, d.day, t.hour, t.minute, t.second)
                # Notice if the hour is no longer midnight due to DST.
                if t.hour != 0:
                    t = _add(
                        t, timedelta(hours=24 - t.hour) if t.hour > 12 else timedelta(hours=-t.hour), loc
                    )
                if t.day == 1:
                    wrapped = True
                    break
            if wrapped:
                continue
            while not (1 << t.hour) & self.hour:
                if not added:
                    added = True
                    t = _wall(loc, t.year, t.month, t.day, t.hour)
                t = _add(t, timedelta(hours=1), loc)
                if t.hour == 0:
                    wrapped = True
                    break
            if wrapped:
                continue
            while not (1 << t.minute) & self.minute:
                if not added:
                    added = True
                    t = t.replace(second=0)
                t = _add(t, timedelta(minutes=1), loc)
                if t.minute == 0:
                    wrapped = True
                    break
            if wrapped:
                continue
            while t.second != 0:  # the seconds field of a standard schedule is always 0
                if not added:
                    added = True
                t = _add(t, timedelta(seconds=1), loc)
                if t.second == 0:
                    wrapped = True
                    break
            if wrapped:
                continue
            return t.astimezone(original)

    def _day_matches(self, t: datetime) -> bool:
        """``dayMatches``."""
        dom_match = bool((1 << t.day) & self.dom)
        dow_match = bool((1 << ((t.weekday() + 1) % 7)) & self.dow)
        if self.dom & _STAR or self.dow & _STAR:
            return dom_match and dow_match
        return dom_match or dow_match


def _in_zone(t: datetime, loc: tzinfo) -> datetime:
    return t.astimezone(UTC).astimezone(loc)


def _add(t: datetime, delta: timedelta, loc: tzinfo) -> datetime:
    """``Time.Add``: absolute time arithmetic (Python's aware arithmetic is wall-clock)."""
    return (t.astimezone(UTC) + delta).astimezone(loc)


def _wall(
    loc: tzinfo, year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    """``time.Date`` in ``loc``: a wall time, normalized through UTC so that a time skipped by a
    DST change lands on a real instant."""
    local = datetime.combine(date(year, month, day), time(hour, minute, second), tzinfo=loc)
    return _in_zone(local, loc)


def parse(spec: str) -> Schedule:
    """``cron.ParseStandard``."""
    if not spec:
        raise ScheduleError("empty spec string")
    loc: tzinfo = UTC
    if spec.startswith(("TZ=", "CRON_TZ=")):
        space = spec.find(" ")
        eq = spec.find("=")
        if space < 0:
            raise ScheduleError(f"provided bad location {spec[eq + 1 :]}: unknown time zone")
        name = spec[eq + 1 : space]
        try:
            loc = load_location(name)
        except ScheduleError as exc:
            raise ScheduleError(f"provided bad location {name}: {exc}") from exc
        spec = spec[space:].strip()
    if spec.startswith("@"):
        if spec.startswith("@every "):
            text = spec[len("@every ") :]
            try:
                seconds = _go_duration(text)
            except ScheduleError as exc:
                raise ScheduleError(f"failed to parse duration {spec}: {exc}") from exc
            return Schedule(location=loc, every=max(1.0, float(int(seconds))))
        if spec not in _DESCRIPTORS:
            raise ScheduleError(f"unrecognized descriptor: {spec}")
        spec = _DESCRIPTORS[spec]
    fields = spec.split()
    if len(fields) != 5:
        raise ScheduleError(f"expected exactly 5 fields, found {len(fields)}: [{' '.join(fields)}]")
    return Schedule(
        minute=_field(fields[0], _MINUTES),
        hour=_field(fields[1], _HOURS),
        dom=_field(fields[2], _DOM),
        month=_field(fields[3], _MONTHS),
        dow=_field(fields[4], _DOW),
        location=loc,
    )
