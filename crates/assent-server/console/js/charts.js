// Small inline SVG charts: stacked columns and horizontal bars. Colours come
// from CSS classes (so both themes apply); every chart has a text summary
// for screen readers and every mark a <title>.

import {h, s} from './dom.js';

/** Columns of stacked values: `rows` = [{label, values: {key: n}}],
 *  `series` = [{key, name, cls}]. Drawn `width` px wide at 1:1, so text
 *  keeps its size on a phone. */
export function stackedColumns(rows, series, summary, width) {
  const height = 180;
  const top = 12;
  const bottom = 24;
  const max = Math.max(1, ...rows.map((r) => series.reduce((sum, x) => sum + (r.values[x.key] ?? 0), 0)));
  const slot = width / Math.max(rows.length, 1);
  const bar = Math.min(40, slot * 0.7);
  const scale = (height - top - bottom) / max;
  const marks = rows.map((row, i) => {
    let y = height - bottom;
    const x = i * slot + (slot - bar) / 2;
    const parts = series.map((x2) => {
      const n = row.values[x2.key] ?? 0;
      if (!n) return null;
      const tall = n * scale;
      y -= tall;
      return s('rect', {x, y, width: bar, height: tall, class: x2.cls}, s('title', {}, `${row.label}: ${n} ${x2.name}`));
    });
    const every = Math.ceil(rows.length / Math.max(1, Math.floor(width / 48)));
    const label = i % every === 0
      ? s('text', {x: x + bar / 2, y: height - 6, 'text-anchor': 'middle', class: 'axis'}, row.label) : null;
    return [parts, label];
  });
  return figure(s('svg', {viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': summary, class: 'chart'},
    s('line', {x1: 0, x2: width, y1: height - bottom, y2: height - bottom, class: 'baseline'}),
    s('text', {x: 0, y: 10, class: 'axis'}, `max ${max}`),
    marks), legend(series));
}

/** Horizontal bars, one per row, stacked by series; the total at the end. */
export function bars(rows, series, summary, width) {
  const rowHeight = 26;
  const labelWidth = Math.min(200, Math.round(width * 0.38));
  const height = Math.max(1, rows.length) * rowHeight;
  const max = Math.max(1, ...rows.map((r) => series.reduce((sum, x) => sum + (r.values[x.key] ?? 0), 0)));
  const scale = (width - labelWidth - 70) / max;
  const marks = rows.map((row, i) => {
    let x = labelWidth;
    const y = i * rowHeight + 4;
    const total = series.reduce((sum, x2) => sum + (row.values[x2.key] ?? 0), 0);
    const parts = series.map((x2) => {
      const n = row.values[x2.key] ?? 0;
      if (!n) return null;
      const wide = n * scale;
      const rect = s('rect', {x, y, width: wide, height: rowHeight - 10, class: x2.cls},
        s('title', {}, `${row.label}: ${n} ${x2.name}`));
      x += wide;
      return rect;
    });
    return [
      s('text', {x: labelWidth - 8, y: y + rowHeight / 2, 'text-anchor': 'end', class: 'label'},
        clip(row.label, Math.floor(labelWidth / 7.5))),
      parts,
      s('text', {x: x + 6, y: y + rowHeight / 2, class: 'value'}, row.text ?? String(total)),
    ];
  });
  return figure(s('svg', {viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': summary, class: 'chart'}, marks),
    series.length > 1 ? legend(series) : null);
}

function clip(text, n) {
  return text.length > n ? `${text.slice(0, n - 1)}…` : text;
}

function legend(series) {
  return h('ul', {class: 'legend', 'aria-hidden': 'true'},
    series.map((x) => h('li', {}, s('svg', {viewBox: '0 0 10 10', class: 'swatch'}, s('rect', {width: 10, height: 10, class: x.cls})), x.name)));
}

function figure(svg, legendEl) {
  return h('div', {class: 'figure'}, svg, legendEl);
}
