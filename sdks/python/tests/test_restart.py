"""``request_and_wait`` rides out a gateway restart in the middle of its wait."""

import asyncio
import signal
import time
from pathlib import Path
from typing import Iterator

import pytest

from assent_client import AsyncClient
from conftest import in_background, pending_of, principal, unique
from gateway import Gateway, free_port


@pytest.fixture
def fixed_port_gateway(tmp_path: Path) -> Iterator[Gateway]:
    gateway = Gateway(tmp_path, port=free_port())
    yield gateway
    gateway.stop()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["graceful-shutdown", "killed"])
def test_request_and_wait_returns_the_decision_made_after_a_restart(fixed_port_gateway: Gateway, sig: int) -> None:
    gateway = fixed_port_gateway
    with principal(gateway, "agent", "bot") as agent, principal(gateway, "approver", "alice") as reviewer:
        waiting = in_background(lambda: agent.request_and_wait("deploy", {"env": "prod"}, timeout="10m"))
        pending = pending_of(reviewer, agent.name)
        time.sleep(0.3)  # let the waiter's long-poll reach the gateway before it goes away

        gateway.restart(sig)
        reviewer.approve(pending["id"], reason="after the restart")

        approved = waiting.outcome()
        assert isinstance(approved, dict)
        assert approved["id"] == pending["id"]
        assert approved["status"] == "approved"
        assert approved["decision"] is not None
        assert approved["decision"]["reason"] == "after the restart"


async def test_the_async_client_rides_out_a_restart_too(fixed_port_gateway: Gateway) -> None:
    gateway = fixed_port_gateway
    name = unique("async-bot")
    with principal(gateway, "approver", "alice") as reviewer:
        async with AsyncClient(gateway.url, gateway.token("agent", name=name)) as agent:
            task = asyncio.ensure_future(agent.request_and_wait("deploy", {"env": "prod"}))
            pending = await asyncio.to_thread(pending_of, reviewer, name)
            await asyncio.sleep(0.3)

            await asyncio.to_thread(gateway.restart, signal.SIGKILL)
            reviewer.reject(pending["id"], reason="still frozen")

            with pytest.raises(Exception) as raised:
                await asyncio.wait_for(task, 30)
            assert str(raised.value) == f"rejected by {reviewer.name}: still frozen"
