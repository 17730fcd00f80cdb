"""Building blocks of the data set: time helpers, ids, phone numbers, names and phrases."""
from __future__ import annotations

import math
import random
import time
from datetime import UTC, date, datetime
from functools import lru_cache

EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
DAY = 86400
MASK64 = (1 << 64) - 1


def day_start(ordinal: int) -> int:
    """Epoch seconds of 00:00:00 UTC of the day with this proleptic ordinal."""
    return (ordinal - EPOCH_ORDINAL) * DAY


def ordinal_of(ts: int) -> int:
    return ts // DAY + EPOCH_ORDINAL


@lru_cache(maxsize=8192)
def _hour_prefix(hour: int) -> str:
    return time.strftime("%Y-%m-%dT%H:", time.gmtime(hour * 3600))


_MINUTE_SECOND = [f"{i // 60:02d}:{i % 60:02d}Z" for i in range(3600)]


def iso_z(ts: int) -> str:
    """ISO 8601 UTC, second precision, ``Z`` suffix."""
    # Serialising is the hot path; strftime per call costs several times more.
    return _hour_prefix(ts // 3600) + _MINUTE_SECOND[ts % 3600]


def iso_offset(ts: int) -> str:
    """ISO 8601 with a +00:00 offset (FastAPI serialising an aware datetime)."""
    return datetime.fromtimestamp(ts, UTC).isoformat()


def to_ts(value: datetime) -> int:
    return int(value.timestamp())


def seeded(*parts: object) -> random.Random:
    """A generator keyed by its parts; str seeds hash with SHA-512, stable across processes."""
    return random.Random("|".join(str(p) for p in parts))


DAY_MS = 86_400_000
EPOCH_ORDINAL = 719_163  # date(1970, 1, 1).toordinal()


def daytime_start_ms(rng: random.Random, ordinal: int, offset_hours: float) -> int:
    """A call's start in milliseconds on the UTC day `ordinal`, at a daytime peak in the
    environment's zone (most calls 08:00-20:00 local), kept within the day."""
    hour = rng.gauss(14, 3.5) - offset_hours
    second = int(min(max(hour, 0), 23.999) * 3600) + rng.randrange(3600) - 1800
    return (ordinal - EPOCH_ORDINAL) * DAY_MS + min(max(second, 0), 86_399) * 1000


_UUID_CLEAR = ~((0xF << 76) | (0x3 << 62)) & ((1 << 128) - 1)
_UUID_SET = (0x4 << 76) | (0x2 << 62)  # version 4, RFC 4122 variant


def uuid4_from(bits: int) -> str:
    """A version-4 UUID string from 128 random bits (much cheaper than ``uuid.UUID``)."""
    h = "%032x" % ((bits & _UUID_CLEAR) | _UUID_SET)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def mix64(x: int) -> int:
    """SplitMix64 finaliser: spreads consecutive lead indices over unrelated numbers."""
    x = (x + 0x9E3779B97F4A7C15) & MASK64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & MASK64
    return x ^ (x >> 31)


US_AREA_CODES = (201, 212, 213, 305, 312, 404, 415, 512, 617, 646, 702, 713, 718, 786, 917, 929)
BR_AREA_CODES = (11, 19, 21, 27, 31, 41, 48, 51, 61, 71, 81, 85)
# Exchange 555 (and 555-01XX in particular, reserved for fiction) is kept for inserted calls,
# so numbers of inserted calls can never collide with generated ones.
RESERVED_EXCHANGE = 555


def number_from(x: int, br_share: float) -> str:
    """An E.164 number (+1 NANP or +55 Brazilian mobile) derived from a 64-bit value."""
    if (x & 0xFFFF) / 65536.0 < br_share:
        ddd = BR_AREA_CODES[(x >> 16) % len(BR_AREA_CODES)]
        return f"+55{ddd}9{(x >> 24) % 100_000_000:08d}"
    npa = US_AREA_CODES[(x >> 16) % len(US_AREA_CODES)]
    nxx = 200 + (x >> 24) % 800
    if nxx == RESERVED_EXCHANGE:
        nxx += 1
    return f"+1{npa}{nxx}{(x >> 40) % 10000:04d}"


def reserved_number(rng: random.Random, low: int, high: int) -> str:
    """A fictional +1 NPA-555-01XX number with XX within [low, high]."""
    npa = rng.choice(US_AREA_CODES)
    return f"+1{npa}55501{rng.randint(low, high):02d}"


@lru_cache(maxsize=65536)
def format_number(e164: str) -> str:
    """National display format: ``(212) 555-0143`` or ``(11) 98765-4321``."""
    if e164.startswith("+1") and len(e164) == 12:
        d = e164[2:]
        return f"({d[:3]}) {d[3:6]}-{d[6:]}"
    if e164.startswith("+55") and len(e164) in (13, 14):
        d = e164[3:]
        return f"({d[:2]}) {d[2:-4]}-{d[-4:]}"
    return e164


# Mon..Sun, averaging 1.0 over a week.
WEEKDAY_FACTOR = (1.2, 1.2, 1.2, 1.2, 1.2, 0.55, 0.45)
# Local hour weights: quiet nights, business-hours peak, a lighter evening.
LOCAL_HOUR_WEIGHT = (
    0.08, 0.05, 0.04, 0.04, 0.05, 0.1, 0.25, 0.5, 1.0, 1.5, 1.6, 1.55,
    1.3, 1.4, 1.6, 1.55, 1.4, 1.1, 0.7, 0.5, 0.4, 0.3, 0.2, 0.12,
)

def hour_cum(utc_offset: int) -> list[float]:
    """Cumulative weights of the 24 UTC hours for a workspace at this UTC offset."""
    weights = [LOCAL_HOUR_WEIGHT[(h + utc_offset) % 24] for h in range(24)]
    total = sum(weights)
    return [sum(weights[: h + 1]) / total for h in range(24)]


def day_count(rng: random.Random, mean: float) -> int:
    if mean <= 0:
        return 0
    return max(0, round(rng.gauss(mean, math.sqrt(mean))))


def day_times(rng: random.Random, ordinal: int, mean: float, cum: list[float]) -> list[int]:
    """Start times (epoch seconds) of one day's calls: Poisson-like count, diurnal hours."""
    n = day_count(rng, mean)
    if not n:
        return []
    ds = day_start(ordinal)
    hours = rng.choices(range(24), cum_weights=cum, k=n)
    return [ds + h * 3600 + rng.randrange(3600) for h in hours]
