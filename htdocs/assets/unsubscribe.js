// unsubscribed.html?token=...: a landing page for the newsletter's
// unsubscribe link. Opening it changes nothing (link scanners open links);
// the button sends the RFC 8058 one-click POST.
import { initPage } from './lib/page.js';
import { api } from './lib/api.js';
import { say, errorMessage } from './lib/messages.js';
import { param } from './lib/returns.js';

const token = param('token') || '';
const form = document.getElementById('unsub-form');
const error = document.getElementById('unsub-error');
const valid = /^[A-Za-z0-9_-]{43}$/.test(token);

if (!valid) {
  say(error, { key: 'unsub.invalid' }, 'error');
  document.getElementById('unsub-submit').hidden = true;
}

form.addEventListener('submit', async (e) => {
  e.preventDefault();
  if (!valid) return;
  const res = await api('newsletter/unsubscribe?token=' + encodeURIComponent(token),
                        { 'List-Unsubscribe': 'One-Click' });
  if (res.ok) {
    form.hidden = true;
    document.getElementById('unsub-done').hidden = false;
    say(document.getElementById('unsub-status'), { key: 'unsub.done' }, 'ok');
    return;
  }
  say(error, res.error === 'invalid_token' ? { key: 'unsub.invalid' } : errorMessage(res), 'error');
});

initPage();
