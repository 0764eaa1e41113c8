"""Timeouts as seconds or as duration strings ("30s", "10m", "1h30m")."""

import math
import re
from typing import Union

Timeout = Union[int, float, str]
"""Seconds (a number) or a duration string such as ``"30s"``, ``"10m"``, ``"1h30m"``."""

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")


def seconds(timeout: Timeout) -> float:
    """The number of seconds ``timeout`` stands for; ``ValueError`` when it is
    not a positive number or a duration string."""
    if isinstance(timeout, bool):
        raise ValueError(f"timeout: {timeout!r} is not a duration")
    value = float(timeout) if isinstance(timeout, (int, float)) else _parse(timeout)
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"timeout: {timeout!r} must be more than zero")
    return value


def whole_seconds(timeout: Timeout) -> int:
    """``timeout`` rounded up to whole seconds, as the API's ``timeout_seconds`` takes."""
    return math.ceil(seconds(timeout))


def _parse(text: str) -> float:
    compact = text.strip().replace(" ", "")
    try:
        return float(compact)
    except ValueError:
        pass
    total = 0.0
    position = 0
    for match in _PART.finditer(compact):
        if match.start() != position:
            break
        total += float(match.group(1)) * _UNITS[match.group(2)]
        position = match.end()
    if position == 0 or position != len(compact):
        raise ValueError(f'timeout: {text!r} is not a duration (use seconds, or e.g. "30s", "10m", "1h30m")')
    return total
