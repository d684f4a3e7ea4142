// Helpers of the browser suite: Chromium, the mail folder, a small HTTP
// client for setting up accounts, screenshots and polling.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);

export const [BASE, MAIL_DIR, SHOT_DIR] = process.argv.slice(2);
export const VIDEO_PATH = '/videos/nato-defence-ministers-sample.mp4';
export const VIDEO_FILE = process.env.NATOMM_VIDEO_FILE || '';
export const CHROMIUM = process.env.NATOMM_CHROMIUM || '/usr/bin/chromium';
export const ACCESS_LOG = process.env.NATOMM_ACCESS_LOG || '';

// pass every rule of the module: 14 code points, all classes, no dictionary core
export const GOOD = 'Kx7#mQ2!vR9@pL';
export const OTHER = 'Wq4$zJ8%tN3^hB';
export const THIRD = 'Tz5&yH2*cV8+rD';

export const CSP = "default-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'";

const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic',
  '--disable-dev-shm-usage'
];

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function uniqueEmail(prefix = 'j') {
  return `${prefix}-${crypto.randomBytes(8).toString('hex')}@example.org`;
}

/* Polls fn (sync or async) until it returns a truthy value. */
export async function until(fn, what, timeout = 10000, every = 100) {
  const end = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what} (last: ${last})`);
    await sleep(every);
  }
}

/* ---- mail ----------------------------------------------------------------- */

function decodeWords(value) {
  return value.replace(/=\?([^?]+)\?([BbQq])\?([^?]*)\?=\s*/g, (m, cs, enc, text) => {
    if (enc.toUpperCase() === 'B') return Buffer.from(text, 'base64').toString('utf8');
    const bytes = text.replace(/_/g, ' ').replace(/=([0-9A-Fa-f]{2})/g,
      (x, h) => String.fromCharCode(parseInt(h, 16)));
    return Buffer.from(bytes, 'latin1').toString('utf8');
  });
}

function parseHeaders(block) {
  const headers = {};
  for (const line of block.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return headers;
}

function decodeBody(body, cte = '') {
  cte = cte.toLowerCase();
  if (cte === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  if (cte === 'quoted-printable') {
    const bytes = body.replace(/=\r?\n/g, '').replace(/=([0-9A-Fa-f]{2})/g,
      (x, h) => String.fromCharCode(parseInt(h, 16)));
    return Buffer.from(bytes, 'latin1').toString('utf8');
  }
  return body;
}

function splitMessage(raw) {
  const m = raw.match(/\r?\n\r?\n/);
  if (!m) return { headers: parseHeaders(raw), body: '' };
  return { headers: parseHeaders(raw.slice(0, m.index)), body: raw.slice(m.index + m[0].length) };
}

/* {name, headers, subject, to, text}: text is the text/plain part */
export function readMail(name) {
  const raw = fs.readFileSync(path.join(MAIL_DIR, name), 'utf8');
  const { headers, body } = splitMessage(raw);
  let text = '';
  const ct = headers['content-type'] || 'text/plain';
  const boundary = ct.match(/boundary="?([^";]+)"?/i);
  if (/^multipart\//i.test(ct) && boundary) {
    for (const part of body.split('--' + boundary[1])) {
      const p = splitMessage(part.replace(/^\r?\n/, ''));
      if (/^text\/plain/i.test(p.headers['content-type'] || '')) {
        text = decodeBody(p.body, p.headers['content-transfer-encoding']);
        break;
      }
    }
  } else {
    text = decodeBody(body, headers['content-transfer-encoding']);
  }
  return {
    name, headers, text,
    subject: decodeWords(headers.subject || ''),
    to: headers.to || ''
  };
}

export function mailNames() {
  try {
    return new Set(fs.readdirSync(MAIL_DIR).filter((n) => n.endsWith('.eml')));
  } catch (e) {
    return new Set();
  }
}

/* The newest message to `to` that was not in `seen` (a set of file names). */
export async function waitMail(to, seen, timeout = 15000) {
  return until(() => {
    const fresh = [...mailNames()].filter((n) => !seen.has(n)).sort();
    const mine = fresh.map(readMail).filter((m) => m.to.toLowerCase().includes(to.toLowerCase()));
    return mine.length ? mine[mine.length - 1] : null;
  }, `a mail to ${to}`, timeout, 100);
}

// the code's line in the mail: letters (THNV-MKLS) or digits (123-456, 12345),
// as the server's NatommCodeFormat shows them
const L = '[BCDFGHJKLMNPQRSTVWXZ]';
const CODE_RE = new RegExp(`^[ \\t]*(${L}{2,16}(?:-${L}{2,16})?|\\d{3,16}(?:-\\d{3,16})?)[ \\t\\r]*$`, 'm');

export function codeOf(mail) {
  const m = mail.text.match(CODE_RE);
  assert.ok(m, `no code line in the mail "${mail.subject}":\n${mail.text}`);
  return m[1];
}

/* ---- HTTP set-up client (its own loopback address: per-IP limits stay apart) */

let ipCounter = 0;
function nextIp() {
  ipCounter += 1;
  return `127.30.${process.pid % 200}.${(ipCounter % 250) + 1}`;
}

export function request(method, pathname, { fields, cookie, ip, headers = {} } = {}) {
  const url = new URL(BASE);
  const body = fields ? new URLSearchParams(fields).toString() : '';
  const hdrs = { Origin: BASE, Accept: 'application/json', ...headers };
  if (method === 'POST') {
    hdrs['Content-Type'] = 'application/x-www-form-urlencoded';
    hdrs['Content-Length'] = Buffer.byteLength(body);
  }
  if (cookie) hdrs.Cookie = cookie;
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: url.hostname, port: url.port, method, path: pathname,
      localAddress: ip || nextIp(), headers: hdrs
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json = null;
        try { json = JSON.parse(text); } catch (e) { json = null; }
        resolve({ status: res.statusCode, headers: res.headers, text, json });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

function sessionCookie(res) {
  const set = res.headers['set-cookie'] || [];
  const c = set.map((s) => s.split(';')[0]).find((s) => /=./.test(s));
  assert.ok(c, 'no session cookie in ' + JSON.stringify(set));
  return c;
}

/* A verified account made over HTTP (not through the pages). */
export async function createAccount({ email = uniqueEmail('api'), password = GOOD, language = 'en' } = {}) {
  const ip = nextIp();
  const seen = mailNames();
  const r = await request('POST', '/account/register', { ip, fields: { email, password, language } });
  assert.equal(r.status, 202, r.text);
  const code = codeOf(await waitMail(email, seen));
  const v = await request('POST', '/account/verify', { ip, fields: { email, code } });
  assert.equal(v.status, 200, v.text);
  return { email, password, cookie: sessionCookie(v), ip };
}

export async function apiLogin(email, password) {
  const r = await request('POST', '/account/login', { fields: { email, password } });
  return { status: r.status, json: r.json, cookie: r.status === 200 ? sessionCookie(r) : null };
}

export async function apiSession(cookie) {
  const r = await request('GET', '/account/session', { cookie });
  assert.equal(r.status, 200, r.text);
  return r.json;
}

/* ---- Chromium ---------------------------------------------------------------- */

/* A fresh Chromium with its own profile. Every page's CSP violations, console
 * errors and uncaught exceptions are collected: `problems` must stay empty.
 * javaScript: false browses as someone with JavaScript turned off. */
export async function launch(scenario, { locale = 'en-US', width = 1280, height = 900, javaScript = true } = {}) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'natomm-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [...CHROMIUM_ARGS, `--lang=${locale}`],
    locale,
    viewport: { width, height },
    acceptDownloads: true,
    javaScriptEnabled: javaScript,
    timeout: 30000
  });
  context.setDefaultTimeout(10000);
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || '(inline)'} in ${e.sourceFile || document.URL}`);
    });
  });
  const problems = [];
  const consoleErrors = [];
  const watch = (page) => {
    page.on('console', (m) => {
      if (m.type() !== 'error' && m.type() !== 'warning') return;
      const text = m.text();
      if (m.type() === 'error') consoleErrors.push(text);
      if (/Content.Security.Policy|CSP violation|Refused to (load|execute|apply|connect|frame)/i.test(text))
        problems.push(`${page.url()}: ${text}`);
    });
    page.on('pageerror', (e) => problems.push(`${page.url()}: uncaught ${e.message}`));
  };
  context.on('page', watch);
  for (const p of context.pages()) watch(p);
  const page = context.pages()[0] || await context.newPage();
  let n = 0;
  return {
    context, page, problems, consoleErrors,
    async shot(name, p = page) {
      n += 1;
      fs.mkdirSync(SHOT_DIR, { recursive: true });
      const file = path.join(SHOT_DIR, `${scenario}-${String(n).padStart(2, '0')}-${name}.png`);
      await p.screenshot({ path: file, fullPage: true });
      return file;
    },
    async close() {
      await context.close();
      fs.rmSync(profile, { recursive: true, force: true });
    }
  };
}

/* ---- page checks ------------------------------------------------------------ */

export async function text(page, selector) {
  return (await page.locator(selector).innerText()).replace(/\s+/g, ' ').trim();
}

export async function waitSession(page, state) {
  await page.locator(`html[data-session="${state}"]`).waitFor({ state: 'attached' });
}

/* until the page has the server's settings (GET /account/settings) and has
 * rendered what depends on them */
export async function waitSettings(page) {
  await page.locator('html[data-settings="in"]').waitFor({ state: 'attached' });
}

/* Stops the page's clock (after page.clock.install()): a countdown started
 * from now stays put until the test moves it on with page.clock.fastForward. */
export async function pauseClock(page) {
  const now = await page.evaluate(() => Date.now());
  await page.clock.pauseAt(now + 1000);
}

export async function activeId(page) {
  return page.evaluate(() => document.activeElement && (document.activeElement.id || document.activeElement.className || document.activeElement.tagName));
}

export async function ruleStates(page, listId) {
  return page.evaluate((id) => Object.fromEntries([...document.querySelectorAll(`#${id} li[data-rule]`)]
    .map((li) => [li.dataset.rule, li.classList.contains('met') ? 'met'
      : li.classList.contains('unmet') ? 'unmet' : 'none'])), listId);
}

/* Pastes text into the focused field the way a browser does (a paste event
 * carrying the clipboard), then returns the field's value. */
export async function paste(page, selector, value) {
  return page.locator(selector).evaluate((el, v) => {
    el.focus();
    const dt = new DataTransfer();
    dt.setData('text/plain', v);
    const ev = new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true });
    if (el.dispatchEvent(ev)) el.value += v;     // not handled: what the browser would do
    return el.value;
  }, value);
}

export const AXE_SOURCE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/* axe-core (WCAG 2 A/AA rules) on the current page; returns the violations.
 * Evaluated through the DevTools protocol: the page's CSP stays in force. */
export async function axe(page) {
  await page.evaluate(AXE_SOURCE);
  return page.evaluate(async () => {
    const r = await window.axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] },
      resultTypes: ['violations']
    });
    return r.violations.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).slice(0, 4).join(', ')}`);
  });
}

/* the server's access log (test_browser.py passes its path), '' when unknown */
export function accessLog() {
  return ACCESS_LOG ? fs.readFileSync(ACCESS_LOG, 'utf8') : '';
}

export function videoSize() {
  return VIDEO_FILE ? fs.statSync(VIDEO_FILE).size : null;
}
