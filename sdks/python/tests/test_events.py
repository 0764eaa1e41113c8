"""``events()``: the event feed, resumed after reconnects without gaps or repeats."""

import signal
from pathlib import Path
from typing import Any, Dict, Iterator, List

import httpx
import pytest

from assent_client import AsyncClient
from assent_client.types import Event
from conftest import Named, principal
from gateway import Gateway, free_port


def audit(gateway: Gateway) -> List[Dict[str, Any]]:
    response = httpx.get(
        f"{gateway.url}/v1/audit", params={"limit": 10000}, headers={"Authorization": f"Bearer {gateway.admin_token}"}
    )
    response.raise_for_status()
    items: List[Dict[str, Any]] = response.json()["items"]
    return items


def read_until(stream: Iterator[Event], seq: int, into: List[Event]) -> None:
    for event in stream:
        into.append(event)
        if event["seq"] >= seq:
            return


@pytest.fixture
def fixed_port_gateway(tmp_path: Path) -> Iterator[Gateway]:
    gateway = Gateway(tmp_path, port=free_port())
    yield gateway
    gateway.stop()


def test_the_stream_resumes_after_a_restart_without_gaps_or_repeats(fixed_port_gateway: Gateway) -> None:
    gateway = fixed_port_gateway
    with principal(gateway, "approver", "watcher") as watcher, principal(gateway, "agent", "bot") as agent:
        stream = watcher.events(after=0)
        seen: List[Event] = []
        before = [agent.request("deploy", {"n": n}) for n in range(3)]
        read_until(stream, audit(gateway)[-1]["seq"], seen)
        assert seen[-1]["approval_id"] == before[-1]["id"]

        gateway.restart(signal.SIGKILL)
        after = [agent.request("deploy", {"n": n}) for n in range(3, 6)]
        watcher.approve(after[0]["id"])
        agent.cancel(after[1]["id"])

        log = audit(gateway)
        read_until(stream, log[-1]["seq"], seen)
        stream.close()

    assert [e["seq"] for e in seen] == list(range(1, len(log) + 1))
    assert [(e["seq"], e["type"], e["hash"]) for e in seen] == [(e["seq"], e["type"], e["hash"]) for e in log]
    assert [e["type"] for e in seen[-3:]] == ["approval.reviewed", "approval.approved", "approval.cancelled"]


def test_after_and_types_choose_where_the_stream_starts_and_what_it_carries(agent: Named, reviewer: Named) -> None:
    first = agent.request("deploy", {"env": "a"})
    second = agent.request("deploy", {"env": "b"})
    agent.cancel(second["id"])

    mine = agent.events(after=0)
    requested = next(mine)
    assert requested["type"] == "approval.requested"
    assert requested["approval_id"] == first["id"]
    assert requested["data"]["approval"]["args"] == {"env": "a"}
    following = next(mine)
    assert following["seq"] > requested["seq"]
    assert following["approval_id"] == second["id"]
    mine.close()

    resumed = agent.events(after=requested["seq"])
    assert next(resumed)["seq"] == following["seq"]
    resumed.close()

    cancellations = agent.events(after=0, types=["approval.cancelled"])
    cancelled = next(cancellations)
    assert (cancelled["type"], cancelled["approval_id"]) == ("approval.cancelled", second["id"])
    cancellations.close()


async def test_the_async_stream_yields_the_same_events(gateway: Gateway, agent: Named) -> None:
    made = [agent.request("deploy", {"n": n})["id"] for n in range(3)]
    async with AsyncClient(gateway.url, gateway.admin_token) as admin:
        ids: List[str] = []
        stream = admin.events(after=0, types=["approval.requested"])
        async for event in stream:
            if event.get("approval_id") in made:
                ids.append(event["approval_id"])
            if len(ids) == len(made):
                break
        await stream.aclose()
    assert ids == made
