/**
 * The gateway's JSON documents, with the API's own field names. Each
 * interface is named after the schema of the same name in the gateway's
 * `/openapi.json`; the test suite checks every field here against that
 * document (through the compiler API over the emitted `.d.ts`). A field the
 * document calls nullable is `| null` here even where the gateway leaves it
 * out instead.
 */

export type Status = "pending" | "approved" | "rejected" | "expired" | "cancelled";
export type Risk = "low" | "medium" | "high" | "critical";
export type Verdict = "approve" | "reject";
export type Scope = "once" | "session" | "timeboxed";
export type GrantMatch = "exact" | "action" | "command";
export type Effect = "allow" | "ask" | "deny";
export type EventType =
  | "approval.requested"
  | "approval.reviewed"
  | "approval.approved"
  | "approval.rejected"
  | "approval.expired"
  | "approval.cancelled"
  | "approval.escalated"
  | "grant.created"
  | "grant.revoked"
  | "policy.reloaded"
  | "token.created"
  | "token.revoked";

/** A JSON object: an action's `args`, an approval's `context`. */
export type JsonObject = { [key: string]: unknown };

/** One stage of a quorum: `min` approvals from members of `group`. */
export interface QuorumStage {
  group: string;
  min: number;
  approved_by: string[];
}

/** One principal's review of an approval. */
export interface Review {
  principal: string;
  decision: Verdict;
  reason?: string | null;
  scope: Scope;
  ttl_seconds?: number | null;
  grant_match: GrantMatch;
  command_prefix?: string | null;
  self_review?: boolean;
  at: string;
}

/** How a terminal approval was decided: `by` names principals, or `policy:<rule>`, `grant:<id>`, `system:expiry`. */
export interface Decision {
  status: Status;
  by: string[];
  reason: string | null;
  scope: Scope | null;
  at: string;
}

/** One request for permission to perform one action. */
export interface Approval {
  id: string;
  status: Status;
  action: string;
  args: JsonObject;
  summary: string | null;
  context: JsonObject;
  risk: Risk;
  requester: string;
  session_id: string | null;
  run_id: string | null;
  labels: Record<string, string>;
  rule: string | null;
  quorum: QuorumStage[];
  reviews: Review[];
  decision: Decision | null;
  created_at: string;
  expires_at: string;
  decided_at: string | null;
  receipt: string | null;
  escalate_at?: string | null;
  escalated?: boolean;
  allow_self_review?: boolean;
}

/** A page of approvals, newest first; pass `next_cursor` as `cursor`. */
export interface ApprovalList {
  items: Approval[];
  next_cursor: string | null;
}

/** The body of `POST /v1/approvals` and `POST /v1/check`. */
export interface CreateApproval {
  action: string;
  args?: JsonObject;
  summary?: string;
  context?: JsonObject;
  risk?: Risk;
  session_id?: string;
  run_id?: string;
  labels?: Record<string, string>;
  timeout_seconds?: number;
}

/** The body of `POST /v1/approvals/{id}/reviews`. */
export interface ReviewRequest {
  decision: Verdict;
  reason?: string;
  scope?: Scope;
  ttl_seconds?: number;
  grant_match?: GrantMatch;
  command_prefix?: string;
}

/** One redirection of a shell command: `op` as written (`>`, `2>&`), its `target`, and whether it writes to a file. */
export interface Redirect {
  op: string;
  target: string;
  writes_file: boolean;
}

/** One simple command of a shell line, as the policy saw it. */
export interface CommandPart {
  text: string;
  redirects: Redirect[];
}

/** What the policy (or a grant) would answer, without recording anything; for a shell command, the `parts` the policy saw. */
export interface CheckResult {
  effect: Effect;
  rule: string | null;
  reason: string | null;
  grant: string | null;
  parts?: CommandPart[] | null;
}

/** One entry of the event log (and audit chain). */
export interface Event {
  seq: number;
  type: EventType;
  at: string;
  actor: string;
  approval_id?: string | null;
  data: JsonObject;
  prev_hash: string;
  hash: string;
}

/** What an approval's receipt says, once its signature checks out. */
export interface ReceiptClaims {
  iss: string;
  sub: string;
  act: string;
  args_sha256: string;
  scope: Scope;
  iat: number;
  exp: number;
  jti: string;
}

/** One Ed25519 public key (an OKP JWK). */
export interface Jwk {
  kty: string;
  crv: string;
  x: string;
  kid: string;
  alg?: string | null;
  use?: string | null;
}

/** The gateway's signing keys, from `/.well-known/jwks.json`. */
export interface Jwks {
  keys: Jwk[];
}

/** An RFC 9457 problem document: every error answer's body (the client fills in `status`). */
export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
}
