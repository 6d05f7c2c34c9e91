// Sign-in: email and password for a session cookie; then back to the page that sent us here.
import { ApiError, api, el, errorBox, field } from './app.js';

function safeNext() {
  // Only a path on this server: a protocol-relative or absolute `next` would make this an open redirect.
  const next = new URLSearchParams(location.search).get('next') || '/console/images';
  return /^\/(?!\/)[^\\]*$/.test(next) ? next : '/console/images';
}

function render() {
  const main = document.getElementById('main');
  const email = el('input', { type: 'email', name: 'email', autocomplete: 'username', required: true });
  const password = el('input', { type: 'password', name: 'password', autocomplete: 'current-password', required: true });
  const message = el('div', { id: 'login-error' });
  const form = el('form', { class: 'card narrow', id: 'login-form' },
    field('Email', email), field('Password', password), message,
    el('button', { type: 'submit', class: 'primary' }, 'Sign in'));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    message.replaceChildren();
    try {
      await api('POST', '/api/auth/session', { email: email.value, password: password.value }, { allowUnauthorized: true });
      location.assign(safeNext());
    } catch (error) {
      message.replaceChildren(errorBox(error instanceof ApiError ? error : { message: String(error) }));
      password.value = '';
      password.focus();
    }
  });
  document.getElementById('top').replaceChildren(el('span', { class: 'brand' }, 'ARROW imaging'));
  main.replaceChildren(el('h1', {}, 'Sign in'), form);
  email.focus();
}

render();
