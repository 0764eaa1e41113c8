"""The approval lifecycle through the blocking client, against a real gateway."""

from datetime import timedelta

import pytest

from assent_client import (
    APIConnectionError,
    AssentError,
    AuthenticationError,
    BadRequestError,
    Cancelled,
    Client,
    ConflictError,
    Expired,
    NotFoundError,
    PermissionDeniedError,
    Rejected,
    UnprocessableEntityError,
)
from assent_client._base import parse_timestamp
from conftest import Named, in_background, pending_of, unique
from gateway import Gateway, free_port


def test_request_then_approve_returns_the_approved_approval(agent: Named, reviewer: Named) -> None:
    waiting = in_background(
        lambda: agent.request_and_wait(
            "deploy", {"service": "billing", "env": "prod"}, summary="Deploy billing", timeout="10m"
        )
    )
    pending = pending_of(reviewer, agent.name)
    assert pending["status"] == "pending"
    assert pending["args"] == {"service": "billing", "env": "prod"}
    assert pending["receipt"] is None
    reviewer.approve(pending["id"], reason="looks good")

    approved = waiting.outcome()
    assert isinstance(approved, dict)
    assert approved["id"] == pending["id"]
    assert approved["status"] == "approved"
    assert approved["decision"] is not None
    assert approved["decision"]["by"] == [reviewer.name]
    assert approved["decision"]["reason"] == "looks good"
    assert approved["receipt"]
    assert agent.get(pending["id"]) == approved


def test_a_rejection_raises_rejected_naming_the_reviewer_and_reason(agent: Named, reviewer: Named) -> None:
    waiting = in_background(lambda: agent.request_and_wait("deploy", {"env": "prod"}))
    pending = pending_of(reviewer, agent.name)
    reviewer.reject(pending["id"], reason="freeze week")

    with pytest.raises(Rejected) as raised:
        waiting.outcome()
    assert str(raised.value) == f"rejected by {reviewer.name}: freeze week"
    assert raised.value.by == [reviewer.name]
    assert raised.value.reason == "freeze week"
    assert raised.value.approval["id"] == pending["id"]
    assert raised.value.approval["status"] == "rejected"


def test_nobody_answering_raises_expired(agent: Named) -> None:
    with pytest.raises(Expired) as raised:
        agent.request_and_wait("deploy", {"env": "staging"}, timeout=1)
    approval = raised.value.approval
    assert approval["status"] == "expired"
    assert raised.value.by == ["system:expiry"]
    assert str(raised.value) == f"expired: nobody decided by {approval['expires_at']}"


def test_cancelling_ends_the_wait_with_cancelled(agent: Named, reviewer: Named) -> None:
    waiting = in_background(lambda: agent.request_and_wait("db.migrate", {"db": "main"}))
    pending = pending_of(reviewer, agent.name)
    cancelled = agent.cancel(pending["id"], reason="no longer needed")
    assert cancelled["status"] == "cancelled"

    with pytest.raises(Cancelled) as raised:
        waiting.outcome()
    assert str(raised.value) == f"cancelled by {agent.name}: no longer needed"

    with pytest.raises(ConflictError) as conflict:
        agent.cancel(pending["id"])
    assert conflict.value.status_code == 409
    assert conflict.value.problem["type"] == "urn:assent:problem:conflict"


def test_wait_with_a_timeout_returns_the_approval_still_pending(agent: Named) -> None:
    created = agent.request("deploy", {"env": "qa"})
    assert created["status"] == "pending"
    waited = agent.wait(created["id"], timeout="1s")
    assert waited["id"] == created["id"]
    assert waited["status"] == "pending"


def test_request_sends_every_field_and_timeouts_take_seconds_or_durations(agent: Named, reviewer: Named) -> None:
    session, run = unique("sess"), unique("run")
    created = agent.request(
        "billing.charge",
        {"amount": 12.5, "currency": "EUR"},
        summary="Charge a customer",
        context={"ticket": "T-1"},
        session_id=session,
        run_id=run,
        labels={"team": "payments"},
        timeout="10m",
        risk="high",
    )
    assert created["summary"] == "Charge a customer"
    assert created["context"] == {"ticket": "T-1"}
    assert (created["session_id"], created["run_id"]) == (session, run)
    assert created["labels"] == {"team": "payments"}
    assert created["risk"] == "high"
    lifetime = parse_timestamp(created["expires_at"]) - parse_timestamp(created["created_at"])
    assert lifetime == timedelta(minutes=10)

    numeric = agent.request("billing.charge", timeout=90)
    lifetime = parse_timestamp(numeric["expires_at"]) - parse_timestamp(numeric["created_at"])
    assert lifetime == timedelta(seconds=90)

    page = reviewer.list(session_id=session, labels={"team": "payments"}, status="pending")
    assert [a["id"] for a in page["items"]] == [created["id"]]
    assert page["next_cursor"] is None

    with pytest.raises(ValueError, match="not a duration"):
        agent.request("billing.charge", timeout="10 parsecs")


def test_list_pages_with_the_cursor(agent: Named) -> None:
    ids = [agent.request("page.test", {"n": n})["id"] for n in range(3)]
    first = agent.list(action="page.test", limit=2)
    assert [a["id"] for a in first["items"]] == ids[:0:-1]
    assert first["next_cursor"] is not None
    second = agent.list(action="page.test", limit=2, cursor=first["next_cursor"])
    assert [a["id"] for a in second["items"]] == ids[:1]


def test_check_answers_without_recording(agent: Named) -> None:
    result = agent.check("deploy", {"env": "prod"})
    assert result == {"effect": "ask", "rule": None, "reason": None, "grant": None}
    assert agent.list(action="deploy")["items"] == []


def test_the_same_idempotency_key_returns_the_same_approval(agent: Named) -> None:
    key = unique("key")
    first = agent.request("deploy", {"env": "prod"}, idempotency_key=key)
    again = agent.request("deploy", {"env": "prod"}, idempotency_key=key)
    assert again["id"] == first["id"]
    with pytest.raises(UnprocessableEntityError) as raised:
        agent.request("deploy", {"env": "dev"}, idempotency_key=key)
    assert raised.value.status_code == 422


def test_error_answers_become_typed_exceptions_carrying_the_problem(
    gateway: Gateway, agent: Named, reviewer: Named
) -> None:
    with pytest.raises(NotFoundError) as not_found:
        agent.get("0192f5c4-6f7a-7d3c-9a51-3c1f2b8e4d10")
    assert not_found.value.problem["status"] == 404
    assert not_found.value.type == "urn:assent:problem:not-found"

    with pytest.raises(BadRequestError) as bad:
        agent.request("rm -rf")
    assert bad.value.detail is not None and bad.value.detail.startswith("action:")
    assert str(bad.value).startswith("400 Bad Request: action:")

    mine = agent.request("deploy")
    with pytest.raises(PermissionDeniedError):
        agent.approve(mine["id"])

    with Client(gateway.url, "not-a-token") as stranger, pytest.raises(AuthenticationError) as unauthorized:
        stranger.list()
    assert unauthorized.value.status_code == 401

    reviewer.reject(mine["id"], reason="no")
    with pytest.raises(ConflictError):
        reviewer.approve(mine["id"])


def test_an_unreachable_gateway_is_a_connection_error() -> None:
    with Client(f"http://127.0.0.1:{free_port()}", "token") as client, pytest.raises(APIConnectionError):
        client.get("0192f5c4-6f7a-7d3c-9a51-3c1f2b8e4d10")


def test_url_and_token_default_from_the_environment(
    gateway: Gateway, agent: Named, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = gateway.token("agent")
    monkeypatch.setenv("ASSENT_URL", gateway.url)
    monkeypatch.setenv("ASSENT_TOKEN", token)
    with Client() as client:
        assert client.base_url == gateway.url
        assert client.request("env.test")["status"] == "pending"

    monkeypatch.delenv("ASSENT_TOKEN")
    with pytest.raises(AssentError, match="ASSENT_TOKEN"):
        Client()
