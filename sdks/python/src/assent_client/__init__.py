"""Python SDK for the Assent approval gateway: ask before a sensitive action,
wait for a person's answer, and check the signed receipt before acting."""

from ._async_client import AsyncClient
from ._client import Client
from ._durations import Timeout
from ._exceptions import (
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    AssentError,
    AuthenticationError,
    BadRequestError,
    Cancelled,
    ConflictError,
    DecisionError,
    Expired,
    GoneError,
    InternalServerError,
    InvalidReceipt,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    RateLimitError,
    Rejected,
    UnprocessableEntityError,
)
from ._receipts import args_sha256, verify_receipt
from ._version import __version__
from .types import Approval, ApprovalList, CheckResult, Event, Jwks, Problem, ReceiptClaims

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIStatusError",
    "APITimeoutError",
    "Approval",
    "ApprovalList",
    "AssentError",
    "AsyncClient",
    "AuthenticationError",
    "BadRequestError",
    "Cancelled",
    "CheckResult",
    "Client",
    "ConflictError",
    "DecisionError",
    "Event",
    "Expired",
    "GoneError",
    "InternalServerError",
    "InvalidReceipt",
    "Jwks",
    "NotFoundError",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "Problem",
    "RateLimitError",
    "ReceiptClaims",
    "Rejected",
    "Timeout",
    "UnprocessableEntityError",
    "__version__",
    "args_sha256",
    "verify_receipt",
]
