// account.html: newsletter on/off, change password, log out, delete account.
import { initPage, logout, paintNav } from './lib/page.js';
import { onLang, t } from './lib/i18n.js';
import { api } from './lib/api.js';
import { say, clear, errorMessage } from './lib/messages.js';
import { checkFields, fieldError, clearFieldErrors } from './lib/fields.js';
import { wirePasswordRules } from './lib/password.js';
import { withReturn } from './lib/returns.js';
import { flash } from './lib/carry.js';
import { setupDownloadLink } from './lib/download-link.js';

let busy = false;

function toLogin() {
  location.replace(withReturn('/login.html', '/account.html'));
}

/* not_authenticated in the middle of a form: the session ended elsewhere */
function sessionGone(res) {
  if (res.error !== 'not_authenticated') return false;
  flash('err.not_authenticated');
  toLogin();
  return true;
}

function setupNewsletter(session) {
  const form = document.getElementById('nl-form');
  const box = document.getElementById('acct-nl');
  const status = document.getElementById('nl-status');
  const error = document.getElementById('nl-error');
  let subscribed = !!session.newsletter;
  box.checked = subscribed;
  say(status, { key: subscribed ? 'acct.nlOn' : 'acct.nlOff' }, 'info');
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (busy) return;
    clear(error);
    busy = true;
    const res = await api('newsletter', { subscribe: box.checked ? '1' : '0' });
    busy = false;
    if (res.ok) {
      subscribed = res.data.status === 'subscribed';
      box.checked = subscribed;
      say(status, { key: subscribed ? 'acct.nlOn' : 'acct.nlOff' }, 'ok');
    } else if (!sessionGone(res)) {
      say(error, errorMessage(res), 'error');
    }
  });
}

function setupPassword() {
  const form = document.getElementById('pw-form');
  const current = document.getElementById('pw-current');
  const pw = document.getElementById('pw-new');
  const confirm = document.getElementById('pw-confirm');
  const error = document.getElementById('pw-error');
  const status = document.getElementById('pw-status');
  const rules = wirePasswordRules(pw, document.getElementById('pw-new-rules'),
                                  document.getElementById('pw-new-intro'));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (busy) return;
    clear(error);
    clear(status);
    clearFieldErrors(form);
    let bad = checkFields([current, pw, confirm]);
    if (!bad && !rules.allMet()) { fieldError(pw, 'f.rulesUnmet'); bad = pw; }
    if (!bad && pw.value !== confirm.value) { fieldError(confirm, 'f.mismatch'); bad = confirm; }
    if (bad) { bad.focus(); return; }
    busy = true;
    const res = await api('password/change', { current_password: current.value, password: pw.value });
    busy = false;
    if (res.ok) {
      for (const i of [current, pw, confirm]) i.value = '';
      pw.dispatchEvent(new Event('input'));
      say(status, { key: 'acct.pwDone' }, 'ok');
      status.setAttribute('tabindex', '-1');
      status.focus();
      return;
    }
    if (sessionGone(res)) return;
    if (res.error === 'invalid_credentials') {
      fieldError(current, 'err.wrong_password');
      say(error, { key: 'err.wrong_password' }, 'error');
      current.select();
      current.focus();
      return;
    }
    say(error, errorMessage(res), 'error');
    if (res.error === 'weak_password') { rules.serverFailed(res.data.failed); pw.focus(); }
  });
}

function setupDelete() {
  const form = document.getElementById('del-form');
  const pw = document.getElementById('del-password');
  const error = document.getElementById('del-error');
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (busy) return;
    clear(error);
    const bad = checkFields([pw]);
    if (bad) { bad.focus(); return; }
    busy = true;
    const res = await api('delete', { password: pw.value });
    busy = false;
    if (res.ok) {
      pw.value = '';
      document.getElementById('account').hidden = true;
      const gone = document.getElementById('deleted');
      gone.hidden = false;
      paintNav({ authenticated: false });
      document.getElementById('deleted-title').focus();
      return;
    }
    if (sessionGone(res)) return;
    if (res.error === 'invalid_credentials') {
      fieldError(pw, 'err.wrong_password');
      say(error, { key: 'err.wrong_password' }, 'error');
      pw.select();
      pw.focus();
      return;
    }
    say(error, errorMessage(res), 'error');
  });
}

initPage().then((session) => {
  if (!session || !session.authenticated) {
    toLogin();
    return;
  }
  document.getElementById('pw-username').value = session.email;
  onLang(() => {
    const who = t('acct.who', { email: session.email });
    document.getElementById('acct-who').textContent = session.name ? who + ' (' + session.name + ')' : who;
  });
  for (const el of document.querySelectorAll('[data-download-link]')) setupDownloadLink(el, sessionGone);
  setupNewsletter(session);
  setupPassword();
  setupDelete();
  document.getElementById('logout').addEventListener('click', logout);
  document.getElementById('account').hidden = false;
});
