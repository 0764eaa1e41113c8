// A shell command shown as the policy saw it: one line per simple command
// (the approval's `parts`, when the gateway sent them), each highlighted
// word by word, with its redirections after it — those that write a file
// marked, since no allow rule lets them through unless it says so. Without
// `parts` the raw command line is shown.

import {h} from './dom.js';
import {printable} from './format.js';

const OPERATOR = /^(\|\||&&|;;|\|&|[|;&()]|\d?>>?|<<?|\n)/;

/** Tokens of a command line for colouring only; it judges nothing. */
function tokens(line) {
  const out = [];
  let i = 0;
  let expectProgram = true;
  while (i < line.length) {
    const rest = line.slice(i);
    const space = rest.match(/^[ \t]+/);
    if (space) {
      out.push({kind: 'space', text: space[0]});
      i += space[0].length;
      continue;
    }
    const op = rest.match(OPERATOR);
    if (op) {
      out.push({kind: 'op', text: op[0]});
      i += op[0].length;
      expectProgram = !/^\d?[<>]/.test(op[0]);
      continue;
    }
    let word = '';
    while (i < line.length && !/[ \t|;&()<>\n]/.test(line[i])) {
      const quote = line[i];
      if (quote === "'" || quote === '"') {
        const end = line.indexOf(quote, i + 1);
        const stop = end === -1 ? line.length : end + 1;
        word += line.slice(i, stop);
        i = stop;
      } else if (quote === '\\' && i + 1 < line.length) {
        word += line.slice(i, i + 2);
        i += 2;
      } else {
        word += quote;
        i += 1;
      }
    }
    let kind = 'word';
    if (expectProgram && /^[A-Za-z_][A-Za-z0-9_]*=/.test(word)) kind = 'assign';
    else if (expectProgram) kind = 'program';
    else if (word.startsWith('-')) kind = 'flag';
    else if (/^['"]/.test(word)) kind = 'string';
    else if (word.includes('$')) kind = 'var';
    if (kind !== 'assign') expectProgram = false;
    out.push({kind, text: word});
  }
  return out;
}

export function commandLine(line) {
  return h('code', {class: 'cmd'}, tokens(String(line)).map((t) =>
    (t.kind === 'space' ? t.text : h('span', {class: `c-${t.kind}`}, printable(t.text)))));
}

/** The text of one part, whatever shape the gateway gave it. */
function partText(part) {
  if (typeof part === 'string') return part;
  return part?.text ?? part?.command ?? JSON.stringify(part);
}

/** One redirection: `2>&1`, or `> /etc/passwd` marked as writing a file. */
function redirectBadge(r) {
  const op = printable(r.op ?? '');
  // `2>&1` reads as one token; `> /etc/passwd` reads better spaced.
  const text = `${op}${op.endsWith('&') ? '' : ' '}${printable(r.target ?? '')}`.trim();
  if (!r.writes_file) return h('code', {class: 'redirect'}, text);
  return h('span', {class: 'redirect writes'},
    h('code', {}, text),
    h('span', {class: 'redirect-note'}, ' writes a file'));
}

export function isShell(approval) {
  return approval.action === 'shell' && typeof approval.args?.command === 'string';
}

export function commandView(approval) {
  const parts = Array.isArray(approval.parts) ? approval.parts : null;
  if (parts && parts.length) {
    return h('div', {class: 'command'},
      h('p', {class: 'muted small'}, parts.length === 1
        ? 'One command, as the policy saw it:'
        : `${parts.length} commands, as the policy split the line:`),
      h('ol', {class: 'parts'}, parts.map((part) => {
        const redirects = Array.isArray(part?.redirects) ? part.redirects : [];
        return h('li', {}, commandLine(partText(part)),
          redirects.length ? h('span', {class: 'redirects'}, redirects.map(redirectBadge)) : null);
      })));
  }
  return h('div', {class: 'command'},
    h('p', {class: 'muted small'}, 'Command line as sent:'),
    h('div', {class: 'parts single'}, commandLine(approval.args.command)));
}
