// One image: its metadata (editable), version history, what a build put in it and how its boot test went, shares
// with other organizations, metadata files (thumbnails, documents), its public download, and removal.
import { actionButton, api, bytes, can, el, errorBox, field, query, start, table, toast, when } from './app.js';

const id = query('id');
let image = null;

start(async (main) => {
  image = await api('GET', `/api/vm_images/${encodeURIComponent(id)}`);
  await draw(main);
});

async function draw(main) {
  const admin = can('image.admin');
  main.replaceChildren(
    el('p', {}, el('a', { href: '/console/images' }, '‹ VM Images')),
    el('h1', {}, `${image.name} `, el('span', { class: 'muted' }, `v${image.version}`)),
    el('dl', { class: 'facts' },
      ...fact('Status', el('span', { class: `status ${image.status}` }, image.status)),
      ...fact('Format', image.format), ...fact('File', `${image.file_name} (${bytes(image.file_size)})`),
      ...fact('Virtual size', bytes(image.virtual_size)), ...fact('SHA-256', el('code', { class: 'wrap' }, image.sha256)),
      ...fact('Uploaded', when(image.created_at)),
      ...fact('Public download', image.download_url ? el('a', { href: image.download_url }, image.download_url) : 'not published')),
    admin ? metadataForm() : null,
    el('section', { id: 'versions' }, el('h2', {}, 'Versions')),
    el('section', { id: 'contents' }, el('h2', {}, 'Contents and verification')),
    el('section', { id: 'shares' }, el('h2', {}, 'Shared with')),
    el('section', { id: 'metadata-files' }, el('h2', {}, 'Metadata files')),
    admin ? el('section', {}, el('h2', {}, 'Actions'), el('div', { class: 'actions' },
      image.download_url
        ? actionButton('Unpublish download', async () => { image = await api('DELETE', `/api/vm_images/${id}/download`); await draw(main); })
        : actionButton('Publish download', async () => { image = await api('PUT', `/api/vm_images/${id}/download`, {}); await draw(main); }),
      actionButton('Remove image', remove, { class: 'danger' }))) : null);
  await Promise.all([versions(), contents(), shares(admin), metadataFiles(admin)]);
}

function fact(term, value) {
  return [el('dt', {}, term), el('dd', {}, value)];
}

function metadataForm() {
  const name = el('input', { type: 'text', value: image.name, required: true });
  const description = el('textarea', { rows: 2 }, image.description || '');
  const software = el('textarea', { rows: 3, class: 'mono' }, JSON.stringify(image.software || [], null, 1));
  const message = el('div');
  const form = el('form', { class: 'card', id: 'metadata-form' }, el('h2', {}, 'Metadata'),
    field('Name', name), field('Description', description),
    field('Software (JSON list of {name, version, ansible_role})', software), message,
    el('button', { type: 'submit' }, 'Save metadata'));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    message.replaceChildren();
    let list;
    try { list = JSON.parse(software.value || '[]'); } catch (error) {
      message.replaceChildren(errorBox({ message: `Software is not valid JSON: ${error.message}` }));
      return;
    }
    try {
      image = await api('PATCH', `/api/vm_images/${id}`, { name: name.value, description: description.value, software: list });
      toast('Metadata saved');
    } catch (error) {
      message.replaceChildren(errorBox(error));
    }
  });
  return form;
}

async function versions() {
  const list = await api('GET', `/api/vm_images/${id}/versions`);
  document.getElementById('versions').append(table('Every version of this image', [
    ['Version', (v) => (v.id === image.id ? `v${v.version} (this)` : el('a', { href: `/console/image?id=${encodeURIComponent(v.id)}` }, `v${v.version}`))],
    ['Status', (v) => v.status], ['Size', (v) => bytes(v.file_size)], ['SHA-256', (v) => el('code', {}, v.sha256.slice(0, 16) + '…')],
    ['Uploaded', (v) => when(v.created_at)],
  ], list.items));
}

async function contents() {
  const section = document.getElementById('contents');
  let data;
  try {
    data = await api('GET', `/api/vm_images/${id}/contents`);
  } catch (error) {
    section.append(el('p', { class: 'muted' }, error.code === 'not_built' ? 'Uploaded, not built here: no build record.' : error.message));
    return;
  }
  const provenance = data.provenance || data;
  const verification = data.verification || provenance.verification;
  section.append(
    verification
      ? el('p', { class: `verification ${verification.status}` }, `Boot test ${verification.status}`,
        ` (${verification.accelerator}, booted in ${Math.round(verification.boot_seconds)} s) `,
        el('ul', {}, ...(verification.checks || []).map((c) => el('li', {}, c.passed ? '✔ ' : '✘ ', c.name))))
      : el('p', { class: 'muted' }, 'Not verified.'),
    el('p', {}, 'Built by task ', el('a', { href: `/console/task?id=${encodeURIComponent(provenance.task_id)}` }, provenance.task_id),
      ` from base ${provenance.base_image_id}, builder ${provenance.builder_version}`,
      provenance.template ? `, for template ${provenance.template.name} revision ${provenance.template.revision} (${provenance.template.trigger})` : ''),
    provenance.size ? sizeReport(provenance.size) : null,
    table(`${(provenance.packages || []).length} packages`, [
      ['Package', (p) => p.name], ['Version', (p) => p.version], ['Architecture', (p) => p.architecture],
    ], provenance.packages || []));
}

/** "Minimize software": the artifact's size and what each step added, largest first. */
function sizeReport(size) {
  const items = [...(size.items || [])].sort((a, b) => b.bytes - a.bytes);
  return el('div', { id: 'size-report' },
    el('p', {}, `Artifact ${bytes(size.artifact_bytes)}`,
      size.base_used_bytes !== undefined && size.used_bytes !== undefined ? `; file system ${bytes(size.base_used_bytes)} → ${bytes(size.used_bytes)}` : ''),
    table('What each step added to the image', [
      ['Added', (i) => (i.bytes < 0 ? `−${bytes(-i.bytes)}` : bytes(i.bytes))], ['Kind', (i) => i.kind], ['Step', (i) => i.name],
    ], items));
}

async function shares(admin) {
  const section = document.getElementById('shares');
  const list = await api('GET', `/api/vm_images/${id}/shares`);
  section.append(list.items.length
    ? el('ul', {}, ...list.items.map((share) => el('li', {}, share.organization_id, ' ',
      admin ? actionButton('Stop sharing', async () => { await api('DELETE', `/api/vm_images/${id}/shares/${share.organization_id}`); location.reload(); }) : null)))
    : el('p', { class: 'muted' }, 'Not shared.'));
  if (!admin) return;
  const organization = el('input', { type: 'text', required: true, placeholder: 'organization id' });
  const form = el('form', { class: 'inline', id: 'share-form' }, field('Share with organization', organization), el('button', { type: 'submit' }, 'Share'));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      await api('POST', `/api/vm_images/${id}/shares`, { organization_id: organization.value.trim() });
      location.reload();
    } catch (error) {
      form.append(errorBox(error));
    }
  });
  section.append(form);
}

async function metadataFiles(admin) {
  const section = document.getElementById('metadata-files');
  const list = await api('GET', `/api/vm_images/${id}/metadata_files`);
  section.append(list.items.length ? table('Thumbnails and documents', [
    ['File', (f) => el('a', { href: `/api/vm_images/${id}/metadata_files/${f.id}` }, f.file_name)],
    ['Size', (f) => bytes(f.file_size ?? f.size)],
    ['Preview', (f) => (/^image\//.test(f.content_type || '') ? el('img', { src: `/api/vm_images/${id}/metadata_files/${f.id}`, alt: f.file_name, class: 'thumb' }) : '')],
    ['', (f) => (admin ? actionButton('Delete', async () => { await api('DELETE', `/api/vm_images/${id}/metadata_files/${f.id}`); location.reload(); }) : '')],
  ], list.items) : el('p', { class: 'muted' }, 'None.'));
  if (!admin) return;
  const file = el('input', { type: 'file', required: true });
  const form = el('form', { class: 'inline', id: 'metadata-file-form' }, field('Add a file (1 KB – 10 MB)', file), el('button', { type: 'submit' }, 'Add'));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const chosen = file.files[0];
    if (!chosen) return;
    if (chosen.size < 1024 || chosen.size > 10 * 1024 * 1024) {
      form.append(errorBox({ message: `Metadata files must be between 1 KB and 10 MB; this one is ${bytes(chosen.size)}`, code: 'file_size' }));
      return;
    }
    const body = new FormData();
    body.append('file', chosen, chosen.name);
    try {
      await api('POST', `/api/vm_images/${id}/metadata_files`, body);
      location.reload();
    } catch (error) {
      form.append(errorBox(error));
    }
  });
  section.append(form);
}

async function remove() {
  if (!window.confirm(`Remove ${image.name} v${image.version}?`)) return;
  await api('DELETE', `/api/vm_images/${id}`);
  location.assign('/console/images');
}
