"""The blocking client."""

import asyncio
import functools
import inspect
import json
import time
import uuid
from typing import Any, Callable, Dict, Generator, Mapping, Optional, Sequence, TypeVar, cast

import httpx

from . import _base
from ._durations import Timeout
from ._exceptions import APIError
from ._receipts import key_id, verify_receipt
from ._sse import FrameDecoder
from .types import (
    Approval,
    ApprovalList,
    CheckResult,
    CreateApproval,
    Event,
    EventType,
    GrantMatch,
    Jwks,
    ReceiptClaims,
    Risk,
    Scope,
    StatusFilter,
    Verdict,
)

F = TypeVar("F", bound=Callable[..., Any])
_Self = TypeVar("_Self", bound="Client")


class Client:
    """A client of one Assent gateway, acting as the principal its token names.

    ``url`` and ``token`` default to ``ASSENT_URL`` (else
    ``http://127.0.0.1:8470``) and ``ASSENT_TOKEN``. Approvals come back as
    plain dictionaries with the API's field names. Use it as a context
    manager, or call ``close()``, to release its connections.
    """

    def __init__(self, url: Optional[str] = None, token: Optional[str] = None) -> None:
        self.base_url = _base.resolve_url(url)
        self._http = httpx.Client(
            base_url=self.base_url,
            headers=_base.default_headers(_base.resolve_token(token)),
            timeout=_base.REQUEST_TIMEOUT,
        )
        self._jwks: Optional[Jwks] = None
        self._jwks_fetched_at = 0.0

    def __enter__(self: _Self) -> _Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def request(
        self,
        action: str,
        args: Optional[Mapping[str, Any]] = None,
        *,
        summary: Optional[str] = None,
        context: Optional[Mapping[str, Any]] = None,
        session_id: Optional[str] = None,
        run_id: Optional[str] = None,
        labels: Optional[Mapping[str, str]] = None,
        timeout: Optional[Timeout] = None,
        risk: Optional[Risk] = None,
        idempotency_key: Optional[str] = None,
    ) -> Approval:
        """Asks for approval of ``action`` with ``args``. The answer is pending
        unless the policy or a grant decided at once. ``timeout`` (seconds or
        ``"10m"``) is how long reviewers have before it expires. A retry with
        the same ``idempotency_key`` and body returns the same approval."""
        body = _base.create_body(
            action,
            args,
            summary=summary,
            context=context,
            session_id=session_id,
            run_id=run_id,
            labels=labels,
            timeout=timeout,
            risk=risk,
        )
        return self._create(body, idempotency_key)

    def check(
        self,
        action: str,
        args: Optional[Mapping[str, Any]] = None,
        *,
        summary: Optional[str] = None,
        context: Optional[Mapping[str, Any]] = None,
        session_id: Optional[str] = None,
        run_id: Optional[str] = None,
        labels: Optional[Mapping[str, str]] = None,
        timeout: Optional[Timeout] = None,
        risk: Optional[Risk] = None,
    ) -> CheckResult:
        """What the policy (or a grant) would answer, without recording anything."""
        body = _base.create_body(
            action,
            args,
            summary=summary,
            context=context,
            session_id=session_id,
            run_id=run_id,
            labels=labels,
            timeout=timeout,
            risk=risk,
        )
        return cast(CheckResult, self._call("POST", "/v1/check", json=body))

    def get(self, id: str) -> Approval:
        return cast(Approval, self._call("GET", _base.approval_path(id)))

    def wait(self, id: str, timeout: Optional[Timeout] = None) -> Approval:
        """Waits until the approval is decided or ``timeout`` passes (None:
        until decided), and returns it as last seen — still pending if time
        ran out. Long-polls the gateway; while it is unreachable or
        restarting, retries with backoff."""
        return self._wait(id, _base.WaitClock(timeout))

    def request_and_wait(
        self,
        action: str,
        args: Optional[Mapping[str, Any]] = None,
        *,
        summary: Optional[str] = None,
        context: Optional[Mapping[str, Any]] = None,
        session_id: Optional[str] = None,
        run_id: Optional[str] = None,
        labels: Optional[Mapping[str, str]] = None,
        timeout: Optional[Timeout] = None,
        risk: Optional[Risk] = None,
        idempotency_key: Optional[str] = None,
    ) -> Approval:
        """Asks for approval and waits for the decision. Returns the approved
        approval (with its ``receipt``); raises ``Rejected``, ``Expired`` or
        ``Cancelled`` otherwise. Rides out a gateway restart: the create is
        retried under an idempotency key, the wait resumes its long-poll."""
        body = _base.create_body(
            action,
            args,
            summary=summary,
            context=context,
            session_id=session_id,
            run_id=run_id,
            labels=labels,
            timeout=timeout,
            risk=risk,
        )
        key = idempotency_key or str(uuid.uuid4())
        backoff = _base.Backoff()
        give_up = time.monotonic() + _base.RECONNECT_WINDOW
        while True:
            try:
                approval = self._create(body, key)
                break
            except APIError as error:
                if not _base.is_transient(error) or time.monotonic() >= give_up:
                    raise
                time.sleep(min(backoff.next_pause(), max(0.0, give_up - time.monotonic())))
        if approval["status"] == "pending":
            approval = self._wait(approval["id"], _base.WaitClock(None))
        return _base.approved_or_raise(approval)

    def review(
        self,
        id: str,
        decision: Verdict,
        *,
        reason: Optional[str] = None,
        scope: Optional[Scope] = None,
        ttl: Optional[Timeout] = None,
        grant_match: Optional[GrantMatch] = None,
        command_prefix: Optional[str] = None,
    ) -> Approval:
        """Records this principal's review (``"approve"`` or ``"reject"``).
        ``scope`` ``"session"``/``"timeboxed"`` (with ``ttl``) leaves a grant;
        ``grant_match="command"`` with ``command_prefix`` makes it cover later
        shell commands starting with that prefix."""
        body = _base.review_body(
            decision,
            reason=reason,
            scope=scope,
            ttl=ttl,
            grant_match=grant_match,
            command_prefix=command_prefix,
        )
        return cast(Approval, self._call("POST", _base.approval_path(id, "reviews"), json=body))

    def approve(self, id: str, *, reason: Optional[str] = None) -> Approval:
        """Approves once, the narrowest scope."""
        return self.review(id, "approve", reason=reason)

    def reject(self, id: str, *, reason: Optional[str] = None) -> Approval:
        return self.review(id, "reject", reason=reason)

    def cancel(self, id: str, *, reason: Optional[str] = None) -> Approval:
        """Withdraws a pending approval; only its requester or an admin may."""
        body = {} if reason is None else {"reason": reason}
        return cast(Approval, self._call("POST", _base.approval_path(id, "cancel"), json=body))

    def list(
        self,
        *,
        status: Optional[StatusFilter] = None,
        action: Optional[str] = None,
        requester: Optional[str] = None,
        session_id: Optional[str] = None,
        run_id: Optional[str] = None,
        labels: Optional[Mapping[str, str]] = None,
        limit: Optional[int] = None,
        cursor: Optional[str] = None,
    ) -> ApprovalList:
        """One page of approvals, newest first (agents see their own)."""
        params = _base.list_params(
            status=status,
            action=action,
            requester=requester,
            session_id=session_id,
            run_id=run_id,
            labels=labels,
            limit=limit,
            cursor=cursor,
        )
        return cast(ApprovalList, self._call("GET", "/v1/approvals", params=params))

    def events(
        self, *, after: Optional[int] = None, types: Optional[Sequence[EventType]] = None
    ) -> Generator[Event, None, None]:
        """Every event after seq ``after`` (None: from the next one), then live
        events as they happen, optionally only of ``types``. Reconnects on
        its own, resuming with ``Last-Event-ID`` after the last event it
        yielded, so none is missed or repeated. Runs until you stop iterating."""
        last = after
        backoff = _base.Backoff()
        while True:
            params, headers = _base.events_request(last, types)
            try:
                with self._http.stream(
                    "GET", "/v1/events", params=params, headers=headers, timeout=_base.events_timeout()
                ) as response:
                    if response.is_error:
                        response.read()
                        raise _base.status_error(response)
                    backoff.reset()
                    decoder = FrameDecoder()
                    for line in response.iter_lines():
                        frame = decoder.feed(line)
                        if frame is None:
                            continue
                        event = cast(Event, json.loads(frame.data))
                        if last is not None and event["seq"] <= last:
                            continue
                        last = event["seq"]
                        yield event
            except httpx.TransportError:
                pass
            except APIError as error:
                if not _base.is_transient(error):
                    raise
            time.sleep(backoff.next_pause())

    def jwks(self) -> Jwks:
        """The gateway's public signing keys (``/.well-known/jwks.json``)."""
        return cast(Jwks, self._call("GET", "/.well-known/jwks.json"))

    def verify_receipt(self, receipt: str, action: str, args: Optional[Mapping[str, Any]] = None) -> ReceiptClaims:
        """Checks offline that ``receipt`` allows exactly ``action`` with
        ``args`` now, against the gateway's JWKS (fetched once and cached;
        refetched when a receipt names a key it lacks). Returns the claims;
        raises ``InvalidReceipt``. Needs the ``receipts`` extra."""
        now = time.monotonic()
        stale = now - self._jwks_fetched_at >= _base.JWKS_REFRESH
        if self._jwks is None or (stale and not _base.has_key(self._jwks, key_id(receipt))):
            self._jwks = self.jwks()
            self._jwks_fetched_at = now
        return verify_receipt(receipt, self._jwks, action, args)

    def gate(
        self,
        action: str,
        *,
        summary: Optional[str] = None,
        context: Optional[Mapping[str, Any]] = None,
        session_id: Optional[str] = None,
        run_id: Optional[str] = None,
        labels: Optional[Mapping[str, str]] = None,
        timeout: Optional[Timeout] = None,
        risk: Optional[Risk] = None,
    ) -> Callable[[F], F]:
        """A decorator: each call of the function first asks for approval of
        ``action`` with the call's arguments (by parameter name) as ``args``,
        and runs the function only when approved; otherwise ``Rejected``,
        ``Expired`` or ``Cancelled`` is raised and the function never runs.
        Works on ``async def`` functions too (the wait then runs in a worker
        thread, leaving the event loop free)."""
        options: Dict[str, Any] = dict(
            summary=summary,
            context=context,
            session_id=session_id,
            run_id=run_id,
            labels=labels,
            timeout=timeout,
            risk=risk,
        )

        def decorate(fn: F) -> F:
            if inspect.iscoroutinefunction(fn):

                @functools.wraps(fn)
                async def run_async(*call_args: Any, **call_kwargs: Any) -> Any:
                    args = _base.bound_arguments(fn, call_args, call_kwargs, action)
                    await asyncio.to_thread(functools.partial(self.request_and_wait, action, args, **options))
                    return await fn(*call_args, **call_kwargs)

                return cast(F, run_async)

            @functools.wraps(fn)
            def run(*call_args: Any, **call_kwargs: Any) -> Any:
                args = _base.bound_arguments(fn, call_args, call_kwargs, action)
                self.request_and_wait(action, args, **options)
                return fn(*call_args, **call_kwargs)

            return cast(F, run)

        return decorate

    def _create(self, body: CreateApproval, idempotency_key: Optional[str]) -> Approval:
        headers = {} if idempotency_key is None else {"Idempotency-Key": idempotency_key}
        return cast(Approval, self._call("POST", "/v1/approvals", json=body, headers=headers))

    def _wait(self, id: str, clock: _base.WaitClock) -> Approval:
        backoff = _base.Backoff()
        last_seen: Optional[Approval] = None
        while True:
            poll = clock.next_poll()
            try:
                approval = cast(
                    Approval,
                    self._call(
                        "GET",
                        _base.approval_path(id),
                        params=_base.long_poll_params(poll),
                        timeout=_base.long_poll_timeout(poll),
                    ),
                )
            except APIError as error:
                if not _base.is_transient(error):
                    raise
                pause = clock.pause_before_retry(backoff)
                if pause is None:
                    if clock.deadline is not None and last_seen is not None:
                        return last_seen
                    raise
                time.sleep(pause)
                continue
            backoff.reset()
            if clock.seen(approval):
                return approval
            last_seen = approval

    def _call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Optional[_base.Params] = None,
        headers: Optional[Dict[str, str]] = None,
        timeout: Optional[httpx.Timeout] = None,
    ) -> Any:
        try:
            response = self._http.request(
                method,
                path,
                json=json,
                params=params,
                headers=headers,
                timeout=timeout if timeout is not None else httpx.USE_CLIENT_DEFAULT,
            )
        except httpx.TransportError as error:
            raise _base.transport_error(error, self.base_url) from error
        if response.is_error:
            raise _base.status_error(response)
        return _base.json_body(response)
