/**
 * TypeScript SDK for the Assent approval gateway: ask before a sensitive
 * action, wait for a person's answer, and check the signed receipt before
 * acting. No runtime dependencies beyond `fetch` and WebCrypto.
 */

export {
  AssentClient,
  type CheckOptions,
  type ClientOptions,
  type EventsOptions,
  type GateOptions,
  type ListOptions,
  type RequestOptions,
  type ReviewOptions,
  VERSION,
} from "./client.js";
export type { Timeout } from "./duration.js";
export {
  AssentApiError,
  AssentConnectionError,
  AssentError,
  AssentTimeoutError,
  AuthenticationError,
  BadRequestError,
  CancelledError,
  ConflictError,
  DecisionError,
  ExpiredError,
  GoneError,
  InternalServerError,
  InvalidReceiptError,
  NotFoundError,
  PayloadTooLargeError,
  PermissionDeniedError,
  RateLimitError,
  RejectedError,
  UnprocessableEntityError,
} from "./errors.js";
export { canonicalize } from "./jcs.js";
export { argsSha256, verifyReceipt } from "./receipts.js";
export type * from "./types.js";
