"""CSV text of a simulated day, in the original files' exact format."""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from itertools import repeat

import numpy as np

from salesinsights.generator.catalogue import Catalogue
from salesinsights.generator.day import DayEvents
from salesinsights.generator.users import UserPool
from salesinsights.schema import EVENT_TYPES

_EVENT_FIELDS = np.array([f",{kind}," for kind in EVENT_TYPES], dtype=object)
_HEX_DIGITS = np.array([f"{value:02x}".encode() for value in range(256)], dtype="S2")
_UUID_DASHES = (8, 13, 18, 23)


@lru_cache(maxsize=1)
def _clock_texts() -> np.ndarray:
    """' HH:MM:SS UTC' for every second of a day."""
    minutes = np.array([f" {minute // 60:02d}:{minute % 60:02d}:" for minute in range(1440)], dtype=object)
    seconds = np.array([f"{second:02d} UTC" for second in range(60)], dtype=object)
    return (minutes[:, None] + seconds[None, :]).ravel()


def _uuid4_texts(random_bytes: np.ndarray) -> np.ndarray:
    """Canonical uuid4 strings from 16 random bytes per row: version 4, RFC 4122 variant."""
    octets = random_bytes.copy()
    octets[:, 6] = (octets[:, 6] & 0x0F) | 0x40
    octets[:, 8] = (octets[:, 8] & 0x3F) | 0x80
    digits = _HEX_DIGITS[octets].view(np.uint8).reshape(len(octets), 32)
    text = np.full((len(octets), 36), ord("-"), dtype=np.uint8)
    text[:, [column for column in range(36) if column not in _UUID_DASHES]] = digits
    return text.view("S36").ravel().astype(str).astype(object)


def _session_fields(events: DayEvents, pool: UserPool) -> np.ndarray:
    """'user_id,user_session' per session, the session left empty where the real log has none."""
    user_ids = pool.ids[events.session_user].astype(str).astype(object)
    sessions = np.where(events.session_has_id, _uuid4_texts(events.session_key), "")
    return user_ids + "," + sessions


def format_lines(day: date, events: DayEvents, pool: UserPool, catalogue: Catalogue) -> list[str]:
    # str.join over zipped columns runs in C; the per-row pieces are all precomputed lookups.
    return list(
        map(
            "".join,
            zip(
                repeat(day.isoformat()),
                _clock_texts()[events.second].tolist(),
                _EVENT_FIELDS[events.event].tolist(),
                catalogue.text[events.product].tolist(),
                _session_fields(events, pool)[events.session].tolist(),
            ),
        )
    )
