// login.html: honours ?return= (local paths only; the server checks again),
// and lets an address that was never confirmed enter its code here.
import { initPage } from './lib/page.js';
import { onLang, t } from './lib/i18n.js';
import { api } from './lib/api.js';
import { say, clear, errorMessage } from './lib/messages.js';
import { checkFields, clearFieldErrors } from './lib/fields.js';
import { safeReturn, param, withReturn } from './lib/returns.js';
import { recalledEmail, rememberEmail, flash } from './lib/carry.js';
import { showStep } from './lib/steps.js';
import { setupVerify } from './lib/verify.js';
import { settings } from './lib/settings.js';
import { durationText } from './lib/time.js';

const ret = safeReturn(param('return'), '/');
const form = document.getElementById('login-form');
const email = document.getElementById('login-email');
const password = document.getElementById('login-password');
const error = document.getElementById('login-error');
const why = document.getElementById('login-why');
let busy = false;

document.getElementById('forgot-link').href =
  withReturn('/reset.html', location.pathname + location.search);
email.value = recalledEmail();

// "Keep me logged in ... for 30 days": as long as NatommSessionRemember says
const rememberLabel = document.getElementById('login-remember-label');
let remember = 0;
const paintRemember = () => {
  rememberLabel.textContent = remember
    ? t('f.remember', { time: durationText(remember) }) : t('f.rememberNoTime');
};
onLang(paintRemember);
settings().then((s) => {
  remember = s ? s.session_remember : 0;
  paintRemember();
});

onLang(() => {
  if (ret.startsWith('/videos/')) why.textContent = t('login.forVideo');
  else if (ret !== '/') why.textContent = t('login.forPage');
  why.hidden = ret === '/';
});

const verify = setupVerify({
  purpose: 'register',
  endpoint: 'verify',
  onSuccess: () => {
    flash('login.verifiedNow');
    location.assign(ret);
  },
  onChangeAddress: () => {
    showStep(document.getElementById('step-login'), email);
    email.select();
  }
});

form.addEventListener('submit', async (e) => {
  e.preventDefault();
  if (busy) return;
  clear(error);
  clearFieldErrors(form);
  const bad = checkFields([email, password]);
  if (bad) { bad.focus(); return; }
  busy = true;
  const res = await api('login', {
    email: email.value.trim(),
    password: password.value,
    remember: document.getElementById('login-remember').checked ? '1' : undefined,
    return: ret
  });
  busy = false;
  if (res.ok) {
    rememberEmail(email.value.trim());
    location.assign(safeReturn(res.data.return, '/'));
    return;
  }
  if (res.error === 'verification_required') {
    verify.open(email.value.trim(), { noticeKey: 'login.unverified' });
    return;
  }
  say(error, errorMessage(res), 'error');
  if (res.error === 'invalid_credentials') {
    password.select();
    password.focus();
  } else if (res.error === 'invalid_email') {
    email.focus();
  }
});

initPage().then((session) => {
  if (session && session.authenticated) {
    const box = document.getElementById('already');
    document.getElementById('already-continue').href = ret;
    onLang(() => {
      document.getElementById('already-text').textContent = t('login.already', { email: session.email });
    });
    box.hidden = false;
  }
});
