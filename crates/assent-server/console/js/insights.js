// Insights: the /v1/stats figures drawn as small charts.

import {api} from './api.js';
import {bars, stackedColumns} from './charts.js';
import {alertBox, h, problemText, replace} from './dom.js';
import {duration, plural} from './format.js';
import {go, href} from './router.js';

const WINDOWS = [['24h', 'Last 24 hours'], ['7d', 'Last 7 days'], ['30d', 'Last 30 days']];
const OUTCOMES = [
  {key: 'approved', name: 'approved', cls: 'fill-approved'},
  {key: 'rejected', name: 'rejected', cls: 'fill-rejected'},
  {key: 'expired', name: 'expired', cls: 'fill-expired'},
  {key: 'cancelled', name: 'cancelled', cls: 'fill-cancelled'},
];

function tile(label, value, note) {
  return h('div', {class: 'tile'}, h('p', {class: 'tile-label'}, label), h('p', {class: 'tile-value'}, value),
    note ? h('p', {class: 'muted small'}, note) : null);
}

function chartPanel(id, title, chart) {
  return h('section', {class: 'panel', 'aria-labelledby': id}, h('h2', {id}, title), chart);
}

function draw(stats, width) {
  const rate = stats.approval_rate === null ? '—' : `${Math.round(stats.approval_rate * 100)}%`;
  const days = stats.by_day.map((d) => ({label: d.day.slice(5), values: d}));
  const decisions = stats.by_day.reduce((n, d) => n + d.approved + d.rejected + d.expired + d.cancelled, 0);
  const ttd = stats.time_to_decision;
  const speed = ttd.count
    ? bars([
      {label: 'Median', values: {v: ttd.p50_seconds}, text: duration(ttd.p50_seconds)},
      {label: 'p90', values: {v: ttd.p90_seconds}, text: duration(ttd.p90_seconds)},
    ], [{key: 'v', name: 'seconds', cls: 'fill-accent'}],
    `Time to decision: median ${duration(ttd.p50_seconds)}, 90th percentile ${duration(ttd.p90_seconds)}`, width)
    : h('p', {class: 'muted'}, 'No approval in this window was decided by a reviewer.');
  const actions = stats.by_action.slice(0, 8);
  const reviewers = [...stats.by_reviewer].sort((a, b) => (b.approve + b.reject) - (a.approve + a.reject)).slice(0, 8);
  return [
    h('div', {class: 'tiles'},
      tile('Pending now', String(stats.pending), 'waiting for a decision'),
      tile('Requested', String(stats.created), 'in this window'),
      tile('Approval rate', rate, `${stats.approved} approved, ${stats.rejected} rejected`),
      tile('Expired', String(stats.expired), 'nobody answered in time')),
    chartPanel('by-day-title', 'Outcomes per day', decisions
      ? stackedColumns(days, OUTCOMES, `Outcomes per day: ${plural(decisions, 'outcome')} over ${plural(days.length, 'day')}`, width)
      : h('p', {class: 'muted'}, 'Nothing was decided in this window.')),
    chartPanel('speed-title', 'Time to decision', speed),
    chartPanel('actions-title', 'Busiest actions', actions.length
      ? bars(actions.map((a) => ({label: a.action, values: {...a, other: a.open + a.expired + a.cancelled}})),
        [OUTCOMES[0], OUTCOMES[1], {key: 'other', name: 'pending, expired or cancelled', cls: 'fill-expired'}],
        `Busiest actions: ${actions.map((a) => `${a.action} ${a.created}`).join(', ')}`, width)
      : h('p', {class: 'muted'}, 'No requests in this window.')),
    chartPanel('reviewers-title', 'Reviewers', reviewers.length
      ? bars(reviewers.map((r) => ({label: r.principal, values: r})),
        [{key: 'approve', name: 'approvals', cls: 'fill-approved'}, {key: 'reject', name: 'rejections', cls: 'fill-rejected'}],
        `Reviews: ${reviewers.map((r) => `${r.principal} ${r.approve} approved, ${r.reject} rejected`).join('; ')}`, width)
      : h('p', {class: 'muted'}, 'No reviews in this window.')),
    stats.truncated ? h('p', {class: 'muted small'}, 'Only the newest 10,000 approvals of the window are counted.') : null,
  ];
}

export function insightsView(root, route, ctx) {
  ctx.setTitle('Insights');
  const since = WINDOWS.some(([w]) => w === route.params.since) ? route.params.since : '7d';
  let alive = true;
  const select = h('select', {id: 'window'},
    WINDOWS.map(([value, label]) => h('option', {value, selected: value === since}, label)));
  select.addEventListener('change', () => go(href('insights', {since: select.value})));
  const body = h('div', {class: 'insights', 'aria-live': 'polite'}, h('p', {class: 'muted'}, 'Loading…'));
  replace(root,
    h('div', {class: 'page-head'},
      h('div', {}, h('h1', {tabindex: '-1'}, 'Insights'),
        h('p', {class: 'muted'}, 'Approvals requested in the window and how they ended.')),
      h('div', {class: 'search'}, h('label', {for: 'window'}, 'Window'), select)),
    body);
  api('GET', `/v1/stats?since=${since}`).then(
    // Panels are the page's width less their padding and border.
    (stats) => alive && replace(body, draw(stats, Math.max(240, body.clientWidth - 34))),
    (error) => alive && replace(body, alertBox(`The figures could not be loaded: ${problemText(error)}`)));
  return () => {
    alive = false;
  };
}
