// Password fields: the rules listed before typing and marked while typing
// (the length as the server is configured: lib/settings.js), and the
// Show/Hide buttons.
import { t, onLang } from './i18n.js';
import { settings } from './settings.js';

const SPACE = /[\s\u00a0\u1680\u2000-\u200b\u2028\u2029\u202f\u205f\u3000\ufeff]/u;

/* Mirrors the module's rules (src/policy.c), code point by code point.
 * limits: {min, max} from the server, or null: the server judges the length.
 * "common" (dictionary, site name, address) is always the server's to judge. */
export function passwordChecks(pw, limits) {
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
    length: limits ? n >= limits.min && n <= limits.max : n > 0,
    whitespace: n > 0 && !space,
    upper, lower, digit, symbol
  };
}

/* input: the new password; list: its <ul> of li[data-rule] (the partial
 * password-rules); intro: the sentence that sums the rules up, or null */
export function wirePasswordRules(input, list, intro) {
  let limits = null;          // {min, max} once the settings are in
  let known = null;           // true / false once the server answered or not
  let serverSaysCommon = false;
  const lengthItem = list.querySelector('li[data-rule="length"]');
  const lengthText = lengthItem.querySelector('[data-rule-text]');

  const paintText = () => {
    // without the server's numbers there is nothing true to say about the length
    lengthItem.hidden = known === false;
    if (intro) intro.hidden = known === false;
    if (!limits) return;
    lengthText.textContent = t('rule.length', limits);
    if (intro) intro.textContent = t('rules.intro', limits);
  };
  const update = () => {
    const pw = input.value;
    const checks = passwordChecks(pw, limits);
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
      if (state) state.textContent = met === null ? '' : ' — ' + t(met ? 'rule.met' : 'rule.unmet');
    }
  };
  input.addEventListener('input', () => { serverSaysCommon = false; update(); });
  onLang(() => { paintText(); update(); });
  settings().then((s) => {
    known = !!s;
    if (s) limits = { min: s.password_min, max: s.password_max };
    paintText();
    update();
  });
  return {
    allMet: () => Object.values(passwordChecks(input.value, limits)).every(Boolean),
    serverFailed(failed) {
      serverSaysCommon = (failed || []).includes('common');
      update();
    }
  };
}

/* every button[data-toggle-password="<input id>"] on the page */
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
