"""The gateway's JSON documents as typed dictionaries.

Approvals, events and the rest are returned as the plain ``dict`` the gateway
sent, with the API's own field names; these ``TypedDict`` classes only tell a
type checker what is in them. Each class is named after the schema of the same
name in the gateway's ``/openapi.json``, and the test suite checks every field
here against that document: a field the document calls nullable is
``Optional`` here even where the gateway leaves it out instead.

Written with ``typing.Dict``/``Optional`` rather than ``dict[...]``/``X | None``
so that the annotations evaluate on Python 3.9.
"""

from typing import Any, Dict, List, Literal, Optional, TypedDict

Status = Literal["pending", "approved", "rejected", "expired", "cancelled"]
StatusFilter = Literal["pending", "approved", "rejected", "expired", "cancelled", "all"]
Risk = Literal["low", "medium", "high", "critical"]
Verdict = Literal["approve", "reject"]
Scope = Literal["once", "session", "timeboxed"]
GrantMatch = Literal["exact", "action", "command"]
Effect = Literal["allow", "ask", "deny"]
EventType = Literal[
    "approval.requested",
    "approval.reviewed",
    "approval.approved",
    "approval.rejected",
    "approval.expired",
    "approval.cancelled",
    "approval.escalated",
    "grant.created",
    "grant.revoked",
    "policy.reloaded",
    "token.created",
    "token.revoked",
]


class QuorumStage(TypedDict):
    """One stage of a quorum: ``min`` approvals from members of ``group``."""

    group: str
    min: int
    approved_by: List[str]


class Redirect(TypedDict):
    """One redirection of a shell command: ``op`` as written (``>``,
    ``2>&``), its ``target``, and whether it writes to a file."""

    op: str
    target: str
    writes_file: bool


class CommandPart(TypedDict):
    """One simple command of a shell line, as the policy saw it."""

    text: str
    redirects: List[Redirect]


class _ReviewRequired(TypedDict):
    principal: str
    decision: Verdict
    scope: Scope
    grant_match: GrantMatch
    at: str


class Review(_ReviewRequired, total=False):
    """One principal's review of an approval."""

    reason: Optional[str]
    ttl_seconds: Optional[int]
    command_prefix: Optional[str]
    self_review: bool


class Decision(TypedDict):
    """How a terminal approval was decided: ``by`` names principals, or
    ``policy:<rule>``, ``grant:<id>``, ``system:expiry``."""

    status: Status
    by: List[str]
    reason: Optional[str]
    scope: Optional[Scope]
    at: str


class _ApprovalRequired(TypedDict):
    id: str
    status: Status
    action: str
    args: Dict[str, Any]
    summary: Optional[str]
    context: Dict[str, Any]
    risk: Risk
    requester: str
    session_id: Optional[str]
    run_id: Optional[str]
    labels: Dict[str, str]
    rule: Optional[str]
    quorum: List[QuorumStage]
    reviews: List[Review]
    decision: Optional[Decision]
    created_at: str
    expires_at: str
    decided_at: Optional[str]
    receipt: Optional[str]


class Approval(_ApprovalRequired, total=False):
    """One request for permission to perform one action."""

    escalate_at: Optional[str]
    escalated: bool
    allow_self_review: bool


class ApprovalList(TypedDict):
    """A page of approvals, newest first; pass ``next_cursor`` as ``cursor``."""

    items: List[Approval]
    next_cursor: Optional[str]


class _CreateApprovalRequired(TypedDict):
    action: str


class CreateApproval(_CreateApprovalRequired, total=False):
    """The body of ``POST /v1/approvals`` and ``POST /v1/check``."""

    args: Dict[str, Any]
    summary: str
    context: Dict[str, Any]
    risk: Risk
    session_id: str
    run_id: str
    labels: Dict[str, str]
    timeout_seconds: int


class _ReviewRequestRequired(TypedDict):
    decision: Verdict


class ReviewRequest(_ReviewRequestRequired, total=False):
    """The body of ``POST /v1/approvals/{id}/reviews``."""

    reason: str
    scope: Scope
    ttl_seconds: int
    grant_match: GrantMatch
    command_prefix: str


class _CheckResultRequired(TypedDict):
    effect: Effect
    rule: Optional[str]
    reason: Optional[str]
    grant: Optional[str]


class CheckResult(_CheckResultRequired, total=False):
    """What the policy (or a grant) would answer, without recording anything;
    for a shell command, the ``parts`` the policy saw."""

    parts: Optional[List[CommandPart]]


class _EventRequired(TypedDict):
    seq: int
    type: EventType
    at: str
    actor: str
    data: Dict[str, Any]
    prev_hash: str
    hash: str


class Event(_EventRequired, total=False):
    """One entry of the event log (and audit chain)."""

    approval_id: Optional[str]


class ReceiptClaims(TypedDict):
    """What an approval's receipt says, once its signature checks out."""

    iss: str
    sub: str
    act: str
    args_sha256: str
    scope: Scope
    iat: int
    exp: int
    jti: str


class _JwkRequired(TypedDict):
    kty: str
    crv: str
    x: str
    kid: str


class Jwk(_JwkRequired, total=False):
    """One Ed25519 public key (an OKP JWK)."""

    alg: Optional[str]
    use: Optional[str]


class Jwks(TypedDict):
    """The gateway's signing keys, from ``/.well-known/jwks.json``."""

    keys: List[Jwk]


class Problem(TypedDict, total=False):
    """An RFC 9457 problem document: every error answer's body."""

    type: str
    title: str
    status: int
    detail: str
