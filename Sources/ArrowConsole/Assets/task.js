// One build task: its state (kept current by the event stream), the four logs streaming live, the failure code
// with a link to the log line that explains it, retry and cancel, and what the build produced.
import { actionButton, api, can, duration, el, query, start, table, toast, when } from './app.js';

const id = query('id');
const files = ['download', 'ansible', 'deploy', 'summary'];
// Which log tells about a failure in each phase.
const phaseLog = { preparation: 'download', customization: 'ansible', finalization: 'summary', deployment: 'deploy' };
let task = null;

start(async (main) => {
  task = await api('GET', `/api/vm-build/tasks/${encodeURIComponent(id)}`);
  main.replaceChildren(
    el('p', {}, el('a', { href: '/console/builds' }, '‹ Builds')),
    el('h1', {}, 'Build ', el('code', {}, id)),
    el('section', { id: 'state' }),
    el('section', { id: 'artifact', hidden: true }),
    el('section', { id: 'logs', 'aria-labelledby': 'logs-heading' }, el('h2', { id: 'logs-heading' }, 'Logs'),
      el('div', { class: 'logs' }, ...files.map((file) => el('details', { open: true, id: `log-${file}` },
        el('summary', {}, `${file}.log `, el('span', { class: 'badge', id: `log-${file}-state` }, 'waiting')),
        el('ol', { class: 'log', id: `log-${file}-lines`, 'aria-live': 'off', tabindex: 0, 'aria-label': `${file}.log` }))))));
  drawState();
  for (const file of files) followLog(file);
  const source = new EventSource('/api/vm-build/events');
  source.addEventListener('task', (event) => {
    const update = JSON.parse(event.data);
    if (update.id !== id) return;
    const finishedNow = update.status !== task.status && ['succeeded', 'failed', 'canceled'].includes(update.status);
    task = { ...task, ...update };
    drawState();
    if (finishedNow) refresh();
  });
});

async function refresh() {
  task = await api('GET', `/api/vm-build/tasks/${encodeURIComponent(id)}`);
  drawState();
}

function drawState() {
  const section = document.getElementById('state');
  const open = ['queued', 'running'].includes(task.status);
  const elapsed = ((task.finished_at ? Date.parse(task.finished_at) : Date.now()) - Date.parse(task.started_at || task.created_at)) / 1000;
  section.replaceChildren(
    el('dl', { class: 'facts' },
      el('dt', {}, 'Status'), el('dd', {}, el('span', { class: `status ${task.status}`, id: 'task-status' }, task.status)),
      el('dt', {}, 'Phase'), el('dd', { id: 'task-phase' }, task.phase || '—'),
      el('dt', {}, 'Progress'), el('dd', {}, el('progress', { max: 100, value: task.progress || 0, 'aria-label': 'Build progress' }), ` ${task.progress || 0}%`),
      el('dt', {}, 'Attempt'), el('dd', {}, String(task.attempt)),
      el('dt', {}, 'Image'), el('dd', {}, el('a', { href: `/console/image?id=${encodeURIComponent(task.image_id)}` }, task.image_id)),
      el('dt', {}, 'Created'), el('dd', {}, when(task.created_at)),
      el('dt', {}, 'Elapsed'), el('dd', {}, duration(elapsed)),
      el('dt', {}, 'Builder'), el('dd', {}, task.builder_id || '—')),
    task.error_code ? failure() : null,
    el('div', { class: 'actions' },
      can('build.trigger') && ['failed', 'canceled'].includes(task.status)
        ? actionButton('Retry', async () => { task = await api('POST', `/api/vm-build/tasks/${id}/retry`); toast('Queued again'); drawState(); }, { id: 'retry' }) : null,
      can('build.trigger') && ['failed', 'canceled'].includes(task.status)
        ? actionButton('Retry from the start', async () => { task = await api('POST', `/api/vm-build/tasks/${id}/retry?fresh=true`); drawState(); }) : null,
      can('build.trigger') && open
        ? actionButton('Cancel', async () => { task = await api('POST', `/api/vm-build/tasks/${id}/cancel`); toast('Canceled'); drawState(); }, { class: 'danger', id: 'cancel' }) : null),
    task.phase_timings && task.phase_timings.length ? table('Phases', [
      ['Attempt', (p) => String(p.attempt)], ['Phase', (p) => p.phase], ['Started', (p) => when(p.started_at)], ['Took', (p) => duration(p.seconds)],
    ], task.phase_timings) : null);
  drawArtifact();
}

function failure() {
  const line = explainingLine();
  return el('div', { class: 'error', role: 'alert', id: 'failure' },
    el('p', {}, el('strong', {}, 'Failed: '), el('code', { class: 'code' }, task.error_code), ' ', task.error_message || ''),
    line ? el('p', {}, el('a', { href: `#${line.id}`, id: 'failure-line' }, `See ${line.file}.log line ${line.number}`)) : null);
}

/**
 * The log line that explains the failure, by the rule the server's failure report uses (BuildFailures): for
 * `ansible_failed` the first `fatal:`/`failed:` line of ansible.log, else the last error-looking line of the failing
 * phase's log.
 */
function explainingLine() {
  const find = (file, pick) => {
    const line = pick([...document.querySelectorAll(`#log-${file}-lines li`)]);
    return line ? { id: line.id, file, number: line.dataset.line } : null;
  };
  const ansible = task.error_code === 'ansible_failed'
    ? find('ansible', (lines) => lines.find((li) => /fatal: \[|failed: \[|ERROR!/.test(li.textContent))) : null;
  const phase = phaseLog[task.phase];
  return ansible || (phase ? find(phase, (lines) => lines.reverse().find((li) => /fatal|error|failed/i.test(li.textContent))) : null);
}

function followLog(file) {
  const list = document.getElementById(`log-${file}-lines`);
  const state = document.getElementById(`log-${file}-state`);
  const source = new EventSource(`/api/build-logs/proxy?task=${encodeURIComponent(id)}&file=${file}&follow=true`);
  source.onmessage = (event) => {
    const number = list.children.length + 1;
    const stick = list.scrollTop + list.clientHeight >= list.scrollHeight - 4;
    list.append(el('li', { id: `${file}-L${number}`, 'data-line': number }, event.data));
    if (stick) list.scrollTop = list.scrollHeight;
    state.textContent = `${number} lines · live`;
    if (task.error_code) drawFailureLink();
  };
  source.addEventListener('end', () => {
    source.close();
    state.textContent = `${list.children.length} lines`;
    if (task.error_code) drawFailureLink();
  });
  source.onerror = () => { if (source.readyState === EventSource.CLOSED) state.textContent = 'unavailable'; };
}

function drawFailureLink() {
  const current = document.getElementById('failure');
  if (current) current.replaceWith(failure());
}

async function drawArtifact() {
  const section = document.getElementById('artifact');
  section.hidden = !task.artifact_image_id;
  if (!task.artifact_image_id) { section.replaceChildren(); return; }
  if (section.dataset.shown === task.artifact_image_id) return;
  section.dataset.shown = task.artifact_image_id;
  const contents = await api('GET', `/api/vm_images/${encodeURIComponent(task.artifact_image_id)}/contents`).catch(() => null);
  section.replaceChildren(el('h2', {}, 'Artifact'),
    el('p', {}, el('a', { href: `/console/image?id=${encodeURIComponent(task.artifact_image_id)}` }, task.artifact_image_id)),
    contents ? el('p', {}, `From base ${contents.base_image_id} (sha256 ${String(contents.base_sha256).slice(0, 12)}…), configuration ${String(contents.configuration_hash).slice(0, 12)}…, builder ${contents.builder_version}; `,
      `${(contents.packages || []).length} packages, ${(contents.added || []).length} added, ${(contents.changed || []).length} changed.`) : null);
}
