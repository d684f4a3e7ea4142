// The "Check your inbox and enter verification code" step, shared by
// register (purpose register), login of an unconfirmed address (register)
// and reset (purpose reset).
import {
  t, onLang, api, say, clear, errorMessage, checkFields, fieldError, formatWait,
  wireCodeInput, Cooldown, RESEND_SECONDS, showStep
} from './common.js';

export function setupVerify({ purpose, endpoint, onSuccess, onChangeAddress }) {
  const step = document.getElementById('step-verify');
  const form = document.getElementById('verify-form');
  const code = document.getElementById('ver-code');
  const error = document.getElementById('verify-error');
  const sent = document.getElementById('ver-sent');
  const notice = document.getElementById('ver-notice');
  const resend = document.getElementById('resend');
  const status = document.getElementById('resend-status');
  const cooldown = new Cooldown(resend, document.getElementById('resend-wait'));
  let email = '';
  let minutes = 30;
  let busy = false;

  wireCodeInput(code);
  onLang(() => { sent.textContent = t('ver.sent', { email: email || '\u2026', minutes }); });

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (busy) return;
    clear(error);
    const bad = checkFields([code]);
    if (bad) { bad.focus(); return; }
    busy = true;
    const res = await api(endpoint, { email, code: code.value.trim() });
    busy = false;
    if (res.ok) { onSuccess(res.data); return; }
    say(error, errorMessage(res), 'error');
    if (res.error === 'invalid_code' || res.error === 'code_expired') {
      code.setAttribute('aria-invalid', 'true');
      code.select();
    }
    code.focus();
  });

  resend.addEventListener('click', async () => {
    if (busy) return;
    if (cooldown.active) {
      say(status, { key: 'ver.wait', vars: { time: formatWait(cooldown.left()) } }, 'info');
      return;
    }
    busy = true;
    const res = await api('resend', { email, purpose });
    busy = false;
    if (res.ok) {
      cooldown.start(RESEND_SECONDS);
      clear(error);
      fieldError(code, null);
      code.value = '';
      say(status, { key: 'ver.resent' }, 'ok');
      code.focus();
    } else if (res.error === 'rate_limited') {
      cooldown.start(res.retryAfter || RESEND_SECONDS);
      say(status, { key: 'ver.wait', vars: { time: formatWait(res.retryAfter || RESEND_SECONDS) } }, 'info');
    } else {
      say(status, errorMessage(res), 'error');
    }
  });

  document.getElementById('change-address').addEventListener('click', () => onChangeAddress());

  return {
    open(address, { expiresIn = 1800, noticeKey = null } = {}) {
      email = address;
      minutes = Math.max(1, Math.round(expiresIn / 60));
      sent.textContent = t('ver.sent', { email, minutes });
      code.value = '';
      fieldError(code, null);
      clear(error);
      clear(status);
      if (noticeKey) say(notice, { key: noticeKey }, 'info');
      else clear(notice);
      // the request that mailed this code counts as one: no new code for a while
      cooldown.start(RESEND_SECONDS);
      showStep(step, code);
    }
  };
}
