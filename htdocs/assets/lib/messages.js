// Message regions (role="alert" / role="status"): say() shows a string by
// key, and the message follows a switch of language.
import { t, has, onLang } from './i18n.js';
import { formatWait } from './time.js';

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

onLang(() => {
  for (const [region, msg] of shown) render(region, msg);
});

/* The message for an API error (lib/api.js's answer), in the page's language. */
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
      return res.retryAfter
        ? { key: 'err.rate_limited', vars: { time: formatWait(res.retryAfter) } }
        : { key: 'err.rate_limitedLater' };
    default:
      if (res.error && has('err.' + res.error)) return { key: 'err.' + res.error };
      return { key: 'err.other', vars: { code: res.error || res.status } };
  }
}
