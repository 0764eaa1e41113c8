// An approval at a glance: the queue's cards and the pieces the detail
// page reuses (risk, status, quorum progress, what is asked).

import {commandView, isShell} from './command.js';
import {h} from './dom.js';
import {liveTime, plural, printable, titleCase} from './format.js';
import {jsonView} from './json_view.js';
import {approvalHref} from './router.js';

export function riskBadge(risk) {
  return h('span', {class: `risk risk-${risk}`}, `${titleCase(risk)} risk`);
}

export function statusBadge(status) {
  return h('span', {class: `status status-${status}`}, titleCase(status));
}

/** Who approved and who is still needed, stage by stage. */
export function quorumView(approval) {
  const stages = approval.quorum ?? [];
  if (!stages.length) {
    if (approval.status !== 'pending') return null;
    return h('p', {class: 'quorum'}, h('span', {class: 'pip'}), ' Needs one approval from any approver');
  }
  return h('ul', {class: 'quorum', 'aria-label': 'Quorum'}, stages.map((stage) => {
    const done = stage.approved_by.length;
    const missing = Math.max(0, stage.min - done);
    const pips = Array.from({length: Math.max(stage.min, done)}, (_, i) =>
      h('span', {class: i < done ? 'pip done' : 'pip', 'aria-hidden': 'true'}));
    return h('li', {},
      h('span', {class: 'group'}, stage.group),
      h('span', {class: 'pips'}, pips),
      h('span', {}, done
        ? `approved by ${stage.approved_by.map(printable).join(', ')}`
        : 'no approvals yet'),
      missing ? h('span', {class: 'needed'}, ` · ${missing} more needed`) : h('span', {class: 'met'}, ' · met'));
  }));
}

/** The action's arguments: a shell command split as policy saw it, else JSON. */
export function askedView(approval) {
  if (isShell(approval)) return commandView(approval);
  return jsonView(approval.args);
}

export function factsLine(approval) {
  return h('p', {class: 'facts'},
    h('span', {}, h('span', {class: 'label'}, 'by '), printable(approval.requester)),
    h('span', {}, h('span', {class: 'label'}, 'asked '), liveTime(approval.created_at, 'ago')),
    approval.status === 'pending' ? h('span', {}, liveTime(approval.expires_at, 'left')) : null,
    h('span', {}, h('span', {class: 'label'}, 'rule '), approval.rule ? printable(approval.rule) : 'none (default)'),
    approval.escalated ? h('span', {class: 'escalated'}, 'Escalated') : null);
}

/** A queue card. `onDecide(approval, verb)` opens the decision. */
export function approvalCard(approval, {canReview, onDecide}) {
  const titleId = `card-${approval.id}`;
  const reviews = approval.reviews ?? [];
  return h('article', {
    class: `card risk-edge-${approval.risk}`, tabindex: '-1', 'data-id': approval.id,
    'aria-labelledby': titleId,
  },
  h('header', {class: 'card-head'},
    h('h2', {id: titleId}, h('a', {href: approvalHref(approval.id), class: 'action'}, printable(approval.action))),
    riskBadge(approval.risk)),
  approval.summary ? h('p', {class: 'summary'}, printable(approval.summary)) : null,
  factsLine(approval),
  quorumView(approval),
  reviews.length ? h('p', {class: 'muted small'}, `${plural(reviews.length, 'review')} so far`) : null,
  h('div', {class: 'asked'}, askedView(approval)),
  h('div', {class: 'card-actions'},
    canReview ? [
      h('button', {type: 'button', class: 'approve', 'aria-describedby': titleId, onclick: () => onDecide(approval, 'approve')}, 'Approve'),
      h('button', {type: 'button', class: 'reject', 'aria-describedby': titleId, onclick: () => onDecide(approval, 'reject')}, 'Reject'),
    ] : null,
    h('a', {href: approvalHref(approval.id), class: 'open', 'aria-describedby': titleId}, 'Details')));
}
