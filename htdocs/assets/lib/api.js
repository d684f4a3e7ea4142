// The JSON API of mod_natomm (SPEC §4), mounted where `SetHandler natomm` is.
export const ACCOUNT = '/account';

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

/* POST form-encoded fields; the browser adds Origin, which the module checks.
 * Resolves to {ok, status, data, error, retryAfter}; error 'network' when the
 * server could not be reached. */
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

/* GET path under the mount: the parsed JSON, or null when the server did not answer */
export async function apiGet(path) {
  try {
    const resp = await fetch(ACCOUNT + '/' + path, { credentials: 'same-origin', cache: 'no-store' });
    if (!resp.ok) return null;
    return await resp.json();
  } catch (e) {
    return null;
  }
}

/* {authenticated, email?, name?, newsletter?}, or null */
export function getSession() {
  return apiGet('session');
}
