"""Everything the SDK raises, in one hierarchy to catch at the level you need.

``AssentError``
  ``APIError`` — talking to the gateway failed
    ``APIConnectionError`` → ``APITimeoutError``: no answer
    ``APIStatusError``: an error answer, one subclass per status, carrying
    the RFC 9457 problem document
  ``DecisionError`` — the approval ended without being approved:
  ``Rejected``, ``Expired``, ``Cancelled``, each carrying the approval
  ``InvalidReceipt`` — a receipt does not allow what is about to run
"""

from typing import Dict, List, Optional, Type

import httpx

from .types import Approval, Problem


class AssentError(Exception):
    """The base of every error this SDK raises."""


class APIError(AssentError):
    """A call to the gateway did not succeed."""

    def __init__(self, message: str, *, request: Optional[httpx.Request] = None) -> None:
        super().__init__(message)
        self.message = message
        self.request = request


class APIConnectionError(APIError):
    """The gateway could not be reached, or the connection broke."""

    def __init__(
        self, message: str = "could not reach the gateway", *, request: Optional[httpx.Request] = None
    ) -> None:
        super().__init__(message, request=request)


class APITimeoutError(APIConnectionError):
    """The gateway did not answer in time."""

    def __init__(
        self, message: str = "the gateway did not answer in time", *, request: Optional[httpx.Request] = None
    ) -> None:
        super().__init__(message, request=request)


class APIStatusError(APIError):
    """The gateway answered with an error status; ``problem`` is its RFC 9457
    body (``type``, ``title``, ``status``, ``detail``)."""

    status_code: int

    def __init__(self, message: str, *, response: httpx.Response, problem: Problem) -> None:
        super().__init__(message, request=response.request)
        self.response = response
        self.status_code = response.status_code
        self.problem = problem

    @property
    def type(self) -> Optional[str]:
        """The problem's stable ``type`` URI, e.g. ``urn:assent:problem:conflict``."""
        return self.problem.get("type")

    @property
    def detail(self) -> Optional[str]:
        return self.problem.get("detail")


class BadRequestError(APIStatusError):
    """400: a malformed or invalid field; ``detail`` names it."""


class AuthenticationError(APIStatusError):
    """401: no token, or one the gateway does not accept."""


class PermissionDeniedError(APIStatusError):
    """403: this principal may not do that (role, separation of duties, quorum group)."""


class NotFoundError(APIStatusError):
    """404: no such approval (or another agent's)."""


class ConflictError(APIStatusError):
    """409: already decided, already reviewed by you, or a receipt already spent."""


class GoneError(APIStatusError):
    """410: the approval expired before this review."""


class PayloadTooLargeError(APIStatusError):
    """413: the body is over the gateway's limit."""


class UnprocessableEntityError(APIStatusError):
    """422: an ``Idempotency-Key`` reused with a different body."""


class RateLimitError(APIStatusError):
    """429: too many requests (or failed authentications)."""


class InternalServerError(APIStatusError):
    """5xx: the gateway (or a proxy before it) failed."""


_BY_STATUS: Dict[int, Type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    410: GoneError,
    413: PayloadTooLargeError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def status_error_class(status: int) -> Type[APIStatusError]:
    """The exception class for an error status."""
    if status >= 500:
        return InternalServerError
    return _BY_STATUS.get(status, APIStatusError)


class DecisionError(AssentError):
    """The approval ended without being approved. ``approval`` is the approval
    as the gateway returned it; ``by`` and ``reason`` say who decided and why."""

    def __init__(self, approval: Approval) -> None:
        self.approval = approval
        decision = approval.get("decision")
        self.by: List[str] = list(decision["by"]) if decision else []
        self.reason: Optional[str] = decision["reason"] if decision else None
        super().__init__(describe_decision(approval))


class Rejected(DecisionError):
    """A reviewer, the policy or a deny grant said no."""


class Expired(DecisionError):
    """Nobody decided before the approval's deadline."""


class Cancelled(DecisionError):
    """The requester or an admin withdrew the approval."""


class InvalidReceipt(AssentError):
    """The receipt does not allow this action with these args; ``reason``
    uses the gateway's own words (``bad signature``, ``expired``, ``the
    receipt is for other args``, …)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def describe_decision(approval: Approval) -> str:
    """ "rejected by alice: freeze week", "expired: nobody decided by …"."""
    status = approval["status"]
    decision = approval.get("decision")
    if decision is None:
        return status
    if status == "expired":
        text = f"expired: nobody decided by {approval['expires_at']}"
    else:
        text = f"{status} by {', '.join(decision['by'])}"
    reason = decision.get("reason")
    if reason and status != "expired":
        text += f": {reason}"
    return text


def decision_error(approval: Approval) -> DecisionError:
    """The exception for an approval that ended without being approved."""
    status = approval["status"]
    if status == "rejected":
        return Rejected(approval)
    if status == "expired":
        return Expired(approval)
    return Cancelled(approval)
