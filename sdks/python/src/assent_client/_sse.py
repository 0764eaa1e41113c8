"""Server-Sent Events framing (the WHATWG event-stream format), line by line.

Written here rather than taken from a package so that ``httpx`` stays the
SDK's one runtime dependency; only the ``id`` and ``data`` fields matter to
the event feed.
"""

from typing import List, NamedTuple, Optional


class Frame(NamedTuple):
    """One dispatched event: its ``id:`` (if any) and joined ``data:`` lines."""

    id: Optional[str]
    data: str


class FrameDecoder:
    """Feed it the stream's lines (without line endings); it returns a frame
    at each blank line that ends one with data. Comments (heartbeats) and
    frames without data return nothing."""

    def __init__(self) -> None:
        self._data: List[str] = []
        self._id: Optional[str] = None

    def feed(self, line: str) -> Optional[Frame]:
        if line == "":
            return self._dispatch()
        if line.startswith(":"):
            return None
        field, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if field == "data":
            self._data.append(value)
        elif field == "id" and "\0" not in value:
            self._id = value
        return None

    def _dispatch(self) -> Optional[Frame]:
        data, self._data = self._data, []
        frame_id, self._id = self._id, None
        if not data:
            return None
        return Frame(frame_id, "\n".join(data))
