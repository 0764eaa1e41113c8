/**
 * Everything the client throws, in one hierarchy to catch at the level you need:
 *
 * - `AssentError`
 *   - `AssentApiError`: an error answer, with `status` and the RFC 9457 `problem`;
 *     one subclass per status (`BadRequestError`, `NotFoundError`, `ConflictError`, …)
 *   - `AssentConnectionError` → `AssentTimeoutError`: no answer
 *   - `DecisionError`: the approval ended without being approved —
 *     `RejectedError`, `ExpiredError`, `CancelledError`, each with the `approval`
 *   - `InvalidReceiptError`: a receipt does not allow what is about to run
 */

import type { Approval, Problem } from "./types.js";

export class AssentError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The gateway answered with an error status; `problem` is its RFC 9457 body. */
export class AssentApiError extends AssentError {
  readonly status: number;
  readonly problem: Problem;

  constructor(status: number, problem: Problem, statusText = "") {
    const title = problem.title ?? statusText;
    super(`${status} ${title}${problem.detail ? `: ${problem.detail}` : ""}`.trim());
    this.status = status;
    this.problem = problem;
  }
}

/** 400: a malformed or invalid field; `problem.detail` names it. */
export class BadRequestError extends AssentApiError {}
/** 401: no token, or one the gateway does not accept. */
export class AuthenticationError extends AssentApiError {}
/** 403: this principal may not do that (role, separation of duties, quorum group). */
export class PermissionDeniedError extends AssentApiError {}
/** 404: no such approval (or another agent's). */
export class NotFoundError extends AssentApiError {}
/** 409: already decided, already reviewed by you, or a receipt already spent. */
export class ConflictError extends AssentApiError {}
/** 410: the approval expired before this review. */
export class GoneError extends AssentApiError {}
/** 413: the body is over the gateway's limit. */
export class PayloadTooLargeError extends AssentApiError {}
/** 422: an idempotency key reused with a different body. */
export class UnprocessableEntityError extends AssentApiError {}
/** 429: too many requests (or failed authentications). */
export class RateLimitError extends AssentApiError {}
/** 5xx: the gateway (or a proxy before it) failed. */
export class InternalServerError extends AssentApiError {}

const BY_STATUS: Record<number, typeof AssentApiError> = {
  400: BadRequestError,
  401: AuthenticationError,
  403: PermissionDeniedError,
  404: NotFoundError,
  409: ConflictError,
  410: GoneError,
  413: PayloadTooLargeError,
  422: UnprocessableEntityError,
  429: RateLimitError,
};

/** The error for an error answer. */
export function apiError(status: number, problem: Problem, statusText: string): AssentApiError {
  const Class = status >= 500 ? InternalServerError : (BY_STATUS[status] ?? AssentApiError);
  return new Class(status, problem, statusText);
}

/** The gateway could not be reached, or the connection broke. */
export class AssentConnectionError extends AssentError {}

/** The gateway did not answer in time. */
export class AssentTimeoutError extends AssentConnectionError {}

/**
 * The approval ended without being approved. `approval` is the approval as
 * the gateway returned it; `by` and `reason` say who decided and why.
 */
export class DecisionError extends AssentError {
  readonly approval: Approval;
  readonly by: string[];
  readonly reason: string | null;

  constructor(approval: Approval) {
    super(describeDecision(approval));
    this.approval = approval;
    this.by = approval.decision ? [...approval.decision.by] : [];
    this.reason = approval.decision?.reason ?? null;
  }
}

/** A reviewer, the policy or a deny grant said no. */
export class RejectedError extends DecisionError {}
/** Nobody decided before the approval's deadline. */
export class ExpiredError extends DecisionError {}
/** The requester or an admin withdrew the approval. */
export class CancelledError extends DecisionError {}

/** "rejected by alice: freeze week", "expired: nobody decided by …". */
export function describeDecision(approval: Approval): string {
  const decision = approval.decision;
  if (!decision) return approval.status;
  if (approval.status === "expired") return `expired: nobody decided by ${approval.expires_at}`;
  const text = `${approval.status} by ${decision.by.join(", ")}`;
  return decision.reason ? `${text}: ${decision.reason}` : text;
}

/** The approval when approved; otherwise the `DecisionError` its status calls for. */
export function approvedOrThrow(approval: Approval): Approval {
  switch (approval.status) {
    case "approved":
      return approval;
    case "rejected":
      throw new RejectedError(approval);
    case "expired":
      throw new ExpiredError(approval);
    case "cancelled":
      throw new CancelledError(approval);
    case "pending":
      throw new AssentError(`approval ${approval.id} is still pending`);
  }
}

/**
 * The receipt does not allow this action with these args; `reason` uses the
 * gateway's own words (`bad signature`, `expired`, `the receipt is for other args`, …).
 */
export class InvalidReceiptError extends AssentError {
  readonly reason: string;

  constructor(reason: string) {
    super(reason);
    this.reason = reason;
  }
}
