"""What ``Client`` and ``AsyncClient`` share: configuration, request bodies,
reading answers into dictionaries or exceptions, and the retry rules."""

import inspect
import json
import math
import os
import time
from datetime import datetime, timezone
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple, Union
from urllib.parse import quote

import httpx

from ._durations import Timeout, seconds, whole_seconds
from ._exceptions import (
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    AssentError,
    InternalServerError,
    decision_error,
    status_error_class,
)
from ._version import __version__
from .types import Approval, CreateApproval, GrantMatch, Jwks, Problem, ReviewRequest, Risk, Scope, Verdict

DEFAULT_URL = "http://127.0.0.1:8470"

REQUEST_TIMEOUT = 30.0
"""How long an ordinary (not long-polling) request may take, in seconds."""

MAX_LONG_POLL = 300.0
"""The longest wait the gateway holds one long-poll open for."""

LONG_POLL_GRACE = 30.0
"""Added to a long-poll's wait for its read timeout, so a slow answer at the
end of the wait is not mistaken for a dead gateway."""

RECONNECT_WINDOW = 60.0
"""How long an outage a create in ``request_and_wait`` rides out, and at
least how long a wait does."""

EVENTS_SILENCE = 45.0
"""The gateway sends an event-stream heartbeat every 15 s; this much silence
means the connection is dead."""

JWKS_REFRESH = 300.0
"""A receipt naming a key the cached JWKS lacks refetches it at most this often (s)."""

Params = httpx.QueryParams


def resolve_url(url: Optional[str]) -> str:
    base = url or os.environ.get("ASSENT_URL") or DEFAULT_URL
    return base.rstrip("/")


def resolve_token(token: Optional[str]) -> str:
    resolved = token or os.environ.get("ASSENT_TOKEN")
    if not resolved:
        raise AssentError("no token: pass token=... or set ASSENT_TOKEN")
    return resolved


def default_headers(token: str) -> Dict[str, str]:
    return {
        "Authorization": f"Bearer {token}",
        "User-Agent": f"assent-client-python/{__version__}",
        "Accept": "application/json",
    }


def approval_path(approval_id: str, *rest: str) -> str:
    return "/".join(["/v1/approvals", quote(approval_id, safe=""), *rest])


def create_body(
    action: str,
    args: Optional[Mapping[str, Any]],
    *,
    summary: Optional[str],
    context: Optional[Mapping[str, Any]],
    session_id: Optional[str],
    run_id: Optional[str],
    labels: Optional[Mapping[str, str]],
    timeout: Optional[Timeout],
    risk: Optional[Risk],
) -> CreateApproval:
    body: CreateApproval = {"action": action, "args": dict(args or {})}
    if summary is not None:
        body["summary"] = summary
    if context is not None:
        body["context"] = dict(context)
    if session_id is not None:
        body["session_id"] = session_id
    if run_id is not None:
        body["run_id"] = run_id
    if labels is not None:
        body["labels"] = dict(labels)
    if timeout is not None:
        body["timeout_seconds"] = whole_seconds(timeout)
    if risk is not None:
        body["risk"] = risk
    return body


def review_body(
    decision: Verdict,
    *,
    reason: Optional[str],
    scope: Optional[Scope],
    ttl: Optional[Timeout],
    grant_match: Optional[GrantMatch],
    command_prefix: Optional[str],
) -> ReviewRequest:
    body: ReviewRequest = {"decision": decision}
    if reason is not None:
        body["reason"] = reason
    if scope is not None:
        body["scope"] = scope
    if ttl is not None:
        body["ttl_seconds"] = whole_seconds(ttl)
    if grant_match is not None:
        body["grant_match"] = grant_match
    if command_prefix is not None:
        body["command_prefix"] = command_prefix
    return body


def list_params(
    *,
    status: Optional[str],
    action: Optional[str],
    requester: Optional[str],
    session_id: Optional[str],
    run_id: Optional[str],
    labels: Optional[Mapping[str, str]],
    limit: Optional[int],
    cursor: Optional[str],
) -> Params:
    params: List[Tuple[str, Union[str, int, float, bool, None]]] = []
    for name, value in (
        ("status", status),
        ("action", action),
        ("requester", requester),
        ("session_id", session_id),
        ("run_id", run_id),
        ("cursor", cursor),
    ):
        if value is not None:
            params.append((name, value))
    for key, value in (labels or {}).items():
        params.append(("label", f"{key}:{value}"))
    if limit is not None:
        params.append(("limit", str(limit)))
    return httpx.QueryParams(params)


def events_request(after: Optional[int], types: Optional[Sequence[str]]) -> Tuple[Params, Dict[str, str]]:
    """The query and headers that open the event stream after seq ``after``."""
    params = httpx.QueryParams([("types", ",".join(types))] if types else [])
    headers = {"Accept": "text/event-stream"}
    if after is not None:
        headers["Last-Event-ID"] = str(after)
    return params, headers


def long_poll_params(wait: float) -> Params:
    return httpx.QueryParams([("wait", f"{max(0, math.floor(wait * 1000))}ms")])


def long_poll_timeout(wait: float) -> httpx.Timeout:
    return httpx.Timeout(REQUEST_TIMEOUT, read=wait + LONG_POLL_GRACE)


def events_timeout() -> httpx.Timeout:
    return httpx.Timeout(REQUEST_TIMEOUT, read=EVENTS_SILENCE)


def transport_error(error: httpx.TransportError, url: str) -> APIConnectionError:
    """The SDK's exception for a request that got no answer."""
    request = _request_of(error)
    if isinstance(error, httpx.TimeoutException):
        return APITimeoutError(f"the gateway at {url} did not answer in time", request=request)
    return APIConnectionError(f"could not reach the gateway at {url}: {error}", request=request)


def _request_of(error: httpx.RequestError) -> Optional[httpx.Request]:
    try:
        return error.request
    except RuntimeError:
        return None


def status_error(response: httpx.Response) -> APIStatusError:
    """The exception for an error answer, carrying its problem document."""
    problem = _problem(response)
    title = problem.get("title") or response.reason_phrase or "error"
    detail = problem.get("detail")
    message = f"{response.status_code} {title}" + (f": {detail}" if detail else "")
    return status_error_class(response.status_code)(message, response=response, problem=problem)


def _problem(response: httpx.Response) -> Problem:
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        problem: Problem = {}
        if isinstance(body.get("type"), str):
            problem["type"] = body["type"]
        if isinstance(body.get("title"), str):
            problem["title"] = body["title"]
        if isinstance(body.get("detail"), str):
            problem["detail"] = body["detail"]
        problem["status"] = response.status_code
        return problem
    text = response.text.strip()
    return {"status": response.status_code, "detail": text[:500]} if text else {"status": response.status_code}


def json_body(response: httpx.Response) -> Any:
    """A success answer's JSON, or ``APIError`` when it is not JSON."""
    try:
        return response.json()
    except ValueError as error:
        raise APIError(f"unexpected answer from the gateway: {error}", request=response.request) from error


def is_transient(error: APIError) -> bool:
    """Whether retrying may help: no answer, or a gateway restarting or behind
    a proxy that could not reach it."""
    if isinstance(error, APIConnectionError):
        return True
    return isinstance(error, InternalServerError) and error.status_code in (502, 503, 504)


def approved_or_raise(approval: Approval) -> Approval:
    """The approval when approved; ``Rejected``, ``Expired`` or ``Cancelled``
    when it ended otherwise."""
    if approval["status"] == "approved":
        return approval
    raise decision_error(approval)


class Backoff:
    """Capped exponential pauses between retries: 0.1 s doubling up to 2 s."""

    FIRST = 0.1
    CAP = 2.0

    def __init__(self) -> None:
        self._next = self.FIRST

    def next_pause(self) -> float:
        pause = self._next
        self._next = min(pause * 2, self.CAP)
        return pause

    def reset(self) -> None:
        self._next = self.FIRST


class WaitClock:
    """When a wait gives up. With a timeout: at its deadline. Without one:
    once an outage has lasted ``RECONNECT_WINDOW`` and the approval's own
    expiry (plus that window) has passed, since no answer can come after it."""

    def __init__(self, timeout: Optional[Timeout]) -> None:
        self.deadline: Optional[float] = None if timeout is None else time.monotonic() + seconds(timeout)
        self._expires: Optional[float] = None
        self._outage_since: Optional[float] = None

    def next_poll(self) -> float:
        """The wait to ask the gateway for."""
        if self.deadline is None:
            return MAX_LONG_POLL
        return max(0.0, min(self.deadline - time.monotonic(), MAX_LONG_POLL))

    def seen(self, approval: Approval) -> bool:
        """Records an answer; true when the wait is over."""
        self._outage_since = None
        self._expires = _monotonic_at(approval["expires_at"])
        if approval["status"] != "pending":
            return True
        return self.deadline is not None and time.monotonic() >= self.deadline

    def pause_before_retry(self, backoff: Backoff) -> Optional[float]:
        """How long to sleep before retrying after a transient failure; None
        when it is time to give up."""
        now = time.monotonic()
        if self._outage_since is None:
            self._outage_since = now
        if self.deadline is not None:
            give_up = self.deadline
        else:
            give_up = self._outage_since + RECONNECT_WINDOW
            if self._expires is not None:
                give_up = max(give_up, self._expires + RECONNECT_WINDOW)
        if now >= give_up:
            return None
        return min(backoff.next_pause(), give_up - now)


def _monotonic_at(timestamp: str) -> float:
    """The monotonic clock reading at an RFC 3339 wall-clock time."""
    return time.monotonic() + (parse_timestamp(timestamp) - datetime.now(timezone.utc)).total_seconds()


def parse_timestamp(text: str) -> datetime:
    """An RFC 3339 timestamp as the gateway writes it (``Z`` or an offset,
    any number of fraction digits), on Python 3.9's ``fromisoformat`` too."""
    text = text.replace("Z", "+00:00").replace("z", "+00:00")
    head, dot, rest = text.partition(".")
    if dot:
        digits = len(rest) - len(rest.lstrip("0123456789"))
        fraction, zone = rest[:digits], rest[digits:]
        text = f"{head}.{(fraction + '000000')[:6]}{zone}"
    return datetime.fromisoformat(text)


def bound_arguments(
    fn: Callable[..., Any], args: Sequence[Any], kwargs: Mapping[str, Any], action: str
) -> Dict[str, Any]:
    """A call's arguments by parameter name, defaults applied, as ``gate``
    sends them: ``**kwargs`` merged in, ``*args`` as a list, and a method's
    ``self``/``cls`` left out."""
    signature = inspect.signature(fn)
    bound = signature.bind(*args, **kwargs)
    bound.apply_defaults()
    result: Dict[str, Any] = {}
    for position, (name, value) in enumerate(bound.arguments.items()):
        kind = signature.parameters[name].kind
        if position == 0 and name in ("self", "cls"):
            continue
        if kind is inspect.Parameter.VAR_KEYWORD:
            result.update(value)
        elif kind is inspect.Parameter.VAR_POSITIONAL:
            result[name] = list(value)
        else:
            result[name] = value
    for name, value in result.items():
        try:
            json.dumps(value, allow_nan=False)
        except (TypeError, ValueError) as error:
            raise TypeError(f"gate({action!r}): argument {name!r} cannot be sent as JSON: {error}") from error
    return result


def has_key(jwks: Jwks, kid: Optional[str]) -> bool:
    return any(key.get("kid") == kid for key in jwks["keys"])
