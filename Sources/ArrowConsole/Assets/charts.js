// Small SVG charts, drawn with DOM calls: points over time (one series per key) and bars. Each chart has a title
// and a description for screen readers, and a table of its numbers goes beside it on the page.
import { el, svg } from './app.js';

const palette = ['#1f5fbf', '#c0392b', '#27ae60', '#8e44ad', '#d35400', '#16a085', '#7f8c8d'];
const size = { width: 640, height: 220, left: 48, right: 12, top: 12, bottom: 28 };

function frame(title, description) {
  const id = `chart-${Math.random().toString(36).slice(2)}`;
  return svg('svg', { viewBox: `0 0 ${size.width} ${size.height}`, role: 'img', 'aria-labelledby': `${id}-t ${id}-d`, class: 'chart' },
    svg('title', { id: `${id}-t` }, title), svg('desc', { id: `${id}-d` }, description));
}

function axes(chart, yMax, yLabel, xLabels) {
  const { width, height, left, right, top, bottom } = size;
  chart.append(svg('line', { x1: left, y1: height - bottom, x2: width - right, y2: height - bottom, class: 'axis' }),
    svg('line', { x1: left, y1: top, x2: left, y2: height - bottom, class: 'axis' }));
  for (const fraction of [0, 0.5, 1]) {
    const y = height - bottom - fraction * (height - top - bottom);
    chart.append(svg('text', { x: left - 4, y: y + 4, class: 'tick', 'text-anchor': 'end' }, formatNumber(yMax * fraction)),
      svg('line', { x1: left, y1: y, x2: width - right, y2: y, class: 'grid' }));
  }
  chart.append(svg('text', { x: 4, y: top + 8, class: 'tick' }, yLabel));
  xLabels.forEach(([x, label]) => chart.append(svg('text', { x, y: height - 8, class: 'tick', 'text-anchor': 'middle' }, label)));
}

function formatNumber(value) {
  return value >= 100 ? Math.round(value).toString() : value.toFixed(1).replace(/\.0$/, '');
}

/** `series`: `[{key, points: [[Date, number]]}]` — one coloured line with dots per key. */
export function timeChart(title, yLabel, series) {
  const all = series.flatMap((s) => s.points);
  const chart = frame(title, `${title}: ${all.length} points in ${series.length} series`);
  if (!all.length) return el('p', { class: 'muted' }, `${title}: no data yet.`);
  const { width, height, left, right, top, bottom } = size;
  const times = all.map(([t]) => t.getTime());
  const [t0, t1] = [Math.min(...times), Math.max(...times)];
  const yMax = Math.max(1, ...all.map(([, v]) => v)) * 1.1;
  const x = (t) => left + (t1 === t0 ? 0.5 : (t - t0) / (t1 - t0)) * (width - left - right);
  const y = (v) => height - bottom - (v / yMax) * (height - top - bottom);
  axes(chart, yMax, yLabel, [[x(t0), new Date(t0).toLocaleDateString()], [x(t1), new Date(t1).toLocaleDateString()]]);
  series.forEach((s, index) => {
    const color = palette[index % palette.length];
    const sorted = [...s.points].sort((a, b) => a[0] - b[0]);
    chart.append(svg('polyline', { points: sorted.map(([t, v]) => `${x(t.getTime())},${y(v)}`).join(' '), fill: 'none', stroke: color, 'stroke-width': 2 }));
    for (const [t, v] of sorted) chart.append(svg('circle', { cx: x(t.getTime()), cy: y(v), r: 3, fill: color }, svg('title', {}, `${s.key}: ${formatNumber(v)} at ${t.toLocaleString()}`)));
  });
  const legend = el('ul', { class: 'legend' }, ...series.map((s, index) =>
    el('li', {}, el('span', { class: 'swatch', 'data-color': index % palette.length }), s.key)));
  return el('figure', { class: 'chart-box' }, chart, el('figcaption', {}, title), legend);
}

/** `bars`: `[{label, value, title}]` with values in 0…max. */
export function barChart(title, yLabel, bars, max) {
  if (!bars.length) return el('p', { class: 'muted' }, `${title}: no data yet.`);
  const chart = frame(title, `${title}: ${bars.map((b) => `${b.label} ${formatNumber(b.value)}`).join(', ')}`);
  const { width, height, left, right, top, bottom } = size;
  const yMax = max ?? Math.max(1, ...bars.map((b) => b.value));
  const slot = (width - left - right) / bars.length;
  axes(chart, yMax, yLabel, bars.map((b, i) => [left + slot * (i + 0.5), b.label]));
  bars.forEach((b, i) => {
    const h = (b.value / yMax) * (height - top - bottom);
    chart.append(svg('rect', { x: left + slot * i + slot * 0.15, y: height - bottom - h, width: slot * 0.7, height: h, class: 'bar' },
      svg('title', {}, b.title || `${b.label}: ${formatNumber(b.value)}`)));
  });
  return el('figure', { class: 'chart-box' }, chart, el('figcaption', {}, title));
}
