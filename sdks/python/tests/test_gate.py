"""``gate``: the function runs only when approved, and its arguments are the args."""

import asyncio
from typing import Any, Dict, List

import pytest

from assent_client import AsyncClient, Rejected
from conftest import Named, in_background, pending_of, unique
from gateway import Gateway


def test_a_gated_function_runs_once_approved_with_its_arguments_as_args(agent: Named, reviewer: Named) -> None:
    calls: List[Dict[str, Any]] = []

    @agent.gate("deploy", summary="Deploy a service", timeout="5m")
    def deploy(service: str, env: str = "staging", *, replicas: int = 1, **extra: Any) -> str:
        calls.append({"service": service, "env": env, "replicas": replicas, **extra})
        return f"deployed {service} to {env}"

    assert deploy.__name__ == "deploy"
    running = in_background(lambda: deploy("billing", replicas=3, canary=True))
    pending = pending_of(reviewer, agent.name)
    assert pending["action"] == "deploy"
    assert pending["summary"] == "Deploy a service"
    assert pending["args"] == {"service": "billing", "env": "staging", "replicas": 3, "canary": True}
    assert calls == []

    reviewer.approve(pending["id"])
    assert running.outcome() == "deployed billing to staging"
    assert calls == [{"service": "billing", "env": "staging", "replicas": 3, "canary": True}]


def test_a_rejected_call_never_runs_the_function(agent: Named, reviewer: Named) -> None:
    calls: List[str] = []

    @agent.gate("shell")
    def run(command: str) -> None:
        calls.append(command)

    running = in_background(lambda: run("rm -rf /tmp/cache"))
    pending = pending_of(reviewer, agent.name)
    assert pending["args"] == {"command": "rm -rf /tmp/cache"}
    reviewer.reject(pending["id"], reason="not today")
    with pytest.raises(Rejected, match="not today"):
        running.outcome()
    assert calls == []


def test_methods_leave_self_out_of_the_args(agent: Named, reviewer: Named) -> None:
    class Deployer:
        @agent.gate("deploy")
        def deploy(self, service: str) -> str:
            return service

    running = in_background(lambda: Deployer().deploy("search"))
    pending = pending_of(reviewer, agent.name)
    assert pending["args"] == {"service": "search"}
    reviewer.approve(pending["id"])
    assert running.outcome() == "search"


def test_arguments_that_are_not_json_are_refused_before_asking(agent: Named) -> None:
    @agent.gate("upload")
    def upload(payload: object) -> None:
        raise AssertionError("must not run")

    with pytest.raises(TypeError, match="'payload' cannot be sent as JSON"):
        upload(object())
    assert agent.list(action="upload")["items"] == []


async def test_the_blocking_client_gates_async_functions_too(agent: Named, reviewer: Named) -> None:
    @agent.gate("index.rebuild")
    async def rebuild(index: str) -> str:
        await asyncio.sleep(0)
        return f"rebuilt {index}"

    task = asyncio.ensure_future(rebuild("products"))
    pending = await asyncio.to_thread(pending_of, reviewer, agent.name)
    assert pending["args"] == {"index": "products"}
    reviewer.approve(pending["id"])
    assert await asyncio.wait_for(task, 30) == "rebuilt products"


async def test_the_async_client_gates_async_functions(gateway: Gateway, reviewer: Named) -> None:
    name = unique("async-gate-bot")
    async with AsyncClient(gateway.url, gateway.token("agent", name=name)) as client:
        calls: List[int] = []

        @client.gate("cache.flush", summary="Flush")
        async def flush(region: str, depth: int = 2) -> int:
            calls.append(depth)
            return depth

        task = asyncio.ensure_future(flush("eu"))
        pending = await asyncio.to_thread(pending_of, reviewer, name)
        assert pending["args"] == {"region": "eu", "depth": 2}
        assert calls == []
        reviewer.approve(pending["id"])
        assert await asyncio.wait_for(task, 30) == 2
        assert calls == [2]

        with pytest.raises(TypeError, match="wraps async functions"):

            @client.gate("sync")
            def plain() -> None:
                pass
