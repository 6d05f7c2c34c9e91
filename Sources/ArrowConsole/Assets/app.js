// The console's shared part: API calls with the session cookie and its CSRF token, the signed-in user, the page
// frame (navigation), and small DOM helpers. Everything on a page is built with DOM calls and text nodes, never by
// parsing HTML, so no value from the API can become markup.

let csrfToken = null;
export let session = null;

export class ApiError extends Error {
  constructor(status, body) {
    const detail = (body && body.error) || {};
    super(detail.message || `HTTP ${status}`);
    this.status = status;
    this.code = detail.code || `http_${status}`;
    this.violations = detail.violations || [];
    this.requestId = detail.request_id;
  }
}

/** Calls the API: JSON in and out; a state-changing call carries the CSRF token. */
export async function api(method, path, body, options = {}) {
  const headers = { Accept: 'application/json', ...(options.headers || {}) };
  if (!['GET', 'HEAD'].includes(method) && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  let payload = body;
  if (body !== undefined && !(body instanceof FormData) && !(body instanceof Blob)) {
    headers['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  const response = await fetch(path, { method, headers, body: payload, credentials: 'same-origin', signal: options.signal });
  if (response.status === 204) return null;
  const type = response.headers.get('Content-Type') || '';
  const data = type.includes('json') ? await response.json() : await response.text();
  if (!response.ok) {
    if (response.status === 401 && !options.allowUnauthorized) {
      location.assign(`/console/login?next=${encodeURIComponent(location.pathname + location.search)}`);
    }
    throw new ApiError(response.status, typeof data === 'object' ? data : null);
  }
  return data;
}

export function setCsrfToken(token) { csrfToken = token; }

/** Every item of a paged list (`limit`/`offset`), a page of `pageSize` at a time: a collection may outgrow one page. */
export async function apiAll(path, pageSize = 500) {
  const items = [];
  for (;;) {
    const separator = path.includes('?') ? '&' : '?';
    const page = await api('GET', `${path}${separator}limit=${pageSize}&offset=${items.length}`);
    items.push(...page.items);
    if (page.items.length < pageSize) return { items };
  }
}

/** Loads the session (or goes to the sign-in page), draws the frame, and runs the page. */
export async function start(render) {
  try {
    session = await api('GET', '/api/auth/session');
  } catch (error) {
    if (error.status !== 401) showFatal(error);
    return;
  }
  setCsrfToken(session.csrf_token);
  drawFrame();
  const main = document.getElementById('main');
  try {
    await render(main);
  } catch (error) {
    showFatal(error);
  }
}

export function can(permission) {
  return !!session && session.permissions.includes(permission);
}

export function organizationId() {
  return session && session.organization ? session.organization.id : null;
}

function drawFrame() {
  const page = document.body.dataset.page;
  const links = [
    ['images', 'VM Images', '/console/images', 'image.read'],
    ['builds', 'Builds', '/console/builds', 'build.read'],
    ['settings', 'Organization', '/console/settings', 'org.admin'],
    ['operations', 'Operations', '/console/operations', 'build.read'],
  ];
  const current = { image: 'images', task: 'builds' }[page] || page;
  const nav = el('nav', { 'aria-label': 'Main' },
    el('ul', {}, ...links.filter(([, , , permission]) => can(permission)).map(([name, label, href]) =>
      el('li', {}, el('a', { href, 'aria-current': name === current ? 'page' : null }, label)))));
  const signOut = el('button', { type: 'button', class: 'link', id: 'sign-out' }, 'Sign out');
  signOut.addEventListener('click', async () => {
    try { await api('DELETE', '/api/auth/session'); } catch (error) { /* already gone */ }
    location.assign('/console/login');
  });
  const who = el('div', { class: 'who' },
    el('span', {}, session.user.email),
    el('span', { class: 'badge' }, session.role),
    session.organization ? el('span', { class: 'muted' }, session.organization.name) : null,
    signOut);
  const top = document.getElementById('top');
  top.replaceChildren(el('a', { class: 'brand', href: '/console/images' }, 'ARROW imaging'), nav, who);
}

function showFatal(error) {
  const main = document.getElementById('main');
  main.replaceChildren(el('h1', {}, 'Something went wrong'), errorBox(error));
}

/** `el('a', {href: '/x', class: 'y'}, 'text', child)`: an element with attributes and children (strings become text). */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  append(node, children);
  return node;
}

/** An SVG element (for charts). */
export function svg(tag, attributes = {}, ...children) {
  const node = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [name, value] of Object.entries(attributes)) if (value !== null && value !== undefined) node.setAttribute(name, String(value));
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** An error as the API gave it: message, stable code, and every failed check. */
export function errorBox(error) {
  return el('div', { class: 'error', role: 'alert' },
    el('p', {}, el('strong', {}, error.message || String(error)), error.code ? [' ', el('code', { class: 'code' }, error.code)] : null),
    error.violations && error.violations.length
      ? el('ul', { class: 'violations' }, ...error.violations.map((v) => el('li', {}, el('code', {}, v.check), ' ', v.message)))
      : null);
}

export function toast(message, kind = 'info') {
  const box = document.getElementById('toasts');
  const item = el('div', { class: `toast ${kind}` }, message);
  box.append(item);
  setTimeout(() => item.remove(), 6000);
}

/** A table with a caption; `columns` are `[heading, (row) => cell]`. */
export function table(caption, columns, rows, rowAttributes = () => ({})) {
  return el('table', {},
    el('caption', {}, caption),
    el('thead', {}, el('tr', {}, ...columns.map(([heading]) => el('th', { scope: 'col' }, heading)))),
    el('tbody', {}, ...rows.map((row) => el('tr', rowAttributes(row), ...columns.map(([, cell]) => el('td', {}, cell(row)))))));
}

export function field(label, input, hint) {
  const id = input.id || `f-${Math.random().toString(36).slice(2)}`;
  input.id = id;
  return el('div', { class: 'field' }, el('label', { for: id }, label), input, hint ? el('small', { class: 'muted' }, hint) : null);
}

/** A labelled checkbox; `data` adds attributes to the input. */
export function checkbox(id, label, checked, data = {}) {
  return el('div', { class: 'check' }, el('input', { type: 'checkbox', id, checked, ...data }), el('label', { for: id }, label));
}

export function bytes(count) {
  if (count === null || count === undefined) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = count;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit += 1; }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

export function duration(seconds) {
  if (seconds === null || seconds === undefined || !isFinite(seconds)) return '—';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

export function when(iso) {
  if (!iso) return '—';
  const date = new Date(iso);
  return el('time', { datetime: iso, title: iso }, date.toLocaleString());
}

export function query(name) {
  return new URLSearchParams(location.search).get(name);
}

/** A button that runs `action`, disabled while it runs, showing errors as toasts. */
export function actionButton(label, action, attributes = {}) {
  const button = el('button', { type: 'button', ...attributes }, label);
  button.addEventListener('click', async () => {
    button.disabled = true;
    try {
      await action();
    } catch (error) {
      toast(`${error.message}${error.code ? ` (${error.code})` : ''}`, 'error');
    } finally {
      button.disabled = false;
    }
  });
  return button;
}
