// Grants: remembered decisions that answer later requests without a
// person. Each says what it covers; revoking stops it at once.

import {api} from './api.js';
import {alertBox, h, problemText, replace, toast} from './dom.js';
import {liveTime, plural, printable, when} from './format.js';
import {approvalHref} from './router.js';

function covers(g) {
  if (g.command_prefix) {
    const verb = g.effect === 'deny' ? 'Rejects' : 'Approves';
    return [`${verb} `, h('code', {}, printable(g.action)), ' command lines whose every command starts with ',
      h('code', {}, printable(g.command_prefix)), ' and writes no file',
      g.requester ? [' for ', h('code', {}, printable(g.requester))] : '',
      g.session_id ? [' in session ', h('code', {}, printable(g.session_id)), ' (while the session stays active)']
        : ' from any session',
      '.'];
  }
  const verb = g.effect === 'deny' ? 'Rejects' : 'Approves';
  return [
    `${verb} `, h('code', {}, printable(g.action)),
    g.args_sha256 ? [' with the exact args of ', h('a', {href: approvalHref(g.approval_id)}, 'its approval'),
      h('span', {class: 'muted small'}, ` (args SHA-256 ${g.args_sha256.slice(0, 12)}…)`)]
      : ' with any args',
    g.requester ? [' for ', h('code', {}, printable(g.requester))] : '',
    g.session_id ? [' in session ', h('code', {}, printable(g.session_id)), ' (while the session stays active)']
      : ' from any session',
    '.',
  ];
}

function grantItem(g, onRevoke) {
  const titleId = `grant-${g.id}`;
  const revoke = h('button', {type: 'button', class: 'danger', 'aria-describedby': titleId}, 'Revoke');
  const actions = h('div', {class: 'card-actions'}, revoke);
  revoke.addEventListener('click', () => {
    const confirm = h('button', {type: 'button', class: 'danger', 'aria-describedby': titleId}, 'Confirm revoke');
    const keep = h('button', {type: 'button'}, 'Keep it');
    replace(actions, h('span', {class: 'muted'}, 'Later requests will ask a person again. '), confirm, keep);
    keep.addEventListener('click', () => { replace(actions, revoke); revoke.focus(); });
    confirm.addEventListener('click', () => onRevoke(g, actions));
    confirm.focus();
  });
  return h('li', {'data-id': g.id},
    h('article', {class: `card grant grant-${g.effect}`, 'aria-labelledby': titleId},
      h('header', {class: 'card-head'},
        h('h2', {id: titleId}, h('span', {class: 'action'}, printable(g.action))),
        h('span', {class: `status status-${g.effect === 'deny' ? 'rejected' : 'approved'}`},
          g.effect === 'deny' ? 'Deny grant' : 'Allow grant')),
      h('p', {class: 'covers'}, covers(g)),
      h('p', {class: 'facts'},
        h('span', {}, h('span', {class: 'label'}, 'by '), printable(g.created_by)),
        h('span', {title: when(g.created_at)}, h('span', {class: 'label'}, 'made '), liveTime(g.created_at, 'ago')),
        h('span', {}, h('span', {class: 'label'}, 'ends '), liveTime(g.expires_at, 'left'))),
      actions));
}

export function grantsView(root, route, ctx) {
  ctx.setTitle('Grants');
  let alive = true;
  const list = h('ol', {class: 'cards', 'aria-label': 'Active grants'});
  const summary = h('p', {class: 'muted', 'aria-live': 'polite'}, 'Loading…');

  const onRevoke = async (g, actions) => {
    try {
      await api('DELETE', `/v1/grants/${encodeURIComponent(g.id)}`);
      list.querySelector(`li[data-id="${CSS.escape(g.id)}"]`)?.remove();
      toast(`Revoked the grant for ${g.action}`);
      summary.textContent = plural(list.children.length, 'active grant');
      summary.focus?.();
    } catch (error) {
      replace(actions, alertBox(`Not revoked: ${problemText(error)}`));
    }
  };

  const load = async () => {
    try {
      const {items} = await api('GET', '/v1/grants');
      if (!alive) return;
      replace(list, items.map((g) => grantItem(g, onRevoke)));
      summary.textContent = items.length
        ? plural(items.length, 'active grant')
        : 'No active grants. Approving with a session or time scope makes one.';
    } catch (error) {
      if (alive) replace(list, h('li', {}, alertBox(`Grants could not be loaded: ${problemText(error)}`)));
    }
  };
  const stop = ctx.live.subscribe((event) => {
    if (event.type === 'grant.created' || event.type === 'grant.revoked') load();
  });

  replace(root,
    h('div', {class: 'page-head'}, h('div', {},
      h('h1', {tabindex: '-1'}, 'Grants'),
      h('p', {class: 'muted'}, ctx.can('admin')
        ? 'Every live grant. Each answers later requests like the one it came from, without asking anyone.'
        : 'The grants you made. Each answers later requests like the one it came from, without asking anyone.'),
      summary)),
    list);
  load();
  return () => {
    alive = false;
    stop();
  };
}
