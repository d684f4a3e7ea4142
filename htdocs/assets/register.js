// register.html: Create an account -> verification code -> success and the
// newsletter offer (unchecked: consent is a deliberate act).
import { initPage, paintNav } from './lib/page.js';
import { getLang, onLang, t } from './lib/i18n.js';
import { api } from './lib/api.js';
import { say, clear, errorMessage } from './lib/messages.js';
import { checkFields, fieldError, clearFieldErrors } from './lib/fields.js';
import { wirePasswordRules } from './lib/password.js';
import { safeReturn, param } from './lib/returns.js';
import { rememberEmail } from './lib/carry.js';
import { showStep } from './lib/steps.js';
import { setupVerify } from './lib/verify.js';

const ret = safeReturn(param('return'), '/');
const form = document.getElementById('register-form');
const email = document.getElementById('reg-email');
const password = document.getElementById('reg-password');
const error = document.getElementById('register-error');
const rules = wirePasswordRules(password, document.getElementById('reg-password-rules'),
                                document.getElementById('reg-password-intro'));
const done = document.getElementById('step-done');
const cont = document.getElementById('done-continue');
let busy = false;

cont.href = ret;
onLang(() => { cont.textContent = t(ret === '/' ? 'done.continue' : 'done.back'); });

const verify = setupVerify({
  purpose: 'register',
  endpoint: 'verify',
  onSuccess: () => {
    paintNav({ authenticated: true });
    showStep(done);
  },
  onChangeAddress: () => {
    showStep(document.getElementById('step-form'), email);
    email.select();
  }
});

form.addEventListener('submit', async (e) => {
  e.preventDefault();
  if (busy) return;
  clear(error);
  clearFieldErrors(form);
  let bad = checkFields([email, password]);
  if (!bad && !rules.allMet()) {
    fieldError(password, 'f.rulesUnmet');
    bad = password;
  }
  if (bad) { bad.focus(); return; }
  busy = true;
  const res = await api('register', {
    email: email.value.trim(),
    password: password.value,
    name: document.getElementById('reg-name').value.trim() || undefined,
    organisation: document.getElementById('reg-org').value.trim() || undefined,
    language: getLang()
  });
  busy = false;
  if (res.ok) {
    rememberEmail(email.value.trim());
    verify.open(email.value.trim(), { expiresIn: res.data.expires_in });
    return;
  }
  say(error, errorMessage(res), 'error');
  if (res.error === 'weak_password') {
    rules.serverFailed(res.data.failed);
    password.setAttribute('aria-invalid', 'true');
    password.focus();
  } else if (res.error === 'invalid_email') {
    fieldError(email, 'err.invalid_email');
    email.focus();
  }
});

// the newsletter offer
const nlForm = document.getElementById('newsletter-form');
const consent = document.getElementById('nl-consent');
const nlError = document.getElementById('newsletter-error');
const nlStatus = document.getElementById('newsletter-status');

nlForm.addEventListener('submit', async (e) => {
  e.preventDefault();
  if (busy) return;
  clear(nlError);
  if (!consent.checked) {
    say(nlError, { key: 'nl.tick' }, 'error');
    consent.focus();
    return;
  }
  busy = true;
  const res = await api('newsletter', { subscribe: '1' });
  busy = false;
  if (res.ok) {
    nlForm.hidden = true;
    say(nlStatus, { key: 'nl.subscribed' }, 'ok');
    cont.focus();
  } else {
    say(nlError, errorMessage(res), 'error');
  }
});

initPage();
