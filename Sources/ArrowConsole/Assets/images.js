// Settings > VM Images: the organization's collection (custom, shared and public images), its default images in
// order, filters and search, uploads with progress, and removal of images nobody uses.
import { actionButton, api, apiAll, bytes, can, el, errorBox, field, organizationId, start, table, toast, duration } from './app.js';
import { pendingUpload, uploadImage } from './upload.js';

let images = [];
let defaults = [];
const filters = { q: '', collection: '', status: '', format: '' };

start(async (main) => {
  main.replaceChildren(
    el('h1', {}, 'Settings › VM Images'),
    can('image.upload') ? uploadPanel() : null,
    el('section', { id: 'defaults', 'aria-labelledby': 'defaults-heading' }),
    el('section', { 'aria-labelledby': 'collection-heading' },
      el('h2', { id: 'collection-heading' }, 'Collection'),
      filterBar(),
      el('div', { id: 'collection' })));
  await reload();
});

async function reload() {
  const org = organizationId();
  const [list, defaultList] = await Promise.all([
    apiAll('/api/vm_images'),
    org ? api('GET', `/api/organizations/${org}/default_images`) : { items: [] },
  ]);
  images = list.items;
  defaults = defaultList.items;
  drawDefaults();
  drawCollection();
}

function filterBar() {
  const search = el('input', { type: 'search', id: 'image-search', placeholder: 'Name, file or description' });
  search.addEventListener('input', () => { filters.q = search.value.trim().toLowerCase(); drawCollection(); });
  const select = (name, label, options) => {
    const node = el('select', { id: `filter-${name}` }, el('option', { value: '' }, 'All'),
      ...options.map((option) => el('option', { value: option }, option)));
    node.addEventListener('change', () => { filters[name] = node.value; drawCollection(); });
    return field(label, node);
  };
  return el('div', { class: 'filters', role: 'search' },
    field('Search', search),
    select('collection', 'Source', ['custom', 'shared', 'public']),
    select('status', 'Status', ['active', 'uploading', 'validating', 'rejected']),
    select('format', 'Format', ['qcow2', 'raw', 'vmdk', 'vhd', 'vhdx', 'iso']));
}

function visible() {
  return images.filter((image) =>
    (!filters.q || [image.name, image.file_name, image.description || ''].some((text) => text.toLowerCase().includes(filters.q)))
    && (!filters.collection || image.collection === filters.collection)
    && (!filters.status || image.status === filters.status)
    && (!filters.format || image.format === filters.format));
}

function drawCollection() {
  const rows = visible();
  const admin = can('image.admin');
  const columns = [
    ['Name', (image) => el('a', { href: `/console/image?id=${encodeURIComponent(image.id)}` }, image.name)],
    ['Version', (image) => `v${image.version}`],
    ['Source', (image) => el('span', { class: `badge ${image.collection}` }, image.collection || '—')],
    ['Status', (image) => el('span', { class: `status ${image.status}` }, image.status)],
    ['Format', (image) => image.format],
    ['Size', (image) => bytes(image.file_size)],
    ['Default', (image) => (image.default_position !== null && image.default_position !== undefined ? `#${image.default_position + 1}` : '')],
  ];
  if (admin) {
    columns.push(['Actions', (image) => el('div', { class: 'actions' },
      image.default_position === null || image.default_position === undefined
        ? actionButton('Make default', () => setDefaults([...defaults.map((d) => d.id), image.id]), { 'aria-label': `Make ${image.name} a default image`, class: 'make-default' })
        : null,
      image.collection === 'custom' ? actionButton('Remove', () => remove(image), { class: 'danger', 'aria-label': `Remove ${image.name}` }) : null)]);
  }
  const target = document.getElementById('collection');
  target.replaceChildren(
    el('p', { class: 'muted', role: 'status' }, `${rows.length} of ${images.length} images`),
    table('Images in this organization\'s collection', columns, rows, (image) => ({ 'data-image-id': image.id, 'data-name': image.name })));
}

function drawDefaults() {
  const admin = can('image.admin');
  const section = document.getElementById('defaults');
  const items = defaults.map((image, index) => el('li', { 'data-image-id': image.id },
    el('span', { class: 'name' }, image.name), ' ', el('span', { class: 'muted' }, `v${image.version}`),
    admin ? el('span', { class: 'actions' },
      actionButton('↑', () => move(index, -1), { 'aria-label': `Move ${image.name} up`, disabled: index === 0, class: 'move-up' }),
      actionButton('↓', () => move(index, 1), { 'aria-label': `Move ${image.name} down`, disabled: index === defaults.length - 1, class: 'move-down' }),
      actionButton('Remove from defaults', () => setDefaults(defaults.filter((d) => d.id !== image.id).map((d) => d.id)),
        { 'aria-label': `Remove ${image.name} from the defaults` })) : null));
  section.replaceChildren(
    el('h2', { id: 'defaults-heading' }, 'Default images'),
    el('p', { class: 'muted' }, 'New devices get these images, in this order.'),
    items.length ? el('ol', { id: 'default-list', class: 'defaults' }, ...items) : el('p', {}, 'No default images yet.'));
}

async function move(index, step) {
  const ids = defaults.map((d) => d.id);
  const [moved] = ids.splice(index, 1);
  ids.splice(index + step, 0, moved);
  await setDefaults(ids);
  const button = document.querySelector(`#default-list li[data-image-id="${CSS.escape(moved)}"] .${step < 0 ? 'move-up' : 'move-down'}`);
  if (button && !button.disabled) button.focus();
}

async function setDefaults(ids) {
  const result = await api('PUT', `/api/organizations/${organizationId()}/default_images`, { image_ids: ids });
  defaults = result.items;
  const positions = new Map(defaults.map((image, index) => [image.id, index]));
  for (const image of images) image.default_position = positions.has(image.id) ? positions.get(image.id) : null;
  drawDefaults();
  drawCollection();
  toast('Default images saved');
}

async function remove(image) {
  if (!window.confirm(`Remove ${image.name} v${image.version}? This deletes the image file.`)) return;
  try {
    await api('DELETE', `/api/vm_images/${encodeURIComponent(image.id)}`);
    toast(`${image.name} removed`);
    await reload();
  } catch (error) {
    // `image_in_use` says what still needs the image.
    document.getElementById('collection').prepend(errorBox(error));
    throw error;
  }
}

function uploadPanel() {
  const file = el('input', { type: 'file', id: 'upload-file', required: true, accept: '.iso,.qcow2,.vmdk,.vhd,.vhdx,.raw,.img' });
  const name = el('input', { type: 'text', id: 'upload-name', required: true, maxlength: 255 });
  const description = el('input', { type: 'text', id: 'upload-description', maxlength: 1000 });
  const progress = el('progress', { id: 'upload-progress', max: 100, value: 0, 'aria-label': 'Upload progress' });
  const figures = el('p', { id: 'upload-figures', class: 'muted', 'aria-live': 'polite' });
  const result = el('div', { id: 'upload-result' });
  const resumeNote = el('p', { class: 'muted', id: 'upload-resume' });
  file.addEventListener('change', () => {
    const chosen = file.files[0];
    if (chosen && !name.value) name.value = chosen.name.replace(/\.[^.]+$/, '');
    resumeNote.textContent = chosen && pendingUpload(chosen) ? 'An earlier upload of this file was interrupted: only the missing parts will be sent.' : '';
  });
  const submit = el('button', { type: 'submit', class: 'primary', id: 'upload-submit' }, 'Upload');
  const form = el('form', { class: 'card', id: 'upload-form' },
    el('h2', {}, 'Upload an image'),
    el('div', { class: 'row' }, field('Image file (ISO, QCOW2, VMDK, VHD, RAW)', file), field('Name', name), field('Description', description)),
    resumeNote, submit, progress, figures, result);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const chosen = file.files[0];
    if (!chosen) return;
    submit.disabled = true;
    result.replaceChildren();
    progress.value = 0;
    const fields = { name: name.value };
    if (description.value) fields.description = description.value;
    try {
      const image = await uploadImage(chosen, fields, (p) => {
        progress.value = p.total ? (100 * p.sent) / p.total : 100;
        progress.dataset.state = p.state;
        const state = { uploading: '', waiting: ' · connection lost, retrying', checking: ' · checking the image', done: ' · done' }[p.state];
        figures.textContent = `${bytes(p.sent)} of ${bytes(p.total)} · ${bytes(p.rate)}/s · ${p.remaining === null ? '—' : duration(p.remaining)} left${state}`;
      });
      progress.value = 100;
      result.replaceChildren(el('p', { class: 'ok', id: 'upload-done' }, `${image.name} v${image.version} uploaded (${image.format}, ${bytes(image.file_size)})`));
      form.reset();
      await reload();
    } catch (error) {
      figures.textContent = error.violations && error.violations.length ? 'The image was refused:' : 'The upload stopped:';
      result.replaceChildren(el('div', { id: 'upload-refused' }, errorBox(error)));
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}
