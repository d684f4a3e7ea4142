// The "Check your inbox and enter verification code" step (the partial
// verify), shared by register (purpose register), login of an unconfirmed
// address (register) and reset (purpose reset). The code's lifetime and the
// resend interval are the server's (lib/settings.js).
import { t, onLang } from './i18n.js';
import { api } from './api.js';
import { settings } from './settings.js';
import { say, clear, errorMessage } from './messages.js';
import { checkFields, fieldError } from './fields.js';
import { formatWait, durationText } from './time.js';
import { wireCodeInput } from './code-field.js';
import { Cooldown } from './cooldown.js';
import { showStep } from './steps.js';

export function setupVerify({ purpose, endpoint, onSuccess, onChangeAddress }) {
  const step = document.getElementById('step-verify');
  const form = document.getElementById('verify-form');
  const code = document.getElementById('ver-code');
  const pwField = document.getElementById('ver-password-field');
  const password = document.getElementById('ver-password');
  const error = document.getElementById('verify-error');
  const sent = document.getElementById('ver-sent');
  const notice = document.getElementById('ver-notice');
  const resend = document.getElementById('resend');
  const status = document.getElementById('resend-status');
  const cooldown = new Cooldown(resend, document.getElementById('resend-wait'));
  let email = '';
  let lifetime = 0;           // seconds, once a code was sent
  let interval = 0;           // NatommResendInterval, once the settings are in
  let busy = false;

  wireCodeInput(code, document.getElementById('ver-code-hint'));
  const paintSent = () => {
    const vars = { email: email || '…', time: lifetime ? durationText(lifetime) : '' };
    sent.textContent = t(lifetime ? 'ver.sent' : 'ver.sentNoTime', vars);
  };
  onLang(paintSent);

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (busy) return;
    clear(error);
    const bad = checkFields([code]);
    if (bad) { bad.focus(); return; }
    busy = true;
    const fields = { email, code: code.value.trim() };
    if (!pwField.hidden && password.value) fields.password = password.value;
    const res = await api(endpoint, fields);
    busy = false;
    if (res.ok) { onSuccess(res.data); return; }
    // an address registered twice: the password chosen with the code is asked
    if (res.error === 'invalid_request' && res.data.field === 'password') {
      const again = !pwField.hidden && password.value;
      pwField.hidden = false;
      say(error, { key: again ? 'ver.passwordWrong' : 'ver.passwordNeeded' }, 'error');
      password.setAttribute('aria-invalid', again ? 'true' : 'false');
      password.focus();
      return;
    }
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
      if (interval) cooldown.start(interval);
      clear(error);
      fieldError(code, null);
      code.value = '';
      say(status, { key: 'ver.resent' }, 'ok');
      code.focus();
    } else if (res.error === 'rate_limited' && (res.retryAfter || interval)) {
      const wait = res.retryAfter || interval;
      cooldown.start(wait);
      say(status, { key: 'ver.wait', vars: { time: formatWait(wait) } }, 'info');
    } else {
      say(status, errorMessage(res), 'error');
    }
  });

  document.getElementById('change-address').addEventListener('click', () => onChangeAddress());

  return {
    /* shows the step for a code just sent to address; expiresIn: the
     * lifetime the server answered, else the configured one for purpose */
    async open(address, { expiresIn = 0, noticeKey = null } = {}) {
      const s = await settings();
      email = address;
      interval = s ? s.resend_interval : 0;
      lifetime = expiresIn ||
        (s ? (purpose === 'reset' ? s.reset_code_lifetime : s.register_code_lifetime) : 0);
      paintSent();
      code.value = '';
      password.value = '';
      pwField.hidden = true;
      fieldError(code, null);
      clear(error);
      clear(status);
      if (noticeKey) say(notice, { key: noticeKey }, 'info');
      else clear(notice);
      // the request that mailed this code counts as one: no new code for a while
      if (interval) cooldown.start(interval);
      else cooldown.stop();
      showStep(step, code);
    }
  };
}
