// The gateway's event stream (Server-Sent Events), shared by every screen.
// EventSource sends the session cookie and resumes with Last-Event-ID on
// its own; when the gateway refuses the stream, the session is checked and
// the stream reopened after the last event seen.

const TYPES = [
  'approval.requested', 'approval.reviewed', 'approval.approved', 'approval.rejected',
  'approval.expired', 'approval.cancelled', 'approval.escalated', 'grant.created',
  'grant.revoked', 'policy.reloaded', 'token.created', 'token.revoked',
];
const RETRY_MS = 2000;

export class Live {
  constructor(checkSession) {
    this.checkSession = checkSession;
    this.listeners = new Set();
    this.stateListeners = new Set();
    this.source = null;
    this.lastSeq = null;
    this.state = 'off';
    this.retry = null;
  }

  /** Resolves once the stream is open: nothing committed after that is missed. */
  start() {
    this.stop();
    this.ready = new Promise((resolve) => { this.resolveReady = resolve; });
    this.open();
    return this.ready;
  }

  stop() {
    clearTimeout(this.retry);
    this.source?.close();
    this.source = null;
    this.setState('off');
  }

  /** `listener(event)` for every event; returns the unsubscribe function. */
  subscribe(listener) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  onState(listener) {
    this.stateListeners.add(listener);
    listener(this.state);
  }

  open() {
    const url = this.lastSeq === null ? '/v1/events' : `/v1/events?after=${this.lastSeq}`;
    const source = new EventSource(url);
    this.source = source;
    this.setState('connecting');
    source.addEventListener('open', () => {
      this.setState('live');
      this.resolveReady?.();
    });
    source.addEventListener('error', () => {
      if (source !== this.source) return;
      if (source.readyState === EventSource.CLOSED) {
        this.setState('reconnecting');
        this.retry = setTimeout(() => this.reopen(), RETRY_MS);
      } else {
        this.setState('reconnecting');
      }
    });
    for (const type of TYPES) source.addEventListener(type, (message) => this.deliver(message));
  }

  async reopen() {
    if (!(await this.checkSession())) return;
    if (this.state !== 'off') this.open();
  }

  deliver(message) {
    const event = JSON.parse(message.data);
    this.lastSeq = event.seq;
    performance.mark(`assent:event:${event.seq}`);
    for (const listener of this.listeners) listener(event);
  }

  setState(state) {
    this.state = state;
    for (const listener of this.stateListeners) listener(state);
  }
}

export const DECIDED = new Set([
  'approval.approved', 'approval.rejected', 'approval.expired', 'approval.cancelled',
]);
