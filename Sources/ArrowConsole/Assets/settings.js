// Organization settings: the ClientConfig every build applies (VPN, network, branding with its logo, default software,
// deployment defaults), and the organization's webhooks. Secrets are shown only as set or not set; a secret field left
// empty keeps its value.
import { api, el, errorBox, field, organizationId, start, toast } from './app.js';
import { webhooksSection } from './webhooks.js';

const secretPaths = { 'vpn_config.setup_key': 'Setup key', 'vpn_config.api_token': 'API token' };
let view = null;

start(async (main) => {
  view = await api('GET', `/api/organizations/${organizationId()}/client-config`);
  draw(main);
});

function text(path, value, attributes = {}) {
  return el('input', { type: 'text', 'data-path': path, value: value ?? '', ...attributes });
}

function secret(path) {
  const set = view.secrets_set.includes(path);
  return el('input', { type: 'password', 'data-path': path, 'data-secret': true, autocomplete: 'off', value: '',
    placeholder: set ? 'set · leave empty to keep' : 'not set', 'aria-describedby': `${path}-state` });
}

function draw(main) {
  const c = view.config;
  const vpn = c.vpn_config || {};
  const network = c.network_settings || {};
  const branding = c.branding || {};
  const deployment = c.deployment || {};
  const logoInput = el('input', { type: 'file', accept: 'image/png,image/svg+xml,image/jpeg', id: 'logo-file' });
  const logoPreview = el('div', { id: 'logo-preview' }, branding.logo_base64 ? el('img', { src: `data:image/png;base64,${branding.logo_base64}`, alt: 'Current logo', class: 'thumb' }) : 'No logo');
  let logo = branding.logo_base64 ?? null;
  logoInput.addEventListener('change', async () => {
    const file = logoInput.files[0];
    if (!file) return;
    const data = new Uint8Array(await file.arrayBuffer());
    let binary = '';
    for (let i = 0; i < data.length; i += 0x8000) binary += String.fromCharCode(...data.subarray(i, i + 0x8000));
    logo = btoa(binary);
    logoPreview.replaceChildren(el('img', { src: URL.createObjectURL(file), alt: 'New logo', class: 'thumb' }));
  });
  const software = el('textarea', { rows: 4, class: 'mono', id: 'default-software' }, JSON.stringify(c.default_software || [], null, 1));
  const message = el('div', { id: 'settings-message' });
  const secretState = (path) => el('small', { id: `${path}-state`, class: 'muted' }, view.secrets_set.includes(path) ? 'set' : 'not set');
  const form = el('form', { class: 'card', id: 'settings-form' },
    el('p', { class: 'muted' }, `Revision ${view.revision}`),
    el('fieldset', {}, el('legend', {}, 'VPN (NetBird)'),
      field('Management URL', text('vpn_config.management_url', vpn.management_url)),
      field('API URL', text('vpn_config.api_url', vpn.api_url)),
      field('Package repository', text('vpn_config.package_repository', vpn.package_repository)),
      field('Groups (comma separated)', text('vpn_config.groups', (vpn.groups || []).join(', '), { 'data-list': true })),
      ...Object.entries(secretPaths).map(([path, label]) => el('div', { class: 'field' },
        el('label', { for: path }, label), Object.assign(secret(path), { id: path }), secretState(path)))),
    el('fieldset', {}, el('legend', {}, 'Network'),
      field('Host name', text('network_settings.hostname', network.hostname)),
      field('Domain', text('network_settings.domain', network.domain)),
      field('Interface', text('network_settings.interface', network.interface)),
      field('Mode (dhcp or static)', text('network_settings.mode', network.mode)),
      field('Address (CIDR)', text('network_settings.address', network.address)),
      field('Gateway', text('network_settings.gateway', network.gateway)),
      field('DNS servers (comma separated)', text('network_settings.dns', (network.dns || []).join(', '), { 'data-list': true }))),
    el('fieldset', {}, el('legend', {}, 'Branding'),
      field('Organization name', text('branding.organization_name', branding.organization_name)),
      field('Message of the day', text('branding.motd', branding.motd)),
      field('Login banner', text('branding.login_banner', branding.login_banner)),
      field('Primary colour', text('branding.primary_color', branding.primary_color, { placeholder: '#1f5fbf' })),
      field('Logo', logoInput), logoPreview),
    el('fieldset', {}, el('legend', {}, 'Builds'),
      field('Default software (JSON list of {name, version, ansible_role})', software),
      field('Default deployment target', text('deployment.target', deployment.target, { placeholder: 'qemu, proxmox, download or none' })),
      field('Default build server', text('deployment.build_server_id', deployment.build_server_id)),
      field('Time zone', text('timezone', c.timezone))),
    message, el('button', { type: 'submit', class: 'primary' }, 'Save settings'));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    message.replaceChildren();
    const config = structuredClone(view.config);
    for (const input of form.querySelectorAll('input[data-path]')) {
      const value = input.value.trim();
      if (input.dataset.secret !== undefined && value === '') continue;
      assign(config, input.dataset.path, input.dataset.list !== undefined ? value.split(',').map((s) => s.trim()).filter(Boolean) : (value || null));
    }
    try {
      config.default_software = JSON.parse(software.value || '[]');
    } catch (error) {
      message.replaceChildren(errorBox({ message: `Default software is not valid JSON: ${error.message}` }));
      return;
    }
    if (logo) assign(config, 'branding.logo_base64', logo);
    try {
      view = await api('PUT', `/api/organizations/${organizationId()}/client-config`, config, { headers: { 'If-Match': `"${view.revision}"` } });
      toast('Settings saved');
      draw(main);
    } catch (error) {
      message.replaceChildren(errorBox(error));
    }
  });
  main.replaceChildren(el('h1', {}, 'Organization settings'), form, webhooksSection());
}

/** Sets `a.b` in `object`, dropping empty values and objects left empty. */
function assign(object, path, value) {
  const keys = path.split('.');
  let node = object;
  for (const key of keys.slice(0, -1)) node = node[key] = node[key] || {};
  const last = keys[keys.length - 1];
  if (value === null || (Array.isArray(value) && value.length === 0)) delete node[last]; else node[last] = value;
}
