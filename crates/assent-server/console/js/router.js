// Hash routes: #/queue, #/approvals/{id}, #/history?…, #/grants, #/audit,
// #/insights. The hash is the whole state of a screen, so a deep link or a
// reload (or signing in again) lands where the person was.

export function parse(hash = location.hash) {
  const raw = hash.replace(/^#\/?/, '');
  const [path, query = ''] = raw.split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  const params = Object.fromEntries(new URLSearchParams(query));
  if (parts[0] === 'approvals' && parts[1]) return {name: 'detail', id: parts[1], params};
  const name = parts[0] || 'queue';
  return {name, params};
}

export function href(name, params = {}) {
  const query = new URLSearchParams(
    Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== ''),
  ).toString();
  return `#/${name}${query ? `?${query}` : ''}`;
}

export function approvalHref(id) {
  return `#/approvals/${encodeURIComponent(id)}`;
}

export function go(hash) {
  if (location.hash === hash) window.dispatchEvent(new HashChangeEvent('hashchange'));
  else location.hash = hash;
}
