// What every page does first: the language, the header (logged in or out,
// "Log in" links that bring the user back), the flash message of the page
// before. No inline script or style anywhere: the pages run under
// Content-Security-Policy: default-src 'self'.
import { applyStatic, setLang } from './i18n.js';
import { api, getSession } from './api.js';
import { withReturn, returnTarget } from './returns.js';
import { flash, takeFlash } from './carry.js';
import { say } from './messages.js';
import { wirePasswordToggles } from './password.js';

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

function showFlash() {
  const key = takeFlash();
  const region = document.getElementById('flash');
  if (key && region) say(region, { key }, key.startsWith('err.') ? 'error' : 'ok');
}

/* Sets the page up. Resolves to the session (or null when the server could
 * not say). */
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
