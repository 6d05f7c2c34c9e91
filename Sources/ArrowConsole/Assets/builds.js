// Builds: the trigger form (image, software, the four Ansible flags, VM name, deployment target) and the build
// monitor, a table of every task that the server's event stream keeps current: no reloads, no polling from here.
import { actionButton, api, apiAll, can, checkbox, duration, el, errorBox, field, organizationId, start, table, toast, when } from './app.js';

const tasks = new Map();
const flags = [
  ['install_vpn', 'Install VPN (NetBird)'], ['harden_ssh', 'Harden SSH'],
  ['install_monitoring', 'Install monitoring'], ['apply_branding', 'Apply branding'],
];

start(async (main) => {
  main.replaceChildren(
    el('h1', {}, 'Builds'),
    can('image.admin') ? await triggerForm() : null,
    await templatesSection(),
    el('section', { 'aria-labelledby': 'monitor-heading' },
      el('h2', { id: 'monitor-heading' }, 'Build monitor ', el('span', { id: 'live', class: 'badge', role: 'status' }, 'connecting…')),
      el('table', { id: 'monitor' },
        el('caption', {}, 'Every build of this organization, newest first; rows update as builders report'),
        el('thead', {}, el('tr', {}, ...['Task', 'Image', 'Status', 'Phase', 'Progress', 'Elapsed', 'Failure'].map((h) => el('th', { scope: 'col' }, h)))),
        el('tbody', {}))));
  follow();
  // Elapsed times tick on their own; only that text changes.
  setInterval(() => { for (const row of document.querySelectorAll('#monitor tbody tr')) updateElapsed(row); }, 1000);
});

function follow() {
  const live = document.getElementById('live');
  const source = new EventSource('/api/vm-build/events');
  source.addEventListener('task', (event) => upsert(JSON.parse(event.data)));
  source.addEventListener('ready', () => { live.textContent = 'live'; live.className = 'badge ok'; });
  source.onerror = () => { live.textContent = 'reconnecting…'; live.className = 'badge warn'; };
}

function upsert(task) {
  tasks.set(task.id, task);
  const body = document.querySelector('#monitor tbody');
  let row = body.querySelector(`tr[data-task-id="${CSS.escape(task.id)}"]`);
  const cells = [
    el('a', { href: `/console/task?id=${encodeURIComponent(task.id)}` }, task.id.slice(0, 8)),
    task.vm_name || task.image_id.slice(0, 8),
    el('span', { class: `status ${task.status}` }, task.status),
    task.phase || '—',
    el('progress', { max: 100, value: task.progress || 0, 'aria-label': `Progress of ${task.id.slice(0, 8)}` }),
    '',
    task.error_code ? el('code', {}, task.error_code) : '',
  ];
  const fresh = el('tr', { 'data-task-id': task.id, 'data-status': task.status, 'data-phase': task.phase || '' },
    ...cells.map((cell, index) => el('td', { class: ['id', 'image', 'status', 'phase', 'progress', 'elapsed', 'failure'][index] }, cell)));
  if (row) row.replaceWith(fresh); else body.prepend(fresh);
  updateElapsed(fresh);
}

function updateElapsed(row) {
  const task = tasks.get(row.dataset.taskId);
  if (!task) return;
  const from = Date.parse(task.started_at || task.created_at);
  const to = task.finished_at ? Date.parse(task.finished_at) : Date.now();
  row.querySelector('.elapsed').textContent = duration((to - from) / 1000);
}

async function triggerForm() {
  const org = organizationId();
  const [images, config, builders] = await Promise.all([
    apiAll('/api/vm_images?status=active'),
    can('org.admin') && org ? api('GET', `/api/organizations/${org}/client-config`).catch(() => null) : null,
    api('GET', '/api/builders').catch(() => ({ items: [] })),
  ]);
  const image = el('select', { id: 'trigger-image', required: true },
    ...images.items.map((i) => el('option', { value: i.id }, `${i.name} v${i.version} (${i.format})`)));
  const defaults = (config && config.config.default_software) || [];
  const roles = [...new Set(builders.items.flatMap((b) => b.roles || []))].sort();
  const software = el('fieldset', { id: 'trigger-software' }, el('legend', {}, 'Software'),
    defaults.length || roles.length ? null : el('p', { class: 'muted' }, 'No default software and no roles offered by a builder.'),
    ...defaults.map((item, index) => checkbox(`sw-${index}`, `${item.name}${item.version ? ` ${item.version}` : ''}${item.ansible_role ? ` (role ${item.ansible_role})` : ''}`,
      true, { 'data-software': JSON.stringify(item) })),
    ...roles.map((role) => checkbox(`role-${role}`, `Role ${role}`, false, { 'data-software': JSON.stringify({ name: role, ansible_role: role }) })));
  const flagBoxes = el('fieldset', { id: 'trigger-flags' }, el('legend', {}, 'Ansible flags'),
    ...flags.map(([name, label]) => checkbox(`flag-${name}`, label, false, { 'data-flag': name })));
  const vmName = el('input', { type: 'text', id: 'trigger-vm-name', pattern: '[A-Za-z0-9][A-Za-z0-9.\\-]*', maxlength: 63 });
  const target = el('select', { id: 'trigger-target' }, el('option', { value: '' }, 'Organization default'),
    ...['qemu', 'proxmox', 'download', 'none'].map((t) => el('option', { value: t }, t)));
  const buildType = el('select', { id: 'trigger-type' }, el('option', { value: 'vm' }, 'vm'), el('option', { value: 'pvm' }, 'pvm'));
  const message = el('div');
  const form = el('form', { class: 'card', id: 'trigger-form' }, el('h2', {}, 'Start a build'),
    field('Base image', image), software, flagBoxes,
    el('div', { class: 'row' }, field('VM name', vmName, 'Letters, digits, dots and dashes'), field('Device type', buildType),
      field('Deployment target', target)),
    message, el('button', { type: 'submit', class: 'primary' }, 'Start build'));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    message.replaceChildren();
    const options = {
      software: [...software.querySelectorAll('input:checked')].map((box) => JSON.parse(box.dataset.software)),
      ansible_flags: Object.fromEntries([...flagBoxes.querySelectorAll('input')].map((box) => [box.dataset.flag, box.checked])),
    };
    if (target.value) options.deployment_target = target.value;
    const body = { image_id: image.value, build_type: buildType.value, build_options: options };
    if (vmName.value) body.vm_name = vmName.value;
    try {
      const result = await api('POST', '/api/vm-build/trigger', body);
      toast(`Build ${result.tasks[0].id.slice(0, 8)} queued`);
    } catch (error) {
      message.replaceChildren(errorBox(error));
    }
  });
  return form;
}

/** The organization's build templates: schedule, next run, current version, last run; run one now. */
async function templatesSection() {
  const org = organizationId();
  if (!org) return null;
  const list = await api('GET', `/api/organizations/${org}/build-templates`);
  const rows = await Promise.all(list.items.map(async (t) => ({
    ...t, last: (await api('GET', `/api/organizations/${org}/build-templates/${t.id}/runs?limit=1`)).items[0],
  })));
  return el('section', { id: 'templates', 'aria-labelledby': 'templates-heading' },
    el('h2', { id: 'templates-heading' }, 'Templates'),
    rows.length ? table('Saved builds, rebuilt on their schedule or when their base image gets a new version', [
      ['Name', (t) => `${t.name} (r${t.revision})`],
      ['Base', (t) => el('a', { href: `/console/image?id=${encodeURIComponent(t.base_image_id)}` }, t.follow_latest ? 'latest version' : t.base_image_id.slice(0, 8))],
      ['Schedule', (t) => (t.schedule ? `${t.schedule} (${t.time_zone})` : '—')],
      ['Next run', (t) => (t.next_run_at ? when(t.next_run_at) : '—')],
      ['Current version', (t) => (t.latest_artifact_id ? el('a', { href: `/console/image?id=${encodeURIComponent(t.latest_artifact_id)}` }, t.latest_artifact_id.slice(0, 8)) : 'none yet')],
      ['Last run', (t) => (t.last ? [el('span', { class: `status ${t.last.status}` }, t.last.status), ' ', t.last.message || ''] : '—')],
      ['', (t) => (can('image.admin') ? actionButton('Run now', async () => {
        const run = await api('POST', `/api/organizations/${org}/build-templates/${t.id}/run`, {});
        toast(`Template ${t.name}: build ${run.task_id.slice(0, 8)} queued`);
      }, { 'aria-label': `Run template ${t.name} now` }) : '')],
    ], rows) : el('p', { class: 'muted' }, 'No templates yet (arrow template create).'));
}

