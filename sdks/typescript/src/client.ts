/** The client: one method per API call, the long-poll loop that waits out a
 * decision across gateway restarts, and the resumable event feed. */

import { seconds, type Timeout, wholeSeconds } from "./duration.js";
import {
  apiError,
  approvedOrThrow,
  AssentConnectionError,
  AssentError,
  AssentTimeoutError,
  InternalServerError,
} from "./errors.js";
import { webCrypto } from "./crypto.js";
import { receiptKeyId, verifyReceipt } from "./receipts.js";
import { FrameDecoder, LineSplitter } from "./sse.js";
import type {
  Approval,
  ApprovalList,
  CheckResult,
  CreateApproval,
  Event,
  EventType,
  GrantMatch,
  JsonObject,
  Jwks,
  Problem,
  ReceiptClaims,
  ReviewRequest,
  Risk,
  Scope,
  Status,
  Verdict,
} from "./types.js";

export const VERSION = "0.1.0";
const DEFAULT_URL = "http://127.0.0.1:8470";

/** How long an ordinary (not long-polling) request may take, in seconds. */
const REQUEST_TIMEOUT = 30;
/** The longest wait the gateway holds one long-poll open for. */
const MAX_LONG_POLL = 300;
/** Added to a long-poll's wait, so a slow answer at its end is not taken for a dead gateway. */
const LONG_POLL_GRACE = 30;
/** How long an outage a create in `requestAndWait` rides out, and at least how long a wait does. */
const RECONNECT_WINDOW = 60;
/** The event stream has a heartbeat every 15 s; this much silence means the connection is dead. */
const EVENTS_SILENCE = 45;
/** A receipt naming a key the cached JWKS lacks refetches it at most this often (seconds). */
const JWKS_REFRESH = 300;

export interface ClientOptions {
  /** The gateway's URL; default `ASSENT_URL`, else `http://127.0.0.1:8470`. */
  url?: string;
  /** The bearer token; default `ASSENT_TOKEN`. */
  token?: string;
  /** A `fetch` to use instead of the global one. */
  fetch?: typeof fetch;
}

/** What `request`, `check`, `requestAndWait` and `gate` send besides the action and args. */
export interface RequestOptions {
  summary?: string;
  context?: JsonObject;
  sessionId?: string;
  runId?: string;
  labels?: Record<string, string>;
  /** How long reviewers have before the approval expires: seconds, or `"30s"`, `"10m"`. */
  timeout?: Timeout;
  risk?: Risk;
  /** A retry with the same key and body returns the same approval. */
  idempotencyKey?: string;
}

export type CheckOptions = Omit<RequestOptions, "idempotencyKey">;
export type GateOptions = Omit<RequestOptions, "idempotencyKey">;

export interface ReviewOptions {
  reason?: string;
  scope?: Scope;
  /** The lifetime of a `timeboxed` grant. */
  ttl?: Timeout;
  grantMatch?: GrantMatch;
  /** With `grantMatch: "command"`: the words later shell commands must start with. */
  commandPrefix?: string;
}

export interface ListOptions {
  status?: Status | "all";
  action?: string;
  requester?: string;
  sessionId?: string;
  runId?: string;
  labels?: Record<string, string>;
  limit?: number;
  cursor?: string;
}

export interface EventsOptions {
  /** Start after this `seq`; default: with the next event. */
  after?: number;
  types?: EventType[];
  /** Ends the iteration when aborted. */
  signal?: AbortSignal;
}

interface Call {
  body?: unknown;
  query?: URLSearchParams;
  headers?: Record<string, string>;
  timeout?: number;
}

/** A client of one Assent gateway, acting as the principal its token names. */
export class AssentClient {
  readonly baseUrl: string;
  readonly #token: string;
  readonly #fetch: typeof fetch;
  #jwks: Jwks | undefined;
  #jwksFetchedAt = 0;

  constructor(options: ClientOptions = {}) {
    this.baseUrl = (options.url ?? environment("ASSENT_URL") ?? DEFAULT_URL).replace(/\/+$/, "");
    const token = options.token ?? environment("ASSENT_TOKEN");
    if (!token) throw new AssentError("no token: pass { token } or set ASSENT_TOKEN");
    this.#token = token;
    this.#fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  }

  /** Asks for approval. The answer is pending unless the policy or a grant decided at once. */
  async request(action: string, args: JsonObject = {}, options: RequestOptions = {}): Promise<Approval> {
    return this.#create(createBody(action, args, options), options.idempotencyKey);
  }

  /** What the policy (or a grant) would answer, without recording anything. */
  async check(action: string, args: JsonObject = {}, options: CheckOptions = {}): Promise<CheckResult> {
    return this.#call<CheckResult>("POST", "/v1/check", { body: createBody(action, args, options) });
  }

  async get(id: string): Promise<Approval> {
    return this.#call<Approval>("GET", approvalPath(id));
  }

  /**
   * Waits until the approval is decided or `timeout` passes (none: until
   * decided), and resolves to it as last seen — still pending if time ran
   * out. Long-polls; while the gateway is unreachable or restarting, retries
   * with backoff.
   */
  async wait(id: string, timeout?: Timeout): Promise<Approval> {
    return this.#wait(id, new WaitClock(timeout));
  }

  /**
   * Asks for approval and waits for the decision. Resolves to the approved
   * approval (with its `receipt`); rejects with `RejectedError`,
   * `ExpiredError` or `CancelledError` otherwise. Rides out a gateway
   * restart: the create is retried under an idempotency key, the wait
   * resumes its long-poll.
   */
  async requestAndWait(action: string, args: JsonObject = {}, options: RequestOptions = {}): Promise<Approval> {
    const body = createBody(action, args, options);
    const key = options.idempotencyKey ?? (await webCrypto()).randomUUID();
    const backoff = new Backoff();
    const giveUp = now() + RECONNECT_WINDOW;
    let approval: Approval;
    for (;;) {
      try {
        approval = await this.#create(body, key);
        break;
      } catch (error) {
        if (!isTransient(error) || now() >= giveUp) throw error;
        await sleep(Math.min(backoff.nextPause(), Math.max(0, giveUp - now())));
      }
    }
    if (approval.status === "pending") approval = await this.#wait(approval.id, new WaitClock(undefined));
    return approvedOrThrow(approval);
  }

  /** Records this principal's review. `scope` `session`/`timeboxed` (with `ttl`) leaves a grant. */
  async review(id: string, decision: Verdict, options: ReviewOptions = {}): Promise<Approval> {
    const body: ReviewRequest = { decision };
    if (options.reason !== undefined) body.reason = options.reason;
    if (options.scope !== undefined) body.scope = options.scope;
    if (options.ttl !== undefined) body.ttl_seconds = wholeSeconds(options.ttl);
    if (options.grantMatch !== undefined) body.grant_match = options.grantMatch;
    if (options.commandPrefix !== undefined) body.command_prefix = options.commandPrefix;
    return this.#call<Approval>("POST", approvalPath(id, "reviews"), { body });
  }

  /** Approves once, the narrowest scope. */
  async approve(id: string, options: { reason?: string } = {}): Promise<Approval> {
    return this.review(id, "approve", options);
  }

  async reject(id: string, options: { reason?: string } = {}): Promise<Approval> {
    return this.review(id, "reject", options);
  }

  /** Withdraws a pending approval; only its requester or an admin may. */
  async cancel(id: string, options: { reason?: string } = {}): Promise<Approval> {
    const body = options.reason === undefined ? {} : { reason: options.reason };
    return this.#call<Approval>("POST", approvalPath(id, "cancel"), { body });
  }

  /** One page of approvals, newest first (agents see their own). */
  async list(options: ListOptions = {}): Promise<ApprovalList> {
    const query = new URLSearchParams();
    const single: [string, string | number | undefined][] = [
      ["status", options.status],
      ["action", options.action],
      ["requester", options.requester],
      ["session_id", options.sessionId],
      ["run_id", options.runId],
      ["cursor", options.cursor],
      ["limit", options.limit],
    ];
    for (const [name, value] of single) if (value !== undefined) query.append(name, String(value));
    for (const [key, value] of Object.entries(options.labels ?? {})) query.append("label", `${key}:${value}`);
    return this.#call<ApprovalList>("GET", "/v1/approvals", { query });
  }

  /**
   * Every event after `after` (none: from the next one), then live events as
   * they happen, optionally only of `types`. Reconnects on its own, resuming
   * with `Last-Event-ID` after the last event it yielded, so none is missed
   * or repeated. Runs until you stop iterating or `signal` aborts.
   */
  async *events(options: EventsOptions = {}): AsyncGenerator<Event, void, undefined> {
    let last = options.after;
    const backoff = new Backoff();
    const query = new URLSearchParams();
    if (options.types?.length) query.set("types", options.types.join(","));
    while (!options.signal?.aborted) {
      const connection = new AbortController();
      const stop = (): void => connection.abort();
      options.signal?.addEventListener("abort", stop);
      let silence: ReturnType<typeof setTimeout> | undefined;
      const listen = (): void => {
        clearTimeout(silence);
        silence = setTimeout(stop, EVENTS_SILENCE * 1000);
      };
      try {
        const headers: Record<string, string> = { ...this.#headers(), Accept: "text/event-stream" };
        if (last !== undefined) headers["Last-Event-ID"] = String(last);
        listen();
        const response = await this.#fetch(this.#url("/v1/events", query), { headers, signal: connection.signal });
        if (!response.ok) {
          throw apiError(response.status, problemOf(response.status, await response.text()), response.statusText);
        }
        if (!response.body) throw new AssentConnectionError("the event stream has no body");
        backoff.reset();
        const reader = response.body.getReader();
        const text = new TextDecoder();
        const lines = new LineSplitter();
        const frames = new FrameDecoder();
        for (;;) {
          listen();
          const chunk = await reader.read();
          if (chunk.done) break;
          for (const line of lines.push(text.decode(chunk.value, { stream: true }))) {
            const frame = frames.feed(line);
            if (!frame) continue;
            const event = JSON.parse(frame.data) as Event;
            if (last !== undefined && event.seq <= last) continue;
            last = event.seq;
            clearTimeout(silence);
            yield event;
            if (options.signal?.aborted) return;
          }
        }
      } catch (error) {
        if (error instanceof AssentError && !isTransient(error)) throw error;
      } finally {
        clearTimeout(silence);
        connection.abort();
        options.signal?.removeEventListener("abort", stop);
      }
      if (!options.signal?.aborted) await sleep(backoff.nextPause());
    }
  }

  /** The gateway's public signing keys (`/.well-known/jwks.json`). */
  async jwks(): Promise<Jwks> {
    return this.#call<Jwks>("GET", "/.well-known/jwks.json");
  }

  /**
   * Checks offline that `receipt` allows exactly `action` with `args` now,
   * against the gateway's JWKS (fetched once and cached; refetched when a
   * receipt names a key it lacks). Resolves to the claims; rejects with
   * `InvalidReceiptError`.
   */
  async verifyReceipt(receipt: string, action: string, args: JsonObject = {}): Promise<ReceiptClaims> {
    const kid = receiptKeyId(receipt);
    const stale = now() - this.#jwksFetchedAt >= JWKS_REFRESH;
    if (!this.#jwks || (stale && !this.#jwks.keys.some((key) => key.kid === kid))) {
      this.#jwks = await this.jwks();
      this.#jwksFetchedAt = now();
    }
    return verifyReceipt(receipt, this.#jwks, action, args);
  }

  /**
   * Wraps `fn` so that each call first asks for approval of `action` with
   * the call's first argument (an object) as `args`, and runs `fn` only when
   * approved; otherwise the call rejects with `RejectedError`,
   * `ExpiredError` or `CancelledError` and `fn` never runs.
   */
  gate<A extends object, Rest extends unknown[], R>(
    action: string,
    fn: (args: A, ...rest: Rest) => R,
    options: GateOptions = {},
  ): (args: A, ...rest: Rest) => Promise<Awaited<R>> {
    const gated = async (args: A, ...rest: Rest): Promise<Awaited<R>> => {
      if (typeof args !== "object" || args === null || Array.isArray(args)) {
        throw new TypeError(`gate(${JSON.stringify(action)}): the first argument must be an object (the args)`);
      }
      await this.requestAndWait(action, args as JsonObject, options);
      return await fn(args, ...rest);
    };
    Object.defineProperty(gated, "name", { value: fn.name });
    return gated;
  }

  async #create(body: CreateApproval, idempotencyKey: string | undefined): Promise<Approval> {
    const headers: Record<string, string> = idempotencyKey === undefined ? {} : { "Idempotency-Key": idempotencyKey };
    return this.#call<Approval>("POST", "/v1/approvals", { body, headers });
  }

  async #wait(id: string, clock: WaitClock): Promise<Approval> {
    const backoff = new Backoff();
    let lastSeen: Approval | undefined;
    for (;;) {
      const poll = clock.nextPoll();
      const query = new URLSearchParams({ wait: `${Math.max(0, Math.floor(poll * 1000))}ms` });
      let approval: Approval;
      try {
        approval = await this.#call<Approval>("GET", approvalPath(id), { query, timeout: poll + LONG_POLL_GRACE });
      } catch (error) {
        if (!isTransient(error)) throw error;
        const pause = clock.pauseBeforeRetry(backoff);
        if (pause === undefined) {
          if (clock.deadline !== undefined && lastSeen) return lastSeen;
          throw error;
        }
        await sleep(pause);
        continue;
      }
      backoff.reset();
      if (clock.seen(approval)) return approval;
      lastSeen = approval;
    }
  }

  #headers(): Record<string, string> {
    return {
      Authorization: `Bearer ${this.#token}`,
      Accept: "application/json",
    };
  }

  #url(path: string, query?: URLSearchParams): string {
    const search = query?.toString();
    return `${this.baseUrl}${path}${search ? `?${search}` : ""}`;
  }

  async #call<T>(method: string, path: string, call: Call = {}): Promise<T> {
    const headers: Record<string, string> = { ...this.#headers(), ...call.headers };
    const init: RequestInit = {
      method,
      headers,
      signal: AbortSignal.timeout(Math.ceil((call.timeout ?? REQUEST_TIMEOUT) * 1000)),
    };
    if (call.body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(call.body);
    }
    let response: Response;
    let text: string;
    try {
      response = await this.#fetch(this.#url(path, call.query), init);
      text = await response.text();
    } catch (error) {
      throw connectionError(error, this.baseUrl);
    }
    if (!response.ok) throw apiError(response.status, problemOf(response.status, text), response.statusText);
    try {
      return JSON.parse(text) as T;
    } catch (error) {
      throw new AssentError(`unexpected answer from the gateway: ${String(error)}`, { cause: error });
    }
  }
}

/** An environment variable where the platform has them (Node, Bun, Deno); read only when needed, since Deno asks permission. */
function environment(name: string): string | undefined {
  const process = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process;
  try {
    return process?.env?.[name] || undefined;
  } catch {
    return undefined;
  }
}

function createBody(action: string, args: JsonObject, options: CheckOptions): CreateApproval {
  const body: CreateApproval = { action, args };
  if (options.summary !== undefined) body.summary = options.summary;
  if (options.context !== undefined) body.context = options.context;
  if (options.sessionId !== undefined) body.session_id = options.sessionId;
  if (options.runId !== undefined) body.run_id = options.runId;
  if (options.labels !== undefined) body.labels = options.labels;
  if (options.timeout !== undefined) body.timeout_seconds = wholeSeconds(options.timeout);
  if (options.risk !== undefined) body.risk = options.risk;
  return body;
}

function approvalPath(id: string, ...rest: string[]): string {
  return ["/v1/approvals", encodeURIComponent(id), ...rest].join("/");
}

function problemOf(status: number, text: string): Problem {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  const problem: Problem = { status };
  if (typeof body === "object" && body !== null) {
    const fields = body as Record<string, unknown>;
    if (typeof fields["type"] === "string") problem.type = fields["type"];
    if (typeof fields["title"] === "string") problem.title = fields["title"];
    if (typeof fields["detail"] === "string") problem.detail = fields["detail"];
  } else if (text.trim()) {
    problem.detail = text.trim().slice(0, 500);
  }
  return problem;
}

function connectionError(error: unknown, url: string): AssentConnectionError {
  if (error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError")) {
    return new AssentTimeoutError(`the gateway at ${url} did not answer in time`, { cause: error });
  }
  const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : "";
  return new AssentConnectionError(`could not reach the gateway at ${url}${cause}`, { cause: error });
}

/** Whether retrying may help: no answer, or a gateway restarting or behind a proxy that could not reach it. */
function isTransient(error: unknown): boolean {
  if (error instanceof AssentConnectionError) return true;
  return error instanceof InternalServerError && [502, 503, 504].includes(error.status);
}

/** Seconds on a monotonic clock. */
function now(): number {
  return performance.now() / 1000;
}

function sleep(secondsToSleep: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, secondsToSleep * 1000));
}

/** Capped exponential pauses between retries: 0.1 s doubling up to 2 s. */
class Backoff {
  #next = 0.1;

  nextPause(): number {
    const pause = this.#next;
    this.#next = Math.min(pause * 2, 2);
    return pause;
  }

  reset(): void {
    this.#next = 0.1;
  }
}

/**
 * When a wait gives up. With a timeout: at its deadline. Without one: once an
 * outage has lasted `RECONNECT_WINDOW` and the approval's own expiry (plus
 * that window) has passed, since no answer can come after it.
 */
class WaitClock {
  readonly deadline: number | undefined;
  #expires: number | undefined;
  #outageSince: number | undefined;

  constructor(timeout: Timeout | undefined) {
    this.deadline = timeout === undefined ? undefined : now() + seconds(timeout);
  }

  nextPoll(): number {
    if (this.deadline === undefined) return MAX_LONG_POLL;
    return Math.max(0, Math.min(this.deadline - now(), MAX_LONG_POLL));
  }

  /** Records an answer; true when the wait is over. */
  seen(approval: Approval): boolean {
    this.#outageSince = undefined;
    this.#expires = now() + (Date.parse(approval.expires_at) - Date.now()) / 1000;
    if (approval.status !== "pending") return true;
    return this.deadline !== undefined && now() >= this.deadline;
  }

  /** The pause before retrying after a transient failure; undefined when it is time to give up. */
  pauseBeforeRetry(backoff: Backoff): number | undefined {
    const at = now();
    this.#outageSince ??= at;
    let giveUp: number;
    if (this.deadline !== undefined) {
      giveUp = this.deadline;
    } else {
      giveUp = this.#outageSince + RECONNECT_WINDOW;
      if (this.#expires !== undefined) giveUp = Math.max(giveUp, this.#expires + RECONNECT_WINDOW);
    }
    if (at >= giveUp) return undefined;
    return Math.min(backoff.nextPause(), giveUp - at);
  }
}

