// The server's rules and timings, as configured: GET /account/settings
// (password length, code format, code lifetimes, resend interval, "remember
// me"). The pages never hard-code them; each widget asks for them here and
// renders its text once they are in.
import { apiGet } from './api.js';

let pending = null;

const count = (v) => Number.isInteger(v) && v > 0;

function valid(s) {
  if (!s || !count(s.password_min) || !count(s.password_max) || !count(s.code_length)) return null;
  if (s.code_kind !== 'letters' && s.code_kind !== 'digits') return null;
  if (typeof s.code_alphabet !== 'string' || !/^[0-9A-Z]{2,}$/.test(s.code_alphabet)) return null;
  if (!count(s.register_code_lifetime) || !count(s.reset_code_lifetime)) return null;
  if (!Number.isInteger(s.resend_interval) || s.resend_interval < 0) return null;
  if (!Number.isInteger(s.session_remember) || s.session_remember < 0) return null;
  return s;
}

/* A promise of {site_name, password_min, password_max, code_kind ('letters'
 * or 'digits'), code_length, code_alphabet, register_code_lifetime,
 * reset_code_lifetime, resend_interval, session_remember} (seconds), or of
 * null when the server did not answer. Asked once per page. */
export function settings() {
  if (!pending) {
    pending = apiGet('settings').then((answer) => {
      const s = valid(answer);
      // for tests and style hooks, as data-session: the widgets render next
      document.documentElement.dataset.settings = s ? 'in' : 'unavailable';
      return s;
    });
  }
  return pending;
}
