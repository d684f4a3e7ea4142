// reset.html: Reset password -> code -> Create a new password (rules shown
// before typing, checked while typing) -> updated, with a button back to the
// page the user was on. A reset never logs in: that page asks for the new
// password.
import { initPage } from './lib/page.js';
import { api } from './lib/api.js';
import { say, clear, errorMessage } from './lib/messages.js';
import { checkFields, fieldError, clearFieldErrors } from './lib/fields.js';
import { wirePasswordRules } from './lib/password.js';
import { safeReturn, param, withReturn } from './lib/returns.js';
import { rememberEmail, recalledEmail } from './lib/carry.js';
import { showStep } from './lib/steps.js';
import { setupVerify } from './lib/verify.js';

const ret = safeReturn(param('return'), '/login.html');
// the button goes back to where the user was; that is a log-in page as a rule
const back = ret.startsWith('/login.html') ? ret : withReturn('/login.html', ret);
document.getElementById('reset-cancel').href = back;
document.getElementById('reset-back').href = back;

const forgotForm = document.getElementById('forgot-form');
const email = document.getElementById('reset-email');
const forgotError = document.getElementById('forgot-error');
const newForm = document.getElementById('new-form');
const pw = document.getElementById('new-password');
const confirm = document.getElementById('new-confirm');
const newError = document.getElementById('new-error');
const rules = wirePasswordRules(pw, document.getElementById('new-password-rules'),
                                document.getElementById('new-intro'));
let token = null;
let busy = false;

email.value = recalledEmail();

const verify = setupVerify({
  purpose: 'reset',
  endpoint: 'password/verify',
  onSuccess: (data) => {
    token = data.reset_token;
    document.getElementById('new-username').value = email.value.trim();
    showStep(document.getElementById('step-new'), pw);
  },
  onChangeAddress: () => {
    showStep(document.getElementById('step-email'), email);
    email.select();
  }
});

forgotForm.addEventListener('submit', async (e) => {
  e.preventDefault();
  if (busy) return;
  clear(forgotError);
  const bad = checkFields([email]);
  if (bad) { bad.focus(); return; }
  busy = true;
  const res = await api('password/forgot', { email: email.value.trim() });
  busy = false;
  if (res.ok) {
    rememberEmail(email.value.trim());
    verify.open(email.value.trim(), { expiresIn: res.data.expires_in });
    return;
  }
  say(forgotError, errorMessage(res), 'error');
  email.focus();
});

newForm.addEventListener('submit', async (e) => {
  e.preventDefault();
  if (busy) return;
  clear(newError);
  clearFieldErrors(newForm);
  let bad = checkFields([pw, confirm]);
  if (!bad && !rules.allMet()) { fieldError(pw, 'f.rulesUnmet'); bad = pw; }
  if (!bad && pw.value !== confirm.value) { fieldError(confirm, 'f.mismatch'); bad = confirm; }
  if (bad) { bad.focus(); return; }
  busy = true;
  const res = await api('password/reset', { reset_token: token, password: pw.value });
  busy = false;
  if (res.ok) {
    token = null;
    pw.value = '';
    confirm.value = '';
    showStep(document.getElementById('step-done'));
    return;
  }
  if (res.error === 'invalid_token') {
    say(newError, { key: 'err.invalid_token', link: { href: location.pathname + location.search, key: 'reset.restart' } }, 'error');
  } else {
    say(newError, errorMessage(res), 'error');
  }
  if (res.error === 'weak_password') rules.serverFailed(res.data.failed);
  pw.focus();
});

initPage();
