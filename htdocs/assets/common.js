// Shared by every page of the demo: language, the JSON API of mod_natomm,
// the header, messages, and the form widgets (password rules, code field,
// resend cooldown). No inline script or style anywhere: the pages run under
// Content-Security-Policy: default-src 'self'.
import { STRINGS, LANGS } from './i18n.js';

export const ACCOUNT = '/account';          // where `SetHandler natomm` is mounted
export const VIDEO = '/videos/nato-defence-ministers-sample.mp4';
export const RESEND_SECONDS = 60;           // NatommResendInterval default
const LANG_KEY = 'natomm.lang';
const FLASH_KEY = 'natomm.flash';
const EMAIL_KEY = 'natomm.email';

/* ---- language ------------------------------------------------------- */

function storedLang() {
  try {
    const v = localStorage.getItem(LANG_KEY);
    return LANGS.includes(v) ? v : null;
  } catch (e) {
    return null;
  }
}

function browserLang() {
  const list = navigator.languages && navigator.languages.length
    ? navigator.languages : [navigator.language || 'en'];
  for (const tag of list) {
    const two = String(tag).slice(0, 2).toLowerCase();
    if (LANGS.includes(two)) return two;
  }
  return 'en';
}

let lang = storedLang() || browserLang();
const renderers = [];

export function getLang() { return lang; }

export function t(key, vars) {
  let s = STRINGS[lang][key];
  if (s === undefined) s = STRINGS.en[key];
  if (s === undefined) return key;
  if (vars) s = s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
  return s;
}

/* fn runs now and again whenever the language changes */
export function onLang(fn) {
  renderers.push(fn);
  fn(lang);
}

function applyStatic() {
  document.documentElement.lang = lang;
  for (const el of document.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of document.querySelectorAll('[data-i18n-attr]')) {
    for (const pair of el.dataset.i18nAttr.split(';')) {
      const [attr, key] = pair.split(':').map((s) => s.trim());
      if (attr && key) el.setAttribute(attr, t(key));
    }
  }
  for (const b of document.querySelectorAll('[data-set-lang]'))
    b.setAttribute('aria-pressed', String(b.dataset.setLang === lang));
}

export function setLang(next) {
  if (!LANGS.includes(next)) return;
  lang = next;
  try { localStorage.setItem(LANG_KEY, next); } catch (e) { /* private mode */ }
  applyStatic();
  for (const fn of renderers) fn(lang);
}

/* ---- the JSON API ----------------------------------------------------- */

// POST form-encoded fields; the browser adds Origin, which the module checks.
export async function api(path, fields) {
  const body = new URLSearchParams();
  for (const [k, v] of Object.entries(fields || {})) {
    if (v !== undefined && v !== null) body.append(k, String(v));
  }
  let resp;
  try {
    resp = await fetch(ACCOUNT + '/' + path, {
      method: 'POST', body, credentials: 'same-origin', cache: 'no-store',
      headers: { Accept: 'application/json' }
    });
  } catch (e) {
    return { ok: false, status: 0, error: 'network', data: {}, retryAfter: 0 };
  }
  return readAnswer(resp);
}

async function readAnswer(resp) {
  let data = {};
  try { data = await resp.json(); } catch (e) { data = {}; }
  const retry = parseInt(resp.headers.get('Retry-After') || data.retry_after || '0', 10);
  return {
    ok: resp.ok, status: resp.status, data,
    error: resp.ok ? null : (data.error || 'http_' + resp.status),
    retryAfter: Number.isFinite(retry) && retry > 0 ? retry : 0
  };
}

export async function getSession() {
  try {
    const resp = await fetch(ACCOUNT + '/session', { credentials: 'same-origin', cache: 'no-store' });
    if (!resp.ok) return null;
    return await resp.json();
  } catch (e) {
    return null;
  }
}

/* ---- return paths: local only (the server checks again) ---------------- */

const CONTROL = /[\u0000-\u001f\u007f]/;

export function safeReturn(value, fallback = '/') {
  if (typeof value !== 'string' || !value || value.length > 2000) return fallback;
  if (value[0] !== '/' || value[1] === '/' || value[1] === '\\') return fallback;
  if (value.includes('\\') || CONTROL.test(value)) return fallback;
  let decoded;
  try { decoded = decodeURIComponent(value); } catch (e) { return fallback; }
  if (decoded.startsWith('//') || decoded.startsWith('/\\') || CONTROL.test(decoded)) return fallback;
  try {
    if (new URL(value, location.origin).origin !== location.origin) return fallback;
  } catch (e) {
    return fallback;
  }
  return value;
}

export function param(name) {
  return new URLSearchParams(location.search).get(name);
}

/* where "Log in" should bring the user back to: this page, or on the account
 * pages themselves the page they came from */
export function returnTarget() {
  const own = ['/login.html', '/register.html', '/reset.html'];
  if (own.includes(location.pathname)) return safeReturn(param('return'), '/');
  return location.pathname + location.search;
}

export function withReturn(page, target) {
  const r = safeReturn(target, '/');
  return r === '/' ? page + '?return=%2F' : page + '?return=' + encodeURIComponent(r);
}

/* ---- small state carried from one page to the next --------------------- */

export function flash(key) {
  try { sessionStorage.setItem(FLASH_KEY, key); } catch (e) { /* ignore */ }
}

export function rememberEmail(email) {
  try { sessionStorage.setItem(EMAIL_KEY, email); } catch (e) { /* ignore */ }
}

export function recalledEmail() {
  try { return sessionStorage.getItem(EMAIL_KEY) || ''; } catch (e) { return ''; }
}

function showFlash() {
  let key = null;
  try {
    key = sessionStorage.getItem(FLASH_KEY);
    sessionStorage.removeItem(FLASH_KEY);
  } catch (e) { key = null; }
  const region = document.getElementById('flash');
  if (key && region) say(region, { key }, key.startsWith('err.') ? 'error' : 'ok');
}

/* ---- messages ---------------------------------------------------------- */

const shown = new Map();    // region -> message, re-rendered on a language change

function render(region, msg) {
  region.textContent = '';
  if (!msg) return;
  const p = document.createElement('span');
  p.textContent = msg.text !== undefined ? msg.text : t(msg.key, msg.vars);
  region.append(p);
  if (msg.list && msg.list.length) {
    const ul = document.createElement('ul');
    for (const item of msg.list) {
      const li = document.createElement('li');
      li.textContent = t(item);
      ul.append(li);
    }
    region.append(ul);
  }
  if (msg.link) {
    region.append(' ');
    const a = document.createElement('a');
    a.href = msg.link.href;
    a.textContent = t(msg.link.key);
    region.append(a);
  }
}

/* msg: {key, vars?, list?: [keys], link?: {href, key}}; kind: error | ok | info */
export function say(region, msg, kind = 'info') {
  region.classList.remove('error', 'ok', 'info');
  region.classList.add(kind);
  shown.set(region, msg);
  render(region, msg);
}

export function clear(region) {
  shown.delete(region);
  region.textContent = '';
}

// a message on screen follows the language switch
renderers.push(() => {
  for (const [region, msg] of shown) render(region, msg);
});

export function formatWait(seconds) {
  const s = Math.max(0, Math.ceil(seconds));
  if (s <= 90) return t('time.s', { s });
  return t('time.ms', { m: Math.floor(s / 60), s: String(s % 60).padStart(2, '0') });
}

/* The sentence for an API error, in the page's language. */
export function errorMessage(res) {
  const d = res.data || {};
  switch (res.error) {
    case 'weak_password':
      return {
        key: 'err.weak_password',
        list: (d.failed || []).map((r) => (r === 'common' ? 'rule.commonFailed' : 'rule.' + r))
      };
    case 'invalid_code':
      return d.attempts_left > 0
        ? { key: 'err.invalid_code', vars: { n: d.attempts_left } }
        : { key: 'err.invalid_code_void' };
    case 'rate_limited':
      return { key: 'err.rate_limited', vars: { time: formatWait(res.retryAfter || 60) } };
    default:
      if (res.error && STRINGS.en['err.' + res.error]) return { key: 'err.' + res.error };
      return { key: 'err.other', vars: { code: res.error || res.status } };
  }
}

/* ---- fields ------------------------------------------------------------ */

function errorSlot(input) {
  return document.getElementById(input.id + '-error');
}

export function fieldError(input, key) {
  const slot = errorSlot(input);
  if (key) {
    input.setAttribute('aria-invalid', 'true');
    if (slot) say(slot, { key }, 'error');
  } else {
    input.removeAttribute('aria-invalid');
    if (slot) clear(slot);
  }
}

const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@.]+$/;

/* Checks required fields and e-mail syntax; marks every problem and returns
 * the first field at fault, or null. */
export function checkFields(inputs) {
  let first = null;
  for (const input of inputs) {
    let key = null;
    const v = input.type === 'password' ? input.value : input.value.trim();
    if (input.required && !v) key = 'f.required';
    else if (input.type === 'email' && v && !EMAIL_RE.test(v)) key = 'f.badEmail';
    fieldError(input, key);
    if (key && !first) first = input;
  }
  return first;
}

export function clearFieldErrors(form) {
  for (const input of form.querySelectorAll('input')) fieldError(input, null);
}

/* ---- password rules: listed before typing, marked while typing ---------- */

const SPACE = /[\s\u00a0\u1680\u2000-\u200b\u2028\u2029\u202f\u205f\u3000\ufeff]/u;
export const PW_MIN = 12;
export const PW_MAX = 128;

/* Mirrors the module's rules (src/policy.c), code point by code point.
 * "common" (dictionary, site name, address) is the server's to judge. */
export function passwordChecks(pw) {
  let n = 0, upper = false, lower = false, digit = false, symbol = false, space = false;
  for (const ch of pw) {
    n++;
    if (SPACE.test(ch)) space = true;
    else if (ch >= '0' && ch <= '9') digit = true;
    else if (/\p{Lu}/u.test(ch)) upper = true;
    else if (/\p{Ll}/u.test(ch)) lower = true;
    else if (!/[\p{L}\p{N}\p{M}]/u.test(ch)) symbol = true;
  }
  return {
    length: n >= PW_MIN && n <= PW_MAX,
    whitespace: n > 0 && !space,
    upper, lower, digit, symbol
  };
}

export function wirePasswordRules(input, list) {
  let serverSaysCommon = false;
  const update = () => {
    const pw = input.value;
    const checks = passwordChecks(pw);
    for (const li of list.querySelectorAll('li[data-rule]')) {
      const rule = li.dataset.rule;
      const state = li.querySelector('.rule-state');
      li.classList.remove('met', 'unmet', 'later');
      let met = null;
      if (rule === 'common') {
        if (serverSaysCommon) met = false;
        else li.classList.add('later');
      } else if (pw) {
        met = checks[rule];
      }
      if (met !== null) li.classList.add(met ? 'met' : 'unmet');
      if (state) state.textContent = met === null ? '' : ' \u2014 ' + t(met ? 'rule.met' : 'rule.unmet');
    }
  };
  input.addEventListener('input', () => { serverSaysCommon = false; update(); });
  onLang(update);
  return {
    allMet: () => Object.values(passwordChecks(input.value)).every(Boolean),
    serverFailed(failed) {
      serverSaysCommon = (failed || []).includes('common');
      update();
    }
  };
}

export function wirePasswordToggles() {
  for (const btn of document.querySelectorAll('[data-toggle-password]')) {
    const input = document.getElementById(btn.dataset.togglePassword);
    const label = btn.querySelector('[data-pw-label]');
    const paint = () => { label.textContent = t(input.type === 'password' ? 'f.show' : 'f.hide'); };
    btn.addEventListener('click', () => {
      input.type = input.type === 'password' ? 'text' : 'password';
      paint();
    });
    onLang(paint);
  }
}

/* ---- the code field: accepts "XXXX-XXXX" pasted from the mail ----------- */

const CODE_LETTERS = 'BCDFGHJKLMNPQRSTVWXZ';
const CODE_DASHED = new RegExp(`(?:^|[^A-Z])([${CODE_LETTERS}]{4})[-\u2010-\u2015 ]([${CODE_LETTERS}]{4})(?![A-Z])`);
const CODE_RUN = new RegExp(`(?:^|[^A-Z])([${CODE_LETTERS}]{8})(?![A-Z])`);

export function extractCode(text) {
  const up = String(text || '').toUpperCase();
  let m = up.match(CODE_DASHED);
  if (m) return m[1] + '-' + m[2];
  m = up.match(CODE_RUN);
  if (m) return m[1].slice(0, 4) + '-' + m[1].slice(4);
  m = up.match(/(?:^|\D)(\d(?:[\d -]{2,14})\d)(?!\d)/);     // NatommCodeFormat digits N
  if (m) return m[1];
  return null;
}

export function wireCodeInput(input) {
  input.addEventListener('paste', (e) => {
    const text = e.clipboardData ? e.clipboardData.getData('text') : '';
    const code = extractCode(text);
    if (code) {
      e.preventDefault();
      input.value = code;
      input.dispatchEvent(new Event('input', { bubbles: true }));
    }
  });
  input.addEventListener('input', () => {
    const up = input.value.toUpperCase();
    if (up !== input.value) {
      const pos = input.selectionStart;
      input.value = up;
      try { input.setSelectionRange(pos, pos); } catch (e) { /* not focused */ }
    }
  });
}

/* ---- "Send new code" with a visible cooldown --------------------------- */

export class Cooldown {
  constructor(button, text) {
    this.button = button;
    this.text = text;
    this.until = 0;
    this.timer = null;
    onLang(() => this.paint());
  }

  left() { return Math.max(0, Math.ceil((this.until - Date.now()) / 1000)); }
  get active() { return this.left() > 0; }

  start(seconds) {
    this.until = Date.now() + seconds * 1000;
    if (!this.timer) this.timer = setInterval(() => this.paint(), 1000);
    this.paint();
  }

  stop() {
    this.until = 0;
    this.paint();
  }

  paint() {
    const left = this.left();
    if (left > 0) {
      this.button.setAttribute('aria-disabled', 'true');
      this.text.textContent = t('ver.wait', { time: formatWait(left) });
    } else {
      this.button.removeAttribute('aria-disabled');
      this.text.textContent = '';
      if (this.timer) { clearInterval(this.timer); this.timer = null; }
    }
  }
}

/* ---- steps ------------------------------------------------------------- */

export function showStep(step, focus) {
  for (const s of step.parentElement.querySelectorAll(':scope > .step')) s.hidden = s !== step;
  const target = focus || step.querySelector('h1, h2');
  if (target) {
    if (!target.matches('input, button, a, select, textarea')) target.setAttribute('tabindex', '-1');
    target.focus();
  }
  window.scrollTo(0, 0);
}

/* ---- the header, common to every page ----------------------------------- */

export function paintNav(session) {
  const inside = !!(session && session.authenticated);
  // for style hooks and tests: in, out, or unknown (the server did not answer)
  if (session) document.documentElement.dataset.session = inside ? 'in' : 'out';
  for (const el of document.querySelectorAll('[data-when]'))
    el.hidden = (el.dataset.when === 'in') !== inside;
  for (const a of document.querySelectorAll('a[data-return-link]'))
    a.href = withReturn(a.dataset.returnLink, returnTarget());
}

export async function logout() {
  await api('logout');
  flash('flash.loggedOut');
  if (location.pathname === '/account.html') location.assign('/');
  else location.reload();
}

/* Sets the page up: language, header, flash message. Resolves to the session
 * (or null when the server could not say). */
export async function initPage() {
  applyStatic();
  for (const b of document.querySelectorAll('[data-set-lang]'))
    b.addEventListener('click', () => setLang(b.dataset.setLang));
  const out = document.getElementById('nav-logout');
  if (out) out.addEventListener('click', logout);
  wirePasswordToggles();
  paintNav(null);
  showFlash();
  const session = await getSession();
  paintNav(session);
  if (!session) document.documentElement.dataset.session = 'unknown';
  return session;
}
