// The organization's webhooks, on the settings page: what is registered (URL, events), registering one — its signing
// secret is shown this once, as the API answers it only once — and removing one. The same API as the CLI.
import { actionButton, api, checkbox, el, errorBox, field, organizationId, table, toast, when } from './app.js';

const events = [
  ['build.succeeded', 'A build succeeded'], ['build.failed', 'A build failed'], ['build.canceled', 'A build was canceled'],
  ['template.settled', 'A template run ended (promoted, unchanged, not promoted or failed)'],
];

const path = () => `/api/organizations/${organizationId()}/webhooks`;

export function webhooksSection() {
  const list = el('div', { id: 'webhook-list' });
  const revealed = el('div', { id: 'webhook-secret', 'aria-live': 'polite' });
  const url = el('input', { type: 'url', id: 'webhook-url', required: true, placeholder: 'a public https address that takes POSTs' });
  const boxes = events.map(([name, label]) => checkbox(`webhook-event-${name}`, label, false, { 'data-event': name }));
  const message = el('div', { id: 'webhook-message' });
  const form = el('form', { id: 'webhook-form' },
    field('URL (public https or http)', url),
    el('fieldset', {}, el('legend', {}, 'Events (none ticked: all of them)'), ...boxes),
    message, el('button', { type: 'submit', class: 'primary' }, 'Register webhook'));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    message.replaceChildren();
    revealed.replaceChildren();
    const chosen = [...form.querySelectorAll('input[data-event]:checked')].map((box) => box.dataset.event);
    try {
      const hook = await api('POST', path(), { url: url.value.trim(), events: chosen });
      revealed.replaceChildren(el('div', { class: 'card', role: 'status' },
        el('p', {}, 'Signing secret, shown this once: give it to the receiver, which checks X-Arrow-Signature with it.'),
        el('code', { class: 'mono', id: 'webhook-secret-value' }, hook.secret)));
      form.reset();
      await reload(list);
    } catch (error) {
      message.replaceChildren(errorBox(error));
    }
  });
  reload(list).catch((error) => list.replaceChildren(errorBox(error)));
  return el('section', { class: 'card', id: 'webhooks', 'aria-labelledby': 'webhooks-heading' },
    el('h2', { id: 'webhooks-heading' }, 'Webhooks'), list, revealed, form);
}

async function reload(list) {
  const hooks = (await api('GET', path())).items;
  list.replaceChildren(hooks.length === 0 ? el('p', { class: 'muted' }, 'No webhooks.') : table('Webhooks of this organization', [
    ['URL', (hook) => el('span', { class: 'mono' }, hook.url)],
    ['Events', (hook) => [...hook.events].sort().join(', ')],
    ['Registered', (hook) => when(hook.created_at)],
    ['', (hook) => actionButton('Remove', async () => {
      await api('DELETE', `${path()}/${encodeURIComponent(hook.id)}`);
      toast('Webhook removed');
      await reload(list);
    }, { class: 'danger', 'aria-label': `Remove the webhook to ${hook.url}` })],
  ], hooks, (hook) => ({ 'data-webhook-id': hook.id })));
}
