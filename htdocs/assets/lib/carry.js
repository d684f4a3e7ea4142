// Small state carried from one page to the next (sessionStorage): a message
// to show on the next page, and the address last typed.
const FLASH_KEY = 'natomm.flash';
const EMAIL_KEY = 'natomm.email';

/* a string key for the next page's #flash region */
export function flash(key) {
  try { sessionStorage.setItem(FLASH_KEY, key); } catch (e) { /* ignore */ }
}

/* the key flash() left, once */
export function takeFlash() {
  try {
    const key = sessionStorage.getItem(FLASH_KEY);
    sessionStorage.removeItem(FLASH_KEY);
    return key;
  } catch (e) {
    return null;
  }
}

export function rememberEmail(email) {
  try { sessionStorage.setItem(EMAIL_KEY, email); } catch (e) { /* ignore */ }
}

export function recalledEmail() {
  try { return sessionStorage.getItem(EMAIL_KEY) || ''; } catch (e) { return ''; }
}
