import threading
import time
import uuid
from pathlib import Path
from typing import AsyncIterator, Callable, Iterator, Optional

import pytest

from assent_client import AsyncClient, Client
from assent_client.types import Approval
from gateway import Gateway


@pytest.fixture(scope="session")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    """One gateway shared by the tests that need no special configuration;
    each test makes its own tokens, so their approvals never mix."""
    gw = Gateway(tmp_path_factory.mktemp("gateway"))
    yield gw
    gw.stop()


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


class Named(Client):
    """A client that knows its principal's name and token."""

    def __init__(self, url: str, token: str, name: str) -> None:
        super().__init__(url, token)
        self.name = name
        self.token = token


def principal(gateway: Gateway, role: str, prefix: str) -> Named:
    name = unique(prefix)
    return Named(gateway.url, gateway.token(role, name=name), name)


@pytest.fixture
def agent(gateway: Gateway) -> Iterator[Named]:
    with principal(gateway, "agent", "ci-bot") as client:
        yield client


@pytest.fixture
def reviewer(gateway: Gateway) -> Iterator[Named]:
    with principal(gateway, "approver", "alice") as client:
        yield client


@pytest.fixture
async def async_agent(gateway: Gateway) -> AsyncIterator[AsyncClient]:
    async with AsyncClient(gateway.url, gateway.token("agent", name=unique("async-bot"))) as client:
        yield client


def pending_of(reviewer: Client, requester: str, timeout: float = 10.0) -> Approval:
    """The newest pending approval ``requester`` made, waiting for it to appear."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        page = reviewer.list(status="pending", requester=requester, limit=1)
        if page["items"]:
            return page["items"][0]
        time.sleep(0.02)
    raise AssertionError(f"no pending approval from {requester} appeared")


def in_background(fn: Callable[[], object]) -> "Background":
    background = Background(fn)
    background.start()
    return background


class Background(threading.Thread):
    """Runs ``fn`` in a thread and keeps its result or exception."""

    def __init__(self, fn: Callable[[], object]) -> None:
        super().__init__(daemon=True)
        self._fn = fn
        self.result: object = None
        self.error: Optional[BaseException] = None

    def run(self) -> None:
        try:
            self.result = self._fn()
        except BaseException as error:
            self.error = error

    def outcome(self, timeout: float = 30.0) -> object:
        self.join(timeout)
        assert not self.is_alive(), "the background call did not finish"
        if self.error is not None:
            raise self.error
        return self.result


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path
