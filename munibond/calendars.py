"""Bank calendars and business-day adjustment of payment dates.

A :class:`BankCalendar` knows which days banks are closed:

* ``"JP"`` (the default): Saturdays, Sundays, Japan's national holidays (the ``holidays``
  package: substitute holidays and "citizens' holidays" included) and the banks' year-end break,
  31 December to 3 January (銀行法施行令 第5条);
* ``"weekends"``: Saturdays and Sundays only;

plus any extra dates the issuer supplies (a holiday declared after the package was released, a
local closure). Payment dates that fall on a closed day are moved by a business-day convention
(:data:`BUSINESS_DAY_CONVENTIONS`):

* ``preceding``: to the previous business day (Japanese municipal and corporate bonds);
* ``following``: to the next business day (Japanese government bonds);
* ``modified_following``: to the next business day, or the previous one when the next is in
  another month;
* ``none``: not moved.

The ``holidays`` package computes Japan's holidays only for 1949 to 2099 (the equinoxes are
astronomical); a date outside that range raises :class:`CalendarError` rather than silently
treating every day as a business day.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Final, Literal

__all__ = [
    "BUSINESS_DAY_CONVENTIONS",
    "CALENDARS",
    "BankCalendar",
    "BusinessDay",
    "CalendarError",
    "CalendarName",
]

BusinessDay = Literal["preceding", "following", "modified_following", "none"]
CalendarName = Literal["JP", "weekends"]

#: the business-day conventions, with what each does
BUSINESS_DAY_CONVENTIONS: Final[dict[str, str]] = {
    "preceding": "the previous business day (Japanese municipal and corporate bonds)",
    "following": "the next business day (Japanese government bonds)",
    "modified_following": "the next business day, unless that is in the next month: then the "
                          "previous one",
    "none": "not moved: paid on the date even when banks are closed",
}
#: the calendars, with the days they close
CALENDARS: Final[dict[str, str]] = {
    "JP": "weekends, Japanese national holidays and 31 December to 3 January",
    "weekends": "Saturdays and Sundays only",
}

#: a business day is searched for at most this many days away (a longer run of closed days is a
#: mistake in the issuer's holiday list)
_MAX_CLOSED_RUN: Final = 31


class CalendarError(ValueError):
    """The calendar cannot answer for a date. ``setting`` names what to change: ``"calendar"``
    (a date outside the years it knows), ``"holidays"`` (no business day near a date) or
    ``"business_day"`` (an unknown convention)."""

    def __init__(self, message: str, *, setting: str = "calendar") -> None:
        super().__init__(message)
        self.setting = setting


@functools.cache
def _japan_holidays(year: int) -> dict[date, str]:
    import holidays as holiday_data

    known = holiday_data.country_holidays("JP", years=year)
    return {day: str(name) for day, name in known.items()}


def _japan_years() -> tuple[int, int]:
    import holidays as holiday_data

    japan = holiday_data.country_holidays("JP")
    return int(getattr(japan, "start_year", 1949)), int(getattr(japan, "end_year", 2099))


class BankCalendar:
    """The days banks are closed: a named calendar plus the issuer's extra holidays."""

    def __init__(self, name: CalendarName | str = "JP", extra_holidays: Iterable[date] = ()
                 ) -> None:
        if name not in CALENDARS:
            raise CalendarError(f"unknown calendar {name!r}; expected one of "
                                f"{', '.join(CALENDARS)}", setting="calendar")
        self.name = name
        self.extra_holidays = frozenset(extra_holidays)
        self.first_year, self.last_year = _japan_years() if name == "JP" else (1, 9999)

    def __repr__(self) -> str:
        extra = f", {len(self.extra_holidays)} extra holiday(s)" if self.extra_holidays else ""
        return f"BankCalendar({self.name!r}{extra})"

    def closed_because(self, day: date) -> str | None:
        """Why banks are closed on ``day`` ("Sunday", "Marine Day", "year-end bank holiday",
        "issuer holiday"), or None on a business day."""
        if self.name == "JP" and not self.first_year <= day.year <= self.last_year:
            raise CalendarError(f"{day}: the JP calendar knows Japan's holidays only for "
                                f"{self.first_year} to {self.last_year}")
        if day in self.extra_holidays:
            return "issuer holiday"
        if day.weekday() == 5:
            return "Saturday"
        if day.weekday() == 6:
            return "Sunday"
        if self.name == "JP":
            name = _japan_holidays(day.year).get(day)
            if name is not None:
                return name
            if (day.month, day.day) in ((12, 31), (1, 1), (1, 2), (1, 3)):
                return "year-end bank holiday"
        return None

    def is_business_day(self, day: date) -> bool:
        return self.closed_because(day) is None

    def _step(self, day: date, direction: int) -> date:
        """The nearest business day from ``day`` (inclusive) in ``direction`` (+1 or -1)."""
        current = day
        for _ in range(_MAX_CLOSED_RUN + 1):
            if self.is_business_day(current):
                return current
            current += timedelta(days=direction)
        raise CalendarError(f"no business day within {_MAX_CLOSED_RUN} days "
                            f"{'after' if direction > 0 else 'before'} {day}: check the holidays",
                            setting="holidays")

    def previous_business_day(self, day: date) -> date:
        """The last business day on or before ``day``."""
        return self._step(day, -1)

    def next_business_day(self, day: date) -> date:
        """The first business day on or after ``day``."""
        return self._step(day, +1)

    def adjust(self, day: date, convention: BusinessDay | str) -> date:
        """``day`` moved to a business day by ``convention`` (unchanged on a business day)."""
        if convention == "none":
            return day
        if convention == "preceding":
            return self.previous_business_day(day)
        if convention == "following":
            return self.next_business_day(day)
        if convention == "modified_following":
            moved = self.next_business_day(day)
            return moved if moved.month == day.month else self.previous_business_day(day)
        raise CalendarError(f"unknown business-day convention {convention!r}; expected one of "
                            f"{', '.join(BUSINESS_DAY_CONVENTIONS)}", setting="business_day")

    def business_days_before(self, day: date, count: int) -> date:
        """The business day ``count`` business days before ``day`` (``count`` 0: ``day`` itself,
        whatever it is; 1: the last business day before ``day``)."""
        if count < 0:
            raise CalendarError(f"count must be zero or more, got {count}",
                                setting="record_days_before")
        current = day
        for _ in range(count):
            current = self.previous_business_day(current - timedelta(days=1))
        return current
