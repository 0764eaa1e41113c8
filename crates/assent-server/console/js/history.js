// History: every approval, newest first, filtered by status, action and
// requester on the server; free text filters the loaded page in the browser.

import {api, withQuery} from './api.js';
import {riskBadge, statusBadge} from './card.js';
import {alertBox, h, problemText, replace} from './dom.js';
import {ago, plural, printable, when} from './format.js';
import {approvalHref, go, href} from './router.js';

const PAGE = 25;
const STATUSES = ['all', 'pending', 'approved', 'rejected', 'expired', 'cancelled'];
/** Cursors of the pages visited, per filter, so "Newer" can go back. */
const cursors = new Map();

function row(a) {
  const decidedBy = a.decision?.by?.length ? `by ${a.decision.by.map(printable).join(', ')}` : '';
  return h('li', {class: 'row', 'data-id': a.id},
    h('div', {class: 'row-main'},
      h('a', {href: approvalHref(a.id), class: 'action'}, printable(a.action)),
      statusBadge(a.status), riskBadge(a.risk)),
    a.summary ? h('p', {class: 'summary'}, printable(a.summary)) : null,
    h('p', {class: 'facts'},
      h('span', {}, h('span', {class: 'label'}, 'by '), printable(a.requester)),
      h('span', {title: when(a.created_at)}, `asked ${ago(a.created_at)}`),
      decidedBy ? h('span', {}, `${a.status} ${decidedBy}`) : null));
}

function searchable(a) {
  return [a.id, a.action, a.requester, a.summary, a.rule, a.session_id, a.run_id,
    a.decision?.reason, ...(a.reviews ?? []).map((r) => `${r.principal} ${r.reason ?? ''}`),
    JSON.stringify(a.args), JSON.stringify(a.labels)].join(' ').toLowerCase();
}

export function historyView(root, route, ctx) {
  ctx.setTitle('History');
  const p = route.params;
  const filters = {status: p.status || 'all', action: p.action || '', requester: p.requester || ''};
  const key = JSON.stringify(filters);
  const page = Math.max(0, Number.parseInt(p.page ?? '0', 10) || 0);
  const visited = cursors.get(key) ?? [null];
  cursors.set(key, visited);
  let alive = true;

  const field = (id, label, input) => h('div', {class: 'field'}, h('label', {for: id}, label), input);
  const status = h('select', {id: 'f-status', name: 'status'},
    STATUSES.map((s) => h('option', {value: s, selected: s === filters.status}, s === 'all' ? 'Any status' : s)));
  const action = h('input', {id: 'f-action', name: 'action', value: filters.action, autocomplete: 'off', spellcheck: 'false'});
  const requester = h('input', {id: 'f-requester', name: 'requester', value: filters.requester, autocomplete: 'off', spellcheck: 'false'});
  const text = h('input', {id: 'f-text', type: 'search', 'data-search': '', value: p.q ?? '', autocomplete: 'off', 'aria-describedby': 'f-text-help'});
  const form = h('form', {class: 'filters', role: 'search', 'aria-label': 'Filter the history'},
    field('f-status', 'Status', status),
    field('f-action', 'Action (exact)', action),
    field('f-requester', 'Requester (exact)', requester),
    field('f-text', 'Search this page', text),
    h('div', {class: 'field buttons'},
      h('button', {type: 'submit', class: 'primary'}, 'Apply'),
      h('a', {href: href('history'), class: 'button-link'}, 'Clear')),
    h('p', {id: 'f-text-help', class: 'muted small form-note'},
      'Status, action and requester filter every approval on the gateway; the search filters the page shown, in your browser.'));
  const list = h('ol', {class: 'rows', 'aria-label': 'Approvals'});
  const summary = h('p', {class: 'muted', 'aria-live': 'polite'}, 'Loading…');
  const pager = h('nav', {class: 'pager', 'aria-label': 'Pages'});
  let items = [];

  const drawRows = () => {
    const needle = text.value.trim().toLowerCase();
    const shown = needle ? items.filter((a) => searchable(a).includes(needle)) : items;
    replace(list, shown.map(row));
    summary.textContent = `Page ${page + 1} · ${plural(items.length, 'approval')}`
      + `${needle ? ` · ${shown.length} match “${text.value.trim()}”` : ''}`;
  };

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    go(href('history', {
      status: status.value === 'all' ? '' : status.value,
      action: action.value.trim(), requester: requester.value.trim(), q: text.value.trim(),
    }));
  });
  text.addEventListener('input', drawRows);

  replace(root,
    h('div', {class: 'page-head'}, h('div', {}, h('h1', {tabindex: '-1'}, 'History'), summary)),
    form, list, pager);

  const base = {status: p.status, action: p.action, requester: p.requester, q: p.q};
  if (page > 0 && visited[page] === undefined) {
    summary.textContent = 'This page was opened from a link; paging starts again from the newest.';
    replace(pager, h('a', {href: href('history', base), class: 'button-link'}, 'Start from the newest'));
    return () => {};
  }
  (async () => {
    try {
      const result = await api('GET', withQuery('/v1/approvals', {
        status: filters.status === 'all' ? '' : filters.status,
        action: filters.action, requester: filters.requester, limit: PAGE,
        cursor: visited[page] ?? '',
      }));
      if (!alive) return;
      items = result.items;
      visited[page + 1] = result.next_cursor;
      drawRows();
      replace(pager,
        page > 0 ? h('a', {href: href('history', {...base, page: page - 1 || ''}), class: 'button-link', rel: 'prev'}, '← Newer') : null,
        result.next_cursor ? h('a', {href: href('history', {...base, page: page + 1}), class: 'button-link', rel: 'next'}, 'Older →') : null);
    } catch (error) {
      if (alive) {
        summary.textContent = '';
        replace(list, h('li', {}, alertBox(`The history could not be loaded: ${problemText(error)}`)));
      }
    }
  })();

  return () => {
    alive = false;
  };
}
