// One approval: everything in it, its timeline, and the decision.

import {api} from './api.js';
import {askedView, factsLine, quorumView, riskBadge, statusBadge} from './card.js';
import {alertBox, h, problemText, replace, toast} from './dom.js';
import {ago, duration, printable, titleCase, when} from './format.js';
import {jsonView} from './json_view.js';
import {TTLS, scopeWords} from './scope.js';

/** What the reviewer typed or chose, per approval: kept across re-renders
 *  and across signing in again after the session ended. */
const drafts = new Map();

const EVENT_WORDS = {
  'approval.requested': (e) => `Requested by ${e.actor}`,
  'approval.reviewed': (e) => `${e.actor} ${e.data?.review?.decision === 'reject' ? 'rejected' : 'approved'}`
    + `${e.data?.review?.scope && e.data.review.scope !== 'once' ? ` (scope ${e.data.review.scope})` : ''}`,
  'approval.approved': (e) => `Approved — decided by ${(e.data?.decision?.by ?? [e.actor]).join(', ')}`,
  'approval.rejected': (e) => `Rejected — decided by ${(e.data?.decision?.by ?? [e.actor]).join(', ')}`,
  'approval.expired': () => 'Expired: nobody decided in time',
  'approval.cancelled': (e) => `Cancelled by ${e.actor}`,
  'approval.escalated': () => 'Escalated: still pending after the rule\'s escalate_after',
  'grant.created': (e) => `Grant created by ${e.actor}: later requests like it are answered ${e.data?.grant?.effect === 'deny' ? 'no' : 'yes'} until ${when(e.data?.grant?.expires_at)}`,
  'grant.revoked': (e) => `Grant revoked by ${e.actor}`,
};

function decisionText(approval) {
  const d = approval.decision;
  if (!d) return titleCase(approval.status);
  if (approval.status === 'expired') return `Expired ${ago(d.at)}: nobody decided in time.`;
  const reason = d.reason ? ` — “${printable(d.reason)}”` : '';
  return `${titleCase(approval.status)} by ${d.by.map(printable).join(', ')} ${ago(d.at)}${reason}.`;
}

function timelineItem(event) {
  const words = (EVENT_WORDS[event.type] ?? ((e) => `${e.type} by ${e.actor}`))(event);
  const reason = event.data?.review?.reason ?? event.data?.decision?.reason;
  return h('li', {'data-seq': event.seq},
    h('time', {datetime: event.at}, when(event.at)),
    h('span', {class: 'what'}, printable(words)),
    reason ? h('span', {class: 'why'}, `“${printable(reason)}”`) : null);
}

function detailsList(a) {
  const rows = [
    ['Id', h('code', {}, a.id)],
    ['Requester', printable(a.requester)],
    ['Session', a.session_id ? h('code', {}, printable(a.session_id)) : '—'],
    ['Run', a.run_id ? h('code', {}, printable(a.run_id)) : '—'],
    ['Labels', Object.keys(a.labels ?? {}).length
      ? Object.entries(a.labels).map(([k, v]) => h('span', {class: 'tag'}, `${printable(k)}: ${printable(v)}`)) : '—'],
    ['Rule', a.rule ? printable(a.rule) : 'none (the default)'],
    ['Created', when(a.created_at)],
    ['Expires', when(a.expires_at)],
    ['Decided', a.decided_at ? when(a.decided_at) : '—'],
    ['Receipt', a.receipt ? 'signed (GET the approval for the token)' : '—'],
  ];
  return h('dl', {class: 'details'}, rows.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
}

function reviewsList(a) {
  const reviews = a.reviews ?? [];
  if (!reviews.length) return h('p', {class: 'muted'}, 'No reviews yet.');
  return h('ul', {class: 'reviews'}, reviews.map((r) => h('li', {},
    h('span', {class: `verdict verdict-${r.decision}`}, r.decision === 'approve' ? 'Approved' : 'Rejected'),
    ` by ${printable(r.principal)} ${ago(r.at)}`,
    r.scope !== 'once' ? ` · scope ${r.scope}${r.ttl_seconds ? ` ${duration(r.ttl_seconds)}` : ''}` : '',
    r.self_review ? ' · self-review' : '',
    r.reason ? h('span', {class: 'why'}, `“${printable(r.reason)}”`) : null)));
}

export function detailView(root, route, ctx) {
  const id = route.id;
  ctx.setTitle('Approval');
  let alive = true;
  let approval = null;
  let seen = 0;
  let verb = route.params.decide ?? null;
  const draft = drafts.get(id) ?? {reason: '', scope: 'once', ttlSeconds: 3600, anyArgs: false};
  drafts.set(id, draft);

  const head = h('div', {class: 'detail-head'});
  const asked = h('section', {class: 'panel', 'aria-labelledby': 'asked-title'});
  const context = h('section', {class: 'panel', 'aria-labelledby': 'context-title'});
  const decide = h('section', {class: 'panel decide', 'aria-labelledby': 'decide-title'});
  const people = h('section', {class: 'panel', 'aria-labelledby': 'quorum-title'});
  const timeline = h('ol', {class: 'timeline'});
  const facts = h('section', {class: 'panel', 'aria-labelledby': 'details-title'});

  const drawHead = () => {
    ctx.setTitle(`${approval.action} · ${titleCase(approval.status)}`);
    replace(head,
      h('div', {class: 'title-row'},
        h('h1', {tabindex: '-1'}, h('span', {class: 'action'}, printable(approval.action))),
        statusBadge(approval.status), riskBadge(approval.risk)),
      approval.summary ? h('p', {class: 'summary'}, printable(approval.summary)) : null,
      factsLine(approval));
    replace(asked, h('h2', {id: 'asked-title'}, 'What is asked'), askedView(approval));
    const hasContext = Object.keys(approval.context ?? {}).length > 0;
    context.hidden = !hasContext;
    replace(context, h('h2', {id: 'context-title'}, 'Context'), hasContext ? jsonView(approval.context) : null);
    replace(people, h('h2', {id: 'quorum-title'}, 'Quorum and reviews'),
      quorumView(approval), reviewsList(approval));
    replace(facts, h('h2', {id: 'details-title'}, 'Details'), detailsList(approval));
  };

  const drawDecided = (notice) => {
    replace(decide, h('h2', {id: 'decide-title'}, 'Decision'),
      notice ?? null,
      h('p', {class: `decision decision-${approval.status}`}, decisionText(approval)),
      h('p', {}, h('a', {href: '#/queue', class: 'button-link', id: 'back-to-queue'}, 'Back to the queue')));
  };

  const drawForm = () => {
    const canReview = ctx.can('approver');
    if (!canReview) {
      replace(decide, h('h2', {id: 'decide-title'}, 'Decision'),
        h('p', {class: 'muted'}, 'Waiting for a reviewer. This page updates when it is decided.'));
      return;
    }
    const status = h('div', {class: 'decide-status'});
    const reason = h('textarea', {id: 'reason', rows: '3', maxlength: '2000', 'aria-describedby': 'reason-help'});
    reason.value = draft.reason;
    const words = h('p', {class: 'scope-words', id: 'scope-words', 'aria-live': 'polite'});
    const ttl = h('select', {id: 'ttl', 'aria-label': 'Grant duration'},
      TTLS.map((s) => h('option', {value: String(s), selected: s === draft.ttlSeconds}, duration(s))));
    const anyArgs = h('input', {type: 'checkbox', id: 'any-args', checked: draft.anyArgs});
    const radio = (value, label, disabled, extra) => h('div', {class: 'radio'},
      h('input', {type: 'radio', name: 'scope', id: `scope-${value}`, value, checked: draft.scope === value, disabled}),
      h('label', {for: `scope-${value}`}, label), extra ?? null);
    const noSession = !approval.session_id;
    if (noSession && draft.scope === 'session') draft.scope = 'once';
    const scopes = h('fieldset', {class: 'scopes'},
      h('legend', {}, 'Remember this decision'),
      radio('once', 'This request only'),
      radio('session', noSession ? 'This session (the request has none)' : ['This session ', h('code', {}, printable(approval.session_id))], noSession),
      radio('timeboxed', 'For a while:', false, ttl),
      h('div', {class: 'check'}, anyArgs, h('label', {for: 'any-args'}, 'Also with other args (any args of this action)')));
    const approve = h('button', {type: 'button', class: 'approve', id: 'approve'}, 'Approve');
    const reject = h('button', {type: 'button', class: 'reject', id: 'reject'}, 'Reject');

    const sync = () => {
      draft.reason = reason.value;
      draft.scope = scopes.querySelector('input[name=scope]:checked')?.value ?? 'once';
      draft.ttlSeconds = Number(ttl.value);
      draft.anyArgs = anyArgs.checked;
      ttl.disabled = draft.scope !== 'timeboxed';
      anyArgs.disabled = draft.scope === 'once';
      replace(words, scopeWords(approval, draft));
    };
    const submit = async (chosen) => {
      sync();
      const text = reason.value.trim();
      if (chosen === 'reject' && !text) {
        reason.setAttribute('aria-invalid', 'true');
        replace(status, alertBox('Give a reason to reject: the requester sees it.'));
        reason.focus();
        return;
      }
      reason.removeAttribute('aria-invalid');
      const body = {decision: chosen, scope: draft.scope};
      if (text) body.reason = text;
      if (draft.scope === 'timeboxed') body.ttl_seconds = draft.ttlSeconds;
      if (draft.scope !== 'once' && draft.anyArgs) body.grant_match = 'action';
      approve.disabled = reject.disabled = true;
      replace(status, h('p', {class: 'muted'}, 'Sending…'));
      try {
        approval = await api('POST', `/v1/approvals/${encodeURIComponent(id)}/reviews`, body);
        drafts.delete(id);
        if (!alive) return;
        toast(`${chosen === 'approve' ? 'Approved' : 'Rejected'} ${approval.action}`);
        drawHead();
        if (approval.status === 'pending') {
          replace(decide, h('h2', {id: 'decide-title'}, 'Decision'),
            h('p', {class: 'decision'}, 'Your review is recorded; the quorum still needs others.'),
            h('p', {}, h('a', {href: '#/queue', class: 'button-link', id: 'back-to-queue'}, 'Back to the queue')));
        } else {
          drawDecided();
        }
        decide.querySelector('#back-to-queue')?.focus();
        loadTimeline();
      } catch (error) {
        if (!alive) return;
        await explain(error, status);
        approve.disabled = reject.disabled = false;
      }
    };
    reason.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        submit(verb === 'reject' ? 'reject' : 'approve');
      }
    });
    approve.addEventListener('click', () => submit('approve'));
    reject.addEventListener('click', () => submit('reject'));
    for (const el of [reason, ttl, anyArgs, ...scopes.querySelectorAll('input[name=scope]')]) {
      el.addEventListener('input', sync);
      el.addEventListener('change', sync);
    }
    replace(decide,
      h('h2', {id: 'decide-title'}, 'Your decision'),
      h('label', {for: 'reason'}, 'Reason'),
      h('p', {id: 'reason-help', class: 'muted small'}, 'Optional to approve, required to reject. Ctrl+Enter sends.'),
      reason, scopes, words,
      h('div', {class: 'decide-buttons'}, approve, reject),
      status);
    sync();
  };

  /** 403, 409 and 410 in words; 409 says who decided first and how. */
  const explain = async (error, status) => {
    if (error.status === 403) {
      replace(status, alertBox(`You can't review this approval: ${problemText(error)}`));
    } else if (error.status === 410) {
      await refresh();
      drawDecided(alertBox(`Too late: this approval expired ${approval?.decided_at ? ago(approval.decided_at) : ''}. Nobody can decide it now.`, 'warn'));
    } else if (error.status === 409) {
      await refresh();
      if (approval && approval.status !== 'pending') {
        drawDecided(alertBox(`Someone else decided first: ${decisionText(approval)}`, 'warn'));
      } else {
        replace(status, alertBox(`Not recorded: ${problemText(error)}`));
      }
    } else {
      replace(status, alertBox(`Not recorded: ${problemText(error)}`));
    }
  };

  const refresh = async () => {
    try {
      approval = await api('GET', `/v1/approvals/${encodeURIComponent(id)}`);
      if (alive) drawHead();
    } catch {
      // The view keeps what it had; the error surfaced elsewhere.
    }
  };

  const loadTimeline = async () => {
    try {
      const page = await api('GET', `/v1/approvals/${encodeURIComponent(id)}/events`);
      if (!alive) return;
      replace(timeline, page.items.map(timelineItem));
      seen = page.items.at(-1)?.seq ?? seen;
    } catch (error) {
      if (alive) replace(timeline, h('li', {}, `The timeline could not be loaded: ${problemText(error)}`));
    }
  };

  const stop = ctx.live.subscribe(async (event) => {
    if (event.approval_id !== id || event.seq <= seen) return;
    seen = event.seq;
    timeline.append(timelineItem(event));
    const wasPending = approval?.status === 'pending';
    await refresh();
    if (alive && wasPending && approval.status !== 'pending') {
      drawDecided(event.actor !== ctx.me?.name
        ? alertBox(`Decided while you were reading: ${decisionText(approval)}`, 'warn') : null);
    }
  });

  const focusVerb = (chosen) => {
    verb = chosen;
    if (chosen === 'approve') decide.querySelector('#approve')?.focus();
    else decide.querySelector('#reason')?.focus();
  };
  ctx.keyboard.onView('a', () => focusVerb('approve'));
  ctx.keyboard.onView('r', () => focusVerb('reject'));

  replace(root, h('p', {class: 'muted'}, 'Loading…'));
  (async () => {
    try {
      approval = await api('GET', `/v1/approvals/${encodeURIComponent(id)}`);
    } catch (error) {
      if (!alive) return;
      ctx.setTitle('Approval not found');
      replace(root, h('h1', {tabindex: '-1'}, 'Approval not found'),
        alertBox(error.status === 404 || error.status === 400
          ? 'There is no approval with this id, or you may not see it.'
          : problemText(error)),
        h('p', {}, h('a', {href: '#/queue'}, 'Back to the queue')));
      root.querySelector('h1').focus();
      return;
    }
    if (!alive) return;
    drawHead();
    if (approval.status === 'pending') drawForm();
    else drawDecided();
    replace(root,
      h('nav', {class: 'crumbs', 'aria-label': 'Breadcrumb'}, h('a', {href: '#/queue'}, '← Queue')),
      head,
      h('div', {class: 'detail-grid'},
        h('div', {class: 'area-asked'}, asked, context),
        h('div', {class: 'area-side'}, decide, people),
        h('div', {class: 'area-more'},
          h('section', {class: 'panel', 'aria-labelledby': 'timeline-title'},
            h('h2', {id: 'timeline-title'}, 'Timeline'), timeline),
          facts)));
    loadTimeline();
    if (approval.status === 'pending' && verb) focusVerb(verb);
    else head.querySelector('h1').focus({preventScroll: true});
  })();

  return () => {
    alive = false;
    stop();
  };
}

