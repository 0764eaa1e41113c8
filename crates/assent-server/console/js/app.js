// Wires the console together: the session, the header, the screens (one per
// route), the event stream and the pending approvals, keyboard shortcuts.

import {api, onSessionEnded, useSession} from './api.js';
import {auditView} from './audit.js';
import {detailView} from './detail.js';
import {h, replace, toast} from './dom.js';
import {startClock} from './format.js';
import {grantsView} from './grants.js';
import {showHelp} from './help.js';
import {historyView} from './history.js';
import {insightsView} from './insights.js';
import {KeyboardHandler} from './keyboard.js';
import {Live} from './live.js';
import * as notify from './notify.js';
import {Pending} from './pending.js';
import {queueView} from './queue.js';
import {parse} from './router.js';
import {signInView} from './signin.js';

const RANK = {agent: 0, approver: 1, admin: 2};
const SCREENS = {
  queue: {view: queueView, role: 'agent'},
  detail: {view: detailView, role: 'agent', nav: 'queue'},
  history: {view: historyView, role: 'agent'},
  grants: {view: grantsView, role: 'approver'},
  audit: {view: auditView, role: 'admin'},
  insights: {view: insightsView, role: 'approver'},
};
const LIVE_WORDS = {live: 'Live', connecting: 'Connecting…', reconnecting: 'Reconnecting…', off: 'Offline'};

const main = document.getElementById('main');
const header = document.getElementById('top');
const keyboard = new KeyboardHandler();
const live = new Live(checkSession);
const pending = new Pending(live);
let session = null;
let leave = null;
let screenTitle = 'Assent';
let expiryTimer = null;

const ctx = {
  keyboard,
  live,
  pending,
  get me() {
    return session?.principal ?? null;
  },
  can(role) {
    return session !== null && RANK[session.principal.role] >= RANK[role];
  },
  setTitle(title) {
    screenTitle = title;
    updateTitle();
  },
};

function updateTitle() {
  const n = session ? pending.count : 0;
  document.title = `${n > 0 ? `(${n}) ` : ''}${screenTitle} · Assent`;
  const badge = document.getElementById('pending-count');
  replace(badge, String(n), h('span', {class: 'sr-only'}, ' pending'));
  badge.hidden = n === 0;
}

/** True while the session is good; a 401 signs out (through the api hook). */
async function checkSession() {
  try {
    await api('GET', '/v1/session');
    return true;
  } catch (error) {
    return error.status !== 401;
  }
}

function signedIn(info) {
  session = info;
  useSession(info);
  header.hidden = false;
  replace(document.getElementById('me'), h('span', {class: 'me-name'}, info.principal.name),
    h('span', {class: 'me-role'}, info.principal.role));
  for (const link of header.querySelectorAll('[data-role]')) {
    link.closest('li').hidden = !ctx.can(link.dataset.role);
  }
  clearTimeout(expiryTimer);
  if (info.expires_at) {
    const ms = Date.parse(info.expires_at) - Date.now();
    expiryTimer = setTimeout(checkSession, Math.min(Math.max(ms + 250, 0), 2 ** 31 - 1));
  }
  live.start();
  pending.load();
  render();
}

/** Back to sign-in; the hash stays, so signing in again returns here. */
function signedOut(message) {
  if (leave) leave();
  leave = null;
  keyboard.clearView();
  session = null;
  useSession(null);
  clearTimeout(expiryTimer);
  live.stop();
  pending.stop();
  header.hidden = true;
  screenTitle = 'Sign in';
  updateTitle();
  signInView(main, {message, onSignedIn: signedIn});
}

function render() {
  if (!session) return;
  const route = parse();
  const screen = SCREENS[route.name];
  if (leave) leave();
  leave = null;
  keyboard.clearView();
  for (const link of header.querySelectorAll('nav a')) {
    const current = link.dataset.nav === (screen?.nav ?? route.name);
    if (current) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  if (!screen) {
    ctx.setTitle('Not found');
    replace(main, h('h1', {tabindex: '-1'}, 'Nothing here'),
      h('p', {}, 'This address is not a page of the console. ', h('a', {href: '#/queue'}, 'Go to the queue.')));
  } else if (!ctx.can(screen.role)) {
    ctx.setTitle('Not allowed');
    replace(main, h('h1', {tabindex: '-1'}, 'Not for your role'),
      h('p', {}, `This page needs the ${screen.role} role; you are signed in as ${session.principal.role}.`));
  } else {
    leave = screen.view(main, route, ctx) ?? null;
  }
  if (!main.contains(document.activeElement)) main.querySelector('h1')?.focus({preventScroll: true});
}

function wireHeader() {
  document.getElementById('sign-out').addEventListener('click', async () => {
    try {
      await api('DELETE', '/v1/session');
    } catch (error) {
      if (error.status !== 401) {
        toast(`Signing out failed: ${error.message}`);
        return;
      }
    }
    signedOut('You have signed out.');
  });
  const bell = document.getElementById('notify');
  const showBell = () => {
    const on = notify.enabled();
    bell.setAttribute('aria-pressed', String(on));
    bell.textContent = on ? 'Notifications on' : 'Notify me';
  };
  bell.hidden = !notify.supported();
  showBell();
  bell.addEventListener('click', async () => {
    await notify.toggle();
    showBell();
    toast(notify.enabled() ? 'You will be notified of new approvals while the console is in the background.'
      : 'Notifications are off.');
  });
  document.getElementById('help-open').addEventListener('click', showHelp);
  const state = document.getElementById('live-state');
  live.onState((s) => {
    state.textContent = LIVE_WORDS[s];
    state.dataset.state = s;
  });
}

function boot() {
  startClock();
  wireHeader();
  keyboard.on('?', showHelp);
  keyboard.on('/', () => document.querySelector('[data-search]')?.focus());
  onSessionEnded(() => {
    if (session) signedOut('Your session has ended. Sign in again to go on where you were.');
  });
  pending.subscribe((change) => {
    updateTitle();
    if (change.kind === 'added') notify.announce(change.approval);
  });
  window.addEventListener('hashchange', render);
  api('GET', '/v1/session').then(signedIn, (error) => {
    signedOut(error.status === 401 ? null : error.message);
  });
}

boot();
