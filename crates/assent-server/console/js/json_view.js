// JSON as an indented, coloured tree of text nodes (never HTML).

import {h} from './dom.js';
import {printable} from './format.js';

function render(value, depth, out) {
  const pad = '  '.repeat(depth);
  if (value === null) out.push(h('span', {class: 'j-null'}, 'null'));
  else if (typeof value === 'string') out.push(h('span', {class: 'j-str'}, printable(JSON.stringify(value))));
  else if (typeof value === 'number') out.push(h('span', {class: 'j-num'}, String(value)));
  else if (typeof value === 'boolean') out.push(h('span', {class: 'j-bool'}, String(value)));
  else if (Array.isArray(value)) {
    if (!value.length) return out.push('[]');
    out.push('[\n');
    value.forEach((item, i) => {
      out.push(`${pad}  `);
      render(item, depth + 1, out);
      out.push(i < value.length - 1 ? ',\n' : '\n');
    });
    out.push(`${pad}]`);
  } else {
    const keys = Object.keys(value);
    if (!keys.length) return out.push('{}');
    out.push('{\n');
    keys.forEach((key, i) => {
      out.push(`${pad}  `, h('span', {class: 'j-key'}, printable(JSON.stringify(key))), ': ');
      render(value[key], depth + 1, out);
      out.push(i < keys.length - 1 ? ',\n' : '\n');
    });
    out.push(`${pad}}`);
  }
  return out;
}

export function jsonView(value) {
  return h('pre', {class: 'json'}, render(value ?? {}, 0, []));
}
