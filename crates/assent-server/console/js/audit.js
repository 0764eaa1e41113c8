// Audit: the event feed, newest first and live, and the hash chain
// verified in this browser from the first event to the newest.

import {api} from './api.js';
import {alertBox, h, problemText, replace} from './dom.js';
import {plural, printable, when} from './format.js';
import {jsonView} from './json_view.js';
import {approvalHref} from './router.js';
import {ChainVerifier, canVerify} from './chain.js';

const PAGE = 10000;
const KEEP = 1000;
const SHOW = 100;

function eventRow(event) {
  return h('li', {class: 'event', 'data-seq': event.seq},
    h('div', {class: 'event-head'},
      h('span', {class: 'seq'}, `#${event.seq}`),
      h('span', {class: 'type'}, event.type),
      h('span', {}, h('span', {class: 'label'}, 'by '), printable(event.actor)),
      h('time', {datetime: event.at}, when(event.at)),
      event.approval_id ? h('a', {href: approvalHref(event.approval_id)}, 'approval') : null),
    h('details', {},
      h('summary', {}, `Data and hashes of event ${event.seq}`),
      jsonView(event.data),
      h('p', {class: 'hash small'}, `prev ${event.prev_hash}`),
      h('p', {class: 'hash small'}, `hash ${event.hash}`)));
}

export function auditView(root, route, ctx) {
  ctx.setTitle('Audit');
  let alive = true;
  let verifier = null;
  let recent = [];
  let shown = SHOW;
  let buffered = [];
  let verifying = false;
  const chain = h('div', {class: 'chain', 'aria-live': 'polite'});
  const feed = h('ol', {class: 'events', 'aria-label': 'Events, newest first'});
  const more = h('button', {type: 'button', hidden: true}, 'Show older events');
  const again = h('button', {type: 'button'}, 'Verify again');

  const drawFeed = () => {
    replace(feed, recent.slice(-shown).reverse().map(eventRow));
    more.hidden = recent.length <= shown;
  };
  const drawChain = (progress) => {
    if (!canVerify()) {
      replace(chain, alertBox('This browser can verify the chain only on a secure page (https or localhost). '
        + 'Use assent audit export and assent audit verify instead.', 'warn'));
      return;
    }
    if (progress !== undefined) {
      replace(chain, h('p', {class: 'chain-state checking'}, h('span', {class: 'dot', 'aria-hidden': 'true'}),
        `Verifying… ${plural(progress, 'event')} checked`));
    } else if (verifier.broken) {
      replace(chain, h('p', {class: 'chain-state broken'}, h('span', {class: 'dot', 'aria-hidden': 'true'}),
        h('strong', {}, 'Chain broken '), `at event ${verifier.broken.seq}: ${verifier.broken.reason}.`),
      h('p', {class: 'muted small'}, `The ${plural(verifier.count, 'event')} before it verify.`));
    } else {
      replace(chain, h('p', {class: 'chain-state intact'}, h('span', {class: 'dot', 'aria-hidden': 'true'}),
        h('strong', {}, 'Chain intact: '), verifier.count
          ? `all ${plural(verifier.count, 'event')} (1 to ${verifier.seq}) link up and match their hashes.`
          : 'no events yet.'),
      verifier.count ? h('p', {class: 'hash small'}, `Head hash ${verifier.head}`) : null);
    }
  };
  const take = async (event) => {
    recent.push(event);
    if (recent.length > KEEP) recent = recent.slice(-KEEP);
    if (canVerify()) await verifier.add(event);
  };

  const verifyAll = async () => {
    verifying = true;
    verifier = new ChainVerifier();
    recent = [];
    buffered = [];
    let after = 0;
    try {
      for (;;) {
        const page = await api('GET', `/v1/audit?after=${after}&limit=${PAGE}`);
        if (!alive) return;
        for (const event of page.items) await take(event);
        after = page.items.at(-1)?.seq ?? after;
        drawChain(verifier.count);
        if (page.next_after === null) break;
      }
    } catch (error) {
      if (alive) replace(chain, alertBox(`The log could not be read: ${problemText(error)}`));
      verifying = false;
      return;
    }
    for (const event of buffered.filter((e) => e.seq > after)) await take(event);
    verifying = false;
    drawChain();
    drawFeed();
  };

  const stop = ctx.live.subscribe(async (event) => {
    if (verifying) {
      buffered.push(event);
      return;
    }
    if (recent.length && event.seq <= recent.at(-1).seq) return;
    await take(event);
    if (!alive) return;
    drawChain();
    feed.prepend(eventRow(event));
    if (feed.children.length > shown) feed.lastElementChild.remove();
  });
  more.addEventListener('click', () => {
    shown += SHOW;
    drawFeed();
  });
  again.addEventListener('click', () => verifyAll());

  replace(root,
    h('div', {class: 'page-head'}, h('div', {},
      h('h1', {tabindex: '-1'}, 'Audit'),
      h('p', {class: 'muted'}, 'Every change the gateway made, in order. Each event carries the hash of the one before, '
        + 'so an edited, removed or reordered event breaks the chain.'))),
    h('section', {class: 'panel', 'aria-labelledby': 'chain-title'},
      h('h2', {id: 'chain-title'}, 'Hash chain'), chain, again),
    h('section', {class: 'panel', 'aria-labelledby': 'feed-title'},
      h('h2', {id: 'feed-title'}, 'Events'), feed, more));
  replace(chain, h('p', {class: 'chain-state checking'}, 'Reading the log…'));
  verifyAll();
  return () => {
    alive = false;
    stop();
  };
}
