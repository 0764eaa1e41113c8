"""The pieces that need no gateway: durations, event-stream framing, timestamps."""

from datetime import datetime, timedelta, timezone

import pytest

from assent_client._base import parse_timestamp
from assent_client._durations import seconds, whole_seconds
from assent_client._sse import Frame, FrameDecoder


@pytest.mark.parametrize(
    ("timeout", "expected"),
    [
        (30, 30.0),
        (2.5, 2.5),
        ("45", 45.0),
        ("30s", 30.0),
        ("10m", 600.0),
        ("1h30m", 5400.0),
        ("1d", 86400.0),
        ("250ms", 0.25),
        (" 2m 5s ", 125.0),
        ("1.5h", 5400.0),
    ],
)
def test_durations_are_seconds_or_strings(timeout: object, expected: float) -> None:
    assert seconds(timeout) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize("timeout", ["", "ten minutes", "10x", "m10", "5s10", 0, -1, "0s", float("inf"), True])
def test_other_timeouts_are_refused(timeout: object) -> None:
    with pytest.raises(ValueError, match="timeout"):
        seconds(timeout)  # type: ignore[arg-type]


def test_whole_seconds_round_up() -> None:
    assert whole_seconds("250ms") == 1
    assert whole_seconds(90) == 90


def test_frames_are_dispatched_at_blank_lines_and_comments_skipped() -> None:
    decoder = FrameDecoder()
    lines = [": heartbeat", "", "id: 7", "event: approval.requested", 'data: {"a":', "data:1}", "", "id: 8", ""]
    frames = [frame for frame in map(decoder.feed, lines) if frame is not None]
    assert frames == [Frame("7", '{"a":\n1}')]


def test_timestamps_parse_with_any_fraction_and_zone() -> None:
    utc = timezone.utc
    assert parse_timestamp("2026-11-22T10:00:03Z") == datetime(2026, 11, 22, 10, 0, 3, tzinfo=utc)
    assert parse_timestamp("2026-11-22T10:00:03.5Z") == datetime(2026, 11, 22, 10, 0, 3, 500000, tzinfo=utc)
    assert parse_timestamp("2026-11-22T10:00:03.123456789+02:00") == datetime(
        2026, 11, 22, 10, 0, 3, 123456, tzinfo=timezone(timedelta(hours=2))
    )
