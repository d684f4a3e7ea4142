// Where to go back to after logging in: local paths only (the server checks
// again, SPEC §8).
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
