"""A gateway started with a policy file: its rules answer at once."""

from typing import Iterator

import pytest

from assent_client import AsyncClient, Client, Rejected
from gateway import Gateway

POLICY = """
default = "ask"

[[rule]]
name = "reads"
effect = "allow"
action = "fs.read*"

[[rule]]
name = "no-force-push"
effect = "deny"
action = "shell"
command = ["git push --force*"]
reason = "force pushes are never allowed"
"""


@pytest.fixture(scope="module")
def policy_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    directory = tmp_path_factory.mktemp("policy")
    policy = directory / "policy.toml"
    policy.write_text(POLICY)
    gateway = Gateway(directory / "data", policy=policy)
    yield gateway
    gateway.stop()


@pytest.fixture
def client(policy_gateway: Gateway) -> Iterator[Client]:
    with Client(policy_gateway.url, policy_gateway.token("agent")) as client:
        yield client


def test_an_allow_rule_approves_at_once(client: Client) -> None:
    # No reviewer exists: only the policy can have answered.
    approval = client.request_and_wait("fs.read", {"path": "/etc/hosts"})
    assert approval["status"] == "approved"
    assert approval["rule"] == "reads"
    assert approval["decision"] is not None
    assert approval["decision"]["by"] == ["policy:reads"]
    assert approval["receipt"]
    assert client.check("fs.read.dir")["effect"] == "allow"


def test_a_deny_rule_raises_rejected_with_its_reason(client: Client) -> None:
    with pytest.raises(Rejected) as raised:
        client.request_and_wait("shell", {"command": "sudo git push --force origin main"})
    assert str(raised.value) == "rejected by policy:no-force-push: force pushes are never allowed"
    assert raised.value.approval["rule"] == "no-force-push"

    check = client.check("shell", {"command": "git push --force"})
    assert check == {
        "effect": "deny",
        "rule": "no-force-push",
        "reason": "force pushes are never allowed",
        "grant": None,
        "parts": [{"text": "git push --force", "redirects": []}],
    }


async def test_the_async_client_gets_the_same_answers(policy_gateway: Gateway) -> None:
    async with AsyncClient(policy_gateway.url, policy_gateway.token("agent")) as client:
        approval = await client.request_and_wait("fs.read", {"path": "/srv"})
        assert approval["decision"] is not None and approval["decision"]["by"] == ["policy:reads"]
        with pytest.raises(Rejected, match="force pushes are never allowed"):
            await client.request_and_wait("shell", {"command": "git push --force"})
