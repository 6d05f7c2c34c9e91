// Operations: the builders (last seen, current task, version), GitHub dispatch attempts, notifications, and build
// metrics as charts — build time per image over time, success rate by day, queue wait.
import { api, apiAll, can, duration, el, start, table, when } from './app.js';
import { barChart, timeChart } from './charts.js';

start(async (main) => {
  const [builders, tasks, images, notifications, dispatches, failures] = await Promise.all([
    api('GET', '/api/builders'),
    api('GET', '/api/vm-build/tasks?limit=500'),
    apiAll('/api/vm_images'),
    api('GET', '/api/notifications'),
    can('build.trigger') ? api('GET', '/api/vm-imaging/dispatches?limit=50') : null,
    api('GET', '/api/vm-build/failures?window=7d'),
  ]);
  const names = new Map(images.items.map((image) => [image.id, image.name]));
  main.replaceChildren(
    el('h1', {}, 'Operations'),
    el('section', { id: 'metrics' }, el('h2', {}, 'Build metrics'), ...charts(tasks.items, names)),
    el('section', { id: 'failures' }, el('h2', {}, 'Failures, last 7 days'),
      failures.groups.length ? table(`${failures.failures} failed builds, grouped by what failed`, [
        ['Count', (g) => String(g.count)], ['Code', (g) => el('code', {}, g.code)], ['Phase', (g) => g.phase || '—'],
        ['Failing task', (g) => (g.ansible_task ? `${g.role ? `${g.role} : ` : ''}${g.ansible_task}` : '—')],
        ['First seen', (g) => when(g.first_seen)], ['Last seen', (g) => when(g.last_seen)],
        ['Log', (g) => el('a', { href: g.examples[0].console_url }, g.examples[0].line ? `${g.examples[0].log_file} line ${g.examples[0].line}` : 'task')],
      ], failures.groups) : el('p', { class: 'muted' }, 'No failed builds.')),
    el('section', { id: 'builders' }, el('h2', {}, 'Builders'), builders.items.length ? table('Registered builders', [
      ['Name', (b) => b.name], ['Version', (b) => b.version], ['Device types', (b) => b.device_types.join(', ')],
      ['Current task', (b) => (b.current_task_id ? el('a', { href: `/console/task?id=${encodeURIComponent(b.current_task_id)}` }, b.current_task_id.slice(0, 8)) : 'idle')],
      ['Last seen', (b) => when(b.last_seen_at)],
    ], builders.items) : el('p', { class: 'muted' }, 'No builder has registered yet.')),
    dispatches ? el('section', { id: 'dispatches' }, el('h2', {}, 'GitHub dispatches'), dispatches.items.length ? table('Dispatch attempts', [
      ['Subject', (d) => d.subject], ['Kind', (d) => d.kind], ['Status', (d) => el('span', { class: `status ${d.status}` }, d.status)],
      ['Attempts', (d) => String(d.attempts)], ['Last answer', (d) => (d.last_http_status ? `HTTP ${d.last_http_status}` : d.last_error || '—')],
      ['Created', (d) => when(d.created_at)], ['Delivered', (d) => when(d.delivered_at)],
    ], dispatches.items) : el('p', { class: 'muted' }, 'No dispatches.')) : null,
    el('section', { id: 'notifications' }, el('h2', {}, 'Notifications'), notifications.items.length ? table('Your notifications', [
      ['When', (n) => when(n.created_at)], ['Event', (n) => n.kind || n.event || ''], ['Message', (n) => n.message || n.title || ''],
      ['Read', (n) => (n.read_at ? 'yes' : 'no')],
    ], notifications.items) : el('p', { class: 'muted' }, 'No notifications.')));
});

function charts(tasks, names) {
  const finished = tasks.filter((t) => t.finished_at && t.started_at);
  const byImage = new Map();
  for (const t of finished.filter((t) => t.status === 'succeeded')) {
    const key = names.get(t.image_id) || t.image_id.slice(0, 8);
    if (!byImage.has(key)) byImage.set(key, []);
    byImage.get(key).push([new Date(t.finished_at), (Date.parse(t.finished_at) - Date.parse(t.started_at)) / 60000]);
  }
  const days = new Map();
  for (const t of tasks.filter((t) => ['succeeded', 'failed'].includes(t.status) && t.finished_at)) {
    const day = t.finished_at.slice(0, 10);
    const entry = days.get(day) || { ok: 0, all: 0 };
    entry.all += 1;
    if (t.status === 'succeeded') entry.ok += 1;
    days.set(day, entry);
  }
  const rates = [...days.entries()].sort().slice(-14).map(([day, e]) => ({
    label: day.slice(5), value: (100 * e.ok) / e.all, title: `${day}: ${e.ok} of ${e.all} builds succeeded`,
  }));
  const waits = tasks.filter((t) => t.started_at).map((t) => [new Date(t.started_at), (Date.parse(t.started_at) - Date.parse(t.created_at)) / 1000]);
  const total = tasks.filter((t) => ['succeeded', 'failed'].includes(t.status));
  const succeeded = total.filter((t) => t.status === 'succeeded').length;
  return [
    el('p', { id: 'metrics-summary' }, `${total.length} finished builds, ${total.length ? Math.round((100 * succeeded) / total.length) : 0}% succeeded; `,
      `median queue wait ${duration(median(waits.map(([, w]) => w)))}.`),
    el('div', { class: 'charts' },
      timeChart('Build time per image (minutes)', 'min', [...byImage.entries()].map(([key, points]) => ({ key, points }))),
      barChart('Success rate by day (%)', '%', rates, 100),
      timeChart('Queue wait (seconds)', 's', [{ key: 'queue wait', points: waits }])),
  ];
}

function median(values) {
  if (!values.length) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}
