"""Time as the database stores it (naive UTC) and as the wire shows it (ISO 8601 with Z)."""
import datetime


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


def iso(moment):
    """ISO 8601 in UTC with milliseconds and a Z suffix.

    Takes a stored naive-UTC datetime, the text SQLite may hand back for
    computed columns, or seconds since the epoch (``time.time()``).
    """
    if moment is None:
        return None
    if isinstance(moment, (int, float)):
        moment = datetime.datetime.fromtimestamp(moment, datetime.timezone.utc).replace(tzinfo=None)
    elif isinstance(moment, str):
        if len(moment) in (19, 26) and moment[10] == " ":  # SQLite's stored form: no parsing needed
            return f"{moment[:10]}T{moment[11:19]}.{moment[20:23] or '000'}Z"
        moment = datetime.datetime.fromisoformat(moment)
    return moment.isoformat(timespec="milliseconds") + "Z"


def parse_iso(text):
    """The inverse of :func:`iso`: a naive UTC datetime.

    ValueError when it is not a time, or not one in years 1-9999 once in UTC
    (``9999-12-31T23:59:59-01:00`` is in year 10000).
    """
    moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is not None:
        try:
            moment = moment.astimezone(datetime.timezone.utc).replace(tzinfo=None)
        except OverflowError:
            raise ValueError(f"{text[:40]!r} is outside the years 1-9999 in UTC") from None
    return moment
