// What a chosen scope covers, in plain words, before the reviewer commits.

import {h} from './dom.js';
import {duration, printable, when} from './format.js';

/** Grant durations offered for `timeboxed`, in seconds. */
export const TTLS = [900, 3600, 4 * 3600, 8 * 3600, 24 * 3600, 7 * 86400];
/** How long a session grant lives after the session's last request. */
const SESSION_QUIET = '24 h';

/** `choice` is {scope, ttlSeconds, anyArgs}. */
export function scopeWords(approval, choice) {
  const action = h('code', {}, printable(approval.action));
  const args = choice.anyArgs ? 'any args' : 'these exact args';
  if (choice.scope === 'once') {
    return ['Approves or rejects ', h('strong', {}, 'this request only'), '. The next ', action.cloneNode(true),
      ' request asks again.'];
  }
  if (choice.scope === 'session') {
    return ['Approves (or rejects) ', action, ` with ${args} for session `, h('code', {}, printable(approval.session_id)),
      ` for ${SESSION_QUIET}: later requests like it in that session are answered the same way until the session has been quiet for ${SESSION_QUIET}.`];
  }
  const until = new Date(Date.now() + choice.ttlSeconds * 1000).toISOString();
  return ['Approves (or rejects) ', action, ` with ${args} from any session for ${duration(choice.ttlSeconds)}`,
    ` (until ${when(until)}): requests like it are answered the same way without asking anyone.`];
}
