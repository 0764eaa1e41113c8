// The pending approvals the signed-in principal can see, kept current from
// the event stream: the queue draws them, the tab title and the nav count
// them, notifications announce new ones.

import {api} from './api.js';
import {DECIDED} from './live.js';

const PAGE = 500;

export class Pending {
  constructor(live) {
    this.live = live;
    this.items = new Map();
    this.listeners = new Set();
    this.loaded = false;
    this.more = false;
    this.error = null;
  }

  /** `listener(change)`; change is {kind: 'load'|'added'|'updated'|'removed', approval?, event?}. */
  subscribe(listener) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Loads the list once the stream is open, applying what arrived meanwhile in order. */
  async load() {
    const buffered = [];
    let buffering = true;
    this.unsubscribe?.();
    this.unsubscribe = this.live.subscribe((event) => (buffering ? buffered.push(event) : this.apply(event)));
    try {
      await this.live.ready;
      const page = await api('GET', `/v1/approvals?status=pending&limit=${PAGE}`);
      this.items = new Map(page.items.map((a) => [a.id, a]));
      this.more = page.next_cursor !== null;
      this.error = null;
    } catch (error) {
      this.error = error;
    }
    this.loaded = true;
    buffering = false;
    this.emit({kind: 'load'});
    for (const event of buffered) this.apply(event);
  }

  stop() {
    this.unsubscribe?.();
    this.items.clear();
    this.loaded = false;
  }

  get count() {
    return this.items.size;
  }

  /** Newest first, like the API lists them. */
  list() {
    return [...this.items.values()].sort((a, b) => (a.id < b.id ? 1 : -1));
  }

  async apply(event) {
    const id = event.approval_id;
    if (!id) return;
    if (event.type === 'approval.requested') {
      const approval = event.data?.approval;
      if (approval?.status === 'pending' && !this.items.has(id)) {
        this.items.set(id, approval);
        this.emit({kind: 'added', approval, event});
      }
    } else if (DECIDED.has(event.type)) {
      const approval = this.items.get(id);
      if (this.items.delete(id)) this.emit({kind: 'removed', approval, event});
    } else if (event.type === 'approval.reviewed' || event.type === 'approval.escalated') {
      if (!this.items.has(id)) return;
      try {
        const approval = await api('GET', `/v1/approvals/${id}`);
        if (approval.status === 'pending' && this.items.has(id)) {
          this.items.set(id, approval);
          this.emit({kind: 'updated', approval, event});
        }
      } catch {
        // The next event or reload brings it back in line.
      }
    }
  }

  emit(change) {
    for (const listener of this.listeners) listener(change);
  }
}
