// Sign-in: a token is exchanged for a session cookie (POST /v1/session).
// The page's address is left alone, so the person lands where they were.

import {api} from './api.js';
import {alertBox, h, replace} from './dom.js';

export function signInView(root, {message, onSignedIn}) {
  const token = h('input', {
    id: 'token', name: 'token', type: 'password', autocomplete: 'current-password',
    required: true, spellcheck: 'false', 'aria-describedby': 'token-help',
  });
  const status = h('div', {class: 'signin-status'});
  const submit = h('button', {type: 'submit', class: 'primary'}, 'Sign in');
  const form = h('form', {class: 'signin-form', novalidate: true},
    h('label', {for: 'token'}, 'API token'),
    token,
    h('p', {id: 'token-help', class: 'muted'},
      'Paste a token made by an admin (assent token create). It is exchanged for a session '
      + 'cookie and not kept by the browser.'),
    status,
    submit);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!token.value.trim()) {
      token.setAttribute('aria-invalid', 'true');
      replace(status, alertBox('Enter your API token.'));
      token.focus();
      return;
    }
    submit.disabled = true;
    replace(status);
    try {
      const info = await api('POST', '/v1/session', {token: token.value.trim()});
      token.value = '';
      onSignedIn(info);
    } catch (error) {
      token.setAttribute('aria-invalid', 'true');
      replace(status, alertBox(error.status === 401
        ? 'That token is not valid (it may have been revoked).'
        : `Signing in failed: ${error.message}`));
      submit.disabled = false;
      token.select();
    }
  });
  replace(root, h('section', {class: 'signin', 'aria-labelledby': 'signin-title'},
    h('h1', {id: 'signin-title', tabindex: '-1'},
      h('img', {src: '/console/icon.svg', alt: '', width: '32', height: '32'}), 'Sign in to Assent'),
    h('p', {class: 'signin-lede'}, 'Review and decide what agents and automation ask to do.'),
    message ? alertBox(message, 'info') : null,
    form));
  token.focus();
}
