"""Times for people, in a bond's time zone, with the zone: ``2027-06-15 00:00 JST``.

On chain every time is a unix timestamp; a bond's schedule is made in its term sheet's zone
(``bond.coupon.timezone``, Asia/Tokyo by default): payments are due at 00:00 of the payment date
there, holdings recorded at 15:00 the business day before. Shown to a person, a time is in that
zone and says which (a UTC time of 15:00 on 14 June is 15 June in Japan). Machine-readable output
keeps ISO 8601 with its offset.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from munibond.bond import Bond

__all__ = ["format_time", "zone_of_schedule"]


def format_time(when: datetime | int, zone: tzinfo) -> str:
    """``when`` (an aware datetime or a unix timestamp) in ``zone``, with the zone:
    ``2027-06-15 00:00 JST``; seconds only when there are some; the offset (``+09:00``) for a
    zone without a name. The one format of times shown to people (SDK messages and the CLI)."""
    moment = when if isinstance(when, datetime) else datetime.fromtimestamp(int(when), UTC)
    local = moment.astimezone(zone)
    text = local.strftime("%Y-%m-%d %H:%M:%S" if local.second else "%Y-%m-%d %H:%M")
    name = local.tzname() or ""
    if not name or name.startswith(("UTC+", "UTC-", "+", "-")):
        offset = local.strftime("%z")
        name = "UTC" if offset in ("+0000", "") else f"{offset[:3]}:{offset[3:]}"
    return f"{text} {name}"


def zone_of_schedule(bond: Bond) -> tzinfo | None:
    """The UTC offset a bond's payment schedule was made in (its first payment is due at 00:00
    of the payment date in the bond's zone), or None when it has no schedule on chain."""
    from munibond.exceptions import MunibondError

    try:
        first = bond.coupons.period(1).payment_time
    except (MunibondError, ValueError):
        return None
    utc = first.astimezone(UTC)
    seconds = (utc.hour * 3600 + utc.minute * 60) % 86_400
    offset = -seconds if seconds <= 12 * 3600 else 86_400 - seconds
    return UTC if offset == 0 else timezone(timedelta(seconds=offset))
