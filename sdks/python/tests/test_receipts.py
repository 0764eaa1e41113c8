"""Offline receipt verification against the gateway's JWKS and its own
``args_sha256`` claims."""

import base64
import json
from pathlib import Path
from typing import Any, Dict, Iterator, Tuple

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from assent_client import InvalidReceipt, args_sha256, verify_receipt
from assent_client.types import Approval
from conftest import Named, in_background, pending_of, principal
from gateway import Gateway

ARGS: Dict[str, Any] = {
    "service": "billing",
    "env": "prod",
    "replicas": 3,
    "ratio": 0.1,
    "big": 1e21,
    "small": 1e-7,
    "negative_zero": -0.0,
    "nested": {"z": [1, 2.5, None, True], "a": {"é": '\u2028 \x1f "quoted" \\ 😀'}},
    "€": "key order by UTF-16 code units",
    "\U0001f600": "astral key",
    "\uff5a": "fullwidth key",
}


def approved(agent: Named, reviewer: Named, action: str, args: Dict[str, Any]) -> Approval:
    waiting = in_background(lambda: agent.request_and_wait(action, args))
    reviewer.approve(pending_of(reviewer, agent.name)["id"])
    approval = waiting.outcome()
    assert isinstance(approval, dict)
    return approval  # type: ignore[return-value]


@pytest.fixture(scope="module")
def receipt_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    gateway = Gateway(tmp_path_factory.mktemp("receipts"))
    yield gateway
    gateway.stop()


@pytest.fixture(scope="module")
def issued(receipt_gateway: Gateway) -> Iterator[Tuple[Named, str]]:
    """An agent client and the receipt of its approved ``deploy`` with ``ARGS``."""
    with principal(receipt_gateway, "agent", "bot") as agent, principal(receipt_gateway, "approver", "alice") as alice:
        approval = approved(agent, alice, "deploy", ARGS)
        assert approval["receipt"] is not None
        yield agent, approval["receipt"]


def test_the_exact_call_is_accepted(issued: Tuple[Named, str]) -> None:
    agent, receipt = issued
    claims = agent.verify_receipt(receipt, "deploy", ARGS)
    assert claims["act"] == "deploy"
    assert claims["scope"] == "once"
    assert claims["exp"] > claims["iat"]
    assert claims["args_sha256"] == args_sha256(ARGS)
    reordered = dict(reversed(list(ARGS.items())))
    assert agent.verify_receipt(receipt, "deploy", reordered) == claims


def test_the_sdk_hashes_args_as_the_gateway_does(issued: Tuple[Named, str]) -> None:
    receipt = issued[1]
    payload = receipt.split(".")[1]
    signed = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert signed["args_sha256"] == args_sha256(ARGS)


def test_changed_args_another_action_and_a_forged_signature_are_refused(issued: Tuple[Named, str]) -> None:
    agent, receipt = issued
    with pytest.raises(InvalidReceipt) as other_args:
        agent.verify_receipt(receipt, "deploy", {**ARGS, "env": "staging"})
    assert other_args.value.reason == "the receipt is for other args"

    with pytest.raises(InvalidReceipt) as other_action:
        agent.verify_receipt(receipt, "deploy.rollback", ARGS)
    assert other_action.value.reason == "the receipt is for another action"

    header = jwt.get_unverified_header(receipt)
    claims = jwt.decode(receipt, options={"verify_signature": False})
    forged = jwt.encode(claims, Ed25519PrivateKey.generate(), algorithm="EdDSA", headers={"kid": header["kid"]})
    with pytest.raises(InvalidReceipt) as bad_signature:
        agent.verify_receipt(forged, "deploy", ARGS)
    assert bad_signature.value.reason == "bad signature"

    head, _, signature = receipt.split(".")
    widened = dict(claims, act="deploy.anything")
    tampered_payload = base64.urlsafe_b64encode(json.dumps(widened).encode()).rstrip(b"=").decode()
    with pytest.raises(InvalidReceipt, match="bad signature"):
        agent.verify_receipt(f"{head}.{tampered_payload}.{signature}", "deploy.anything", ARGS)

    unknown_key = jwt.encode(claims, Ed25519PrivateKey.generate(), algorithm="EdDSA", headers={"kid": "elsewhere"})
    with pytest.raises(InvalidReceipt, match="unknown key id 'elsewhere'"):
        agent.verify_receipt(unknown_key, "deploy", ARGS)

    with pytest.raises(InvalidReceipt, match="malformed receipt"):
        agent.verify_receipt("not.a.receipt", "deploy", ARGS)


def test_verification_is_offline_once_the_keys_are_fetched(tmp_path: Path) -> None:
    gateway = Gateway(tmp_path)
    try:
        with principal(gateway, "agent", "bot") as agent, principal(gateway, "approver", "bob") as bob:
            approval = approved(agent, bob, "db.migrate", {"db": "main"})
            assert approval["receipt"] is not None
            jwks = agent.jwks()
            agent.verify_receipt(approval["receipt"], "db.migrate", {"db": "main"})

            gateway.stop()
            claims = agent.verify_receipt(approval["receipt"], "db.migrate", {"db": "main"})
            assert claims["sub"] == approval["id"]
            assert verify_receipt(approval["receipt"], jwks, "db.migrate", {"db": "main"})["jti"] == approval["id"]
    finally:
        gateway.stop()
