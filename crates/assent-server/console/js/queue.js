// The queue: every pending approval, live. New ones appear at the top as
// their event arrives; decided ones leave.

import {approvalCard} from './card.js';
import {alertBox, h, replace} from './dom.js';
import {plural} from './format.js';
import {approvalHref, go} from './router.js';

export function queueView(root, route, ctx) {
  ctx.setTitle('Queue');
  const canReview = ctx.can('approver');
  const count = h('p', {class: 'muted', 'aria-live': 'polite'});
  const filter = h('input', {
    id: 'queue-filter', type: 'search', 'data-search': '', autocomplete: 'off',
    placeholder: 'action, requester, summary…',
  });
  const list = h('ol', {class: 'cards', 'aria-label': 'Pending approvals'});
  const status = h('div');
  let selected = -1;

  const open = (approval, verb) => go(`${approvalHref(approval.id)}${verb ? `?decide=${verb}` : ''}`);
  const cards = () => [...list.querySelectorAll('li:not([hidden]) > .card')];
  const matches = (approval) => {
    const needle = filter.value.trim().toLowerCase();
    if (!needle) return true;
    return [approval.action, approval.requester, approval.summary, approval.rule, JSON.stringify(approval.args)]
      .some((text) => String(text ?? '').toLowerCase().includes(needle));
  };
  const item = (approval) => {
    const li = h('li', {}, approvalCard(approval, {canReview, onDecide: open}));
    li.hidden = !matches(approval);
    return li;
  };
  const showCount = () => {
    const n = ctx.pending.count;
    const shown = cards().length;
    count.textContent = `${plural(n, 'pending approval')}${shown !== n ? ` · ${shown} match the filter` : ''}`
      + (ctx.pending.more ? ' · showing the newest 500' : '');
    status.replaceChildren();
    if (ctx.pending.error) status.append(alertBox(`The queue could not be loaded: ${ctx.pending.error.message}`));
    else if (ctx.pending.loaded && n === 0) {
      status.append(h('div', {class: 'empty'},
        h('p', {}, canReview ? 'Nothing is waiting for a decision.' : 'None of your requests is waiting.'),
        h('p', {class: 'muted'}, 'New requests appear here the moment they arrive.')));
    }
  };
  const select = (index) => {
    const all = cards();
    if (!all.length) return;
    selected = Math.max(0, Math.min(index, all.length - 1));
    all.forEach((card, i) => card.classList.toggle('selected', i === selected));
    all[selected].focus();
    all[selected].scrollIntoView({block: 'nearest'});
  };
  const current = () => {
    const card = cards()[selected] ?? document.activeElement?.closest?.('.card');
    return card ? ctx.pending.items.get(card.dataset.id) : null;
  };
  const drawAll = () => {
    replace(list, ctx.pending.list().map(item));
    selected = -1;
    showCount();
  };

  const stop = ctx.pending.subscribe((change) => {
    if (change.kind === 'load') return drawAll();
    const existing = list.querySelector(`.card[data-id="${CSS.escape(change.approval?.id ?? '')}"]`)?.parentElement;
    if (change.kind === 'added') {
      const li = item(change.approval);
      const after = [...list.children].find((el) => el.firstChild.dataset.id < change.approval.id);
      list.insertBefore(li, after ?? null);
      performance.mark(`assent:card:${change.event.seq}`);
    } else if (change.kind === 'removed' && existing) {
      const wasFocused = existing.contains(document.activeElement);
      existing.remove();
      if (wasFocused) select(selected);
    } else if (change.kind === 'updated' && existing) {
      const wasFocused = existing.contains(document.activeElement);
      existing.replaceWith(item(change.approval));
      if (wasFocused) select(selected);
    }
    showCount();
  });

  filter.addEventListener('input', () => {
    for (const li of list.children) li.hidden = !matches(ctx.pending.items.get(li.firstChild.dataset.id));
    selected = -1;
    showCount();
  });
  list.addEventListener('focusin', (event) => {
    const card = event.target.closest('.card');
    const index = cards().indexOf(card);
    if (index >= 0) {
      selected = index;
      cards().forEach((c, i) => c.classList.toggle('selected', i === index));
    }
  });

  ctx.keyboard.onView('j', () => select(selected + 1));
  ctx.keyboard.onView('k', () => select(selected <= 0 ? 0 : selected - 1));
  ctx.keyboard.onView('Enter', () => { const a = current(); if (a) open(a); });
  if (canReview) {
    ctx.keyboard.onView('a', () => { const a = current(); if (a) open(a, 'approve'); });
    ctx.keyboard.onView('r', () => { const a = current(); if (a) open(a, 'reject'); });
  }

  replace(root,
    h('div', {class: 'page-head'},
      h('div', {},
        h('h1', {tabindex: '-1'}, canReview ? 'Queue' : 'Your pending requests'),
        count),
      h('div', {class: 'search'}, h('label', {for: 'queue-filter'}, 'Filter the queue'), filter)),
    status,
    list,
    h('p', {class: 'muted small hint'}, 'Keys: j / k move · Enter opens · a approve · r reject · ? help'));
  if (ctx.pending.loaded) drawAll();
  else count.textContent = 'Loading…';
  return stop;
}
