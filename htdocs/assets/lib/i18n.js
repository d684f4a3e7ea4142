// The page's language: chosen on the EN/FR switch (remembered), else the
// browser's; t() looks a string up, onLang() re-renders on a switch.
// The text itself is in ../i18n/<lang>.js, one file per language.
import en from '../i18n/en.js';
import fr from '../i18n/fr.js';

const STRINGS = { en, fr };
export const LANGS = Object.keys(STRINGS);

const LANG_KEY = 'natomm.lang';

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

/* is there a string for key (in English, the reference language)? */
export function has(key) { return STRINGS.en[key] !== undefined; }

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

/* the elements marked data-i18n (text) and data-i18n-attr ("attr:key;...") */
export function applyStatic() {
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
