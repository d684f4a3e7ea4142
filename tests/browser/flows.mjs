// The browser suite: real people's paths through the demo site, in Debian's
// Chromium driven by playwright-core.
//
//   node tests/browser/flows.mjs <base-url> <mail-dir> <screenshot-dir> [scenario ...]
//
// tests/browser/test_browser.py starts the server (the assembled site,
// build/htdocs, behind the gate, the demo's security headers,
// NatommResendInterval 2s; other_settings gets a second server configured
// otherwise) and runs one scenario per process. Every scenario asserts what a person would see (URL,
// text, focus), what the server did (mail, session, HTTP status, file size),
// and that no Content-Security-Policy violation or uncaught error happened.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import {
  BASE, VIDEO_PATH, GOOD, OTHER, THIRD, CSP, sleep, until, uniqueEmail, mailNames, waitMail,
  codeOf, request, createAccount, apiLogin, apiSession, launch, text, waitSession, waitSettings,
  pauseClock, activeId, ruleStates, paste, axe, videoSize, accessLog, ACCESS_LOG, VIDEO_FILE
} from './lib.mjs';

const url = (p) => BASE + p;
const returnOf = (u) => new URL(u).searchParams.get('return');

/* a screenshot of the screen that failed, the browser closed, the error on */
async function fail(b, e) {
  await b.shot('FAILED').catch(() => {});
  if (b.problems.length) e.message += '\nCSP violations or page errors: ' + b.problems.join('; ');
  await b.close().catch(() => {});
  throw e;
}

async function finish(b) {
  const problems = [...b.problems];
  await b.close();
  assert.deepEqual(problems, [], 'CSP violations or page errors');
}

/* ------------------------------------------------------------------------- */
/* From the news page to a downloaded video: register, code from the mail
 * (a resend, the old code refused, the new one pasted), the newsletter offer,
 * back to the news page, play and download. */
async function registerDownload() {
  const b = await launch('register');
  const { page } = b;
  try {
    await page.clock.install();
    const home = await page.goto(url('/'));
    assert.equal(home.status(), 200);
    assert.equal(home.headers()['content-security-policy'], CSP);
    await waitSession(page, 'out');
    assert.match(await text(page, 'h1'), /NATO Defence Ministers address deterrence/);
    assert.equal(await page.locator('#video').getAttribute('src'), null, 'no video source before login');
    assert.equal(await page.locator('#download').isVisible(), false);
    const gated = await page.evaluate(async (p) => (await fetch(p, { method: 'HEAD' })).status, VIDEO_PATH);
    assert.equal(gated, 401, 'the gate refuses the video without a session');
    assert.equal(returnOf(await page.locator('#video-register').evaluate((a) => a.href)), '/');
    await b.shot('news-logged-out');

    await page.click('#video-register');
    await page.waitForURL(url('/register.html?return=%2F'));
    await waitSettings(page);
    assert.equal(await text(page, '#step-form h1'), 'Create an account');
    // the rules are on screen before typing, none marked yet
    assert.equal(await page.locator('#reg-password-rules li').count(), 7);
    assert.ok(Object.values(await ruleStates(page, 'reg-password-rules'))
      .every((s) => s === 'none'), 'no rule marked before typing');
    assert.match(await text(page, '#reg-password-intro'), /at least 12 characters long, no spaces/);
    assert.equal(await text(page, '#reg-password-rules li[data-rule="length"]'), 'At least 12 characters (at most 128)');
    await b.shot('register-empty');

    const email = uniqueEmail('reg');
    await page.fill('#reg-email', email);
    await page.locator('#reg-password').pressSequentially('abc');
    let states = await ruleStates(page, 'reg-password-rules');
    assert.deepEqual([states.lower, states.upper, states.length, states.digit], ['met', 'unmet', 'unmet', 'unmet']);
    // sending too early: told at once, nothing sent
    await page.click('#reg-submit');
    assert.match(await text(page, '#reg-password-error'), /does not meet every rule/);
    assert.equal(await activeId(page), 'reg-password');
    await b.shot('register-rules-live');
    await page.fill('#reg-password', GOOD);
    states = await ruleStates(page, 'reg-password-rules');
    assert.deepEqual(Object.values(states).filter((s) => s === 'met').length, 6);
    await page.fill('#reg-name', 'Jane Doe');
    await page.fill('#reg-org', 'Example Broadcasting');

    let seen = mailNames();
    await pauseClock(page);      // the page's countdown (2 s here) waits for the test
    await page.click('#reg-submit');
    await page.locator('#step-verify').waitFor();
    assert.equal(await text(page, '#step-verify h1'), 'Check your inbox and enter verification code');
    // the code field as NatommCodeFormat letters 8 (the default) shows codes
    assert.equal(await text(page, '#ver-code-hint'), '8 letters, as in the e-mail: XXXX-XXXX. You can paste it.');
    assert.deepEqual(await page.locator('#ver-code').evaluate((i) => [i.placeholder, i.maxLength, i.inputMode]),
      ['XXXX-XXXX', 9, 'text']);
    const sentText = await text(page, '#ver-sent');
    assert.ok(sentText.includes(email), sentText);
    assert.match(sentText, /This code will expire in 30 minutes\./);
    assert.equal(await activeId(page), 'ver-code', 'focus goes to the code field');
    assert.equal(await page.locator('#ver-code').getAttribute('autocomplete'), 'one-time-code');
    assert.equal(await page.locator('#resend').getAttribute('aria-disabled'), 'true');
    assert.match(await text(page, '#resend-wait'), /You can ask for a new code in \d+ s\./);
    assert.match(await text(page, '#step-verify'), /Didn.t receive a code\? Send new code/);
    await b.shot('register-check-inbox');
    const first = await waitMail(email, seen);
    const code1 = codeOf(first);
    assert.match(first.text, /expire in 30 minutes/);

    // a press during the cooldown (aria-disabled, so still focusable) says how long to wait
    await page.click('#resend', { force: true });
    assert.match(await text(page, '#resend-status'), /You can ask for a new code in \d+ s/);
    // the page counts the server's NatommResendInterval (2 s here)
    assert.match(await text(page, '#resend-wait'), /in 2 s\./);
    await sleep(2200);
    await page.clock.fastForward(3000);
    await until(async () => (await page.locator('#resend').getAttribute('aria-disabled')) === null,
      'the cooldown to end');
    assert.equal(await text(page, '#resend-wait'), '');
    seen = mailNames();
    await page.click('#resend');
    await page.locator('#resend-status', { hasText: 'We have sent a new code' }).waitFor();
    assert.equal(await page.locator('#resend').getAttribute('aria-disabled'), 'true', 'a new cooldown');
    const code2 = codeOf(await waitMail(email, seen));
    assert.notEqual(code2, code1);

    // the superseded code is refused, and the page says how many tries are left
    await page.fill('#ver-code', code1);
    await page.press('#ver-code', 'Enter');
    await page.locator('#verify-error', { hasText: 'The code is wrong' }).waitFor();
    assert.match(await text(page, '#verify-error'), /Attempts left for this code: 4\./);
    assert.equal(await page.locator('#verify-error').getAttribute('role'), 'alert');
    assert.equal(await page.locator('#ver-code').getAttribute('aria-invalid'), 'true');
    await b.shot('register-wrong-code');

    // the new code pasted as it comes out of a mail client: lower case, words around it
    await page.fill('#ver-code', '');
    assert.equal(await paste(page, '#ver-code', `Your code: ${code2.toLowerCase()}\r\n`), code2);
    await page.click('#step-verify button[type=submit]');
    await page.locator('#step-done').waitFor();
    assert.equal(await text(page, '#step-done h1'), 'You have successfully created your account');
    assert.match(await text(page, '#step-done'), /From now on you can download videos from our website/);
    assert.equal(await text(page, '#nl-title'), 'Subscribe to our newsletter');
    assert.match(await text(page, '#step-done'), /click on the button below/);
    assert.equal(await page.locator('#nl-consent').isChecked(), false, 'consent is never pre-ticked');
    await waitSession(page, 'in');
    await b.shot('register-success-newsletter');

    await page.click('#nl-subscribe');
    assert.match(await text(page, '#newsletter-error'), /Tick the box first/);
    assert.equal((await page.evaluate(() => fetch('/account/session').then((r) => r.json()))).newsletter, false);
    seen = mailNames();
    await page.check('#nl-consent');
    await page.click('#nl-subscribe');
    await page.locator('#newsletter-status', { hasText: 'You are subscribed' }).waitFor();
    const session = await page.evaluate(() => fetch('/account/session').then((r) => r.json()));
    assert.deepEqual([session.authenticated, session.email, session.name, session.newsletter],
      [true, email, 'Jane Doe', true]);
    const welcome = await waitMail(email, seen);
    assert.match(welcome.headers['list-unsubscribe'] || '', /^<http.*\/account\/newsletter\/unsubscribe\?token=[\w-]{43}>$/);
    assert.equal(welcome.headers['list-unsubscribe-post'], 'List-Unsubscribe=One-Click');
    await b.shot('register-subscribed');

    // back to the news page: the video plays and downloads
    assert.equal(await text(page, '#done-continue'), 'Go to the videos');
    await page.click('#done-continue');
    await page.waitForURL(url('/'));
    await waitSession(page, 'in');
    assert.ok((await page.locator('#video').evaluate((v) => v.src)).endsWith(VIDEO_PATH));
    await until(() => page.locator('#video').evaluate((v) => v.readyState >= 1 && v.duration), 'video metadata');
    const duration = await page.locator('#video').evaluate((v) => v.duration);
    assert.ok(duration > 9 && duration < 11, `a 10 s video, got ${duration}`);
    assert.equal(await page.locator('#video').evaluate((v) => v.error), null);
    const head = await page.evaluate(async (p) => {
      const r = await fetch(p, { method: 'HEAD' });
      return { status: r.status, length: r.headers.get('Content-Length'), cache: r.headers.get('Cache-Control') };
    }, VIDEO_PATH);
    const size = videoSize();
    assert.equal(head.status, 200);
    assert.equal(Number(head.length), size);
    assert.match(head.cache || '', /private/);
    await page.locator('#download-size', { hasText: 'MB' }).waitFor();
    assert.match(await text(page, '#download'), /^Download the video \(\d+(\.\d)? MB\)$/);
    await b.shot('news-logged-in');

    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
    assert.equal(download.suggestedFilename(), 'nato-defence-ministers-sample.mp4');
    assert.equal(await download.failure(), null);
    const saved = await download.path();
    assert.equal(fs.statSync(saved).size, size, 'the whole video was downloaded');
    assert.deepEqual(fs.readFileSync(saved).subarray(4, 8).toString('latin1'), 'ftyp', 'an MP4 file');

    // log out from the header
    await page.click('#nav-logout');
    await waitSession(page, 'out');
    await page.locator('#flash', { hasText: 'You have been logged out.' }).waitFor();
    // past the browser's own cache (the gate answers Cache-Control: private,
    // so the download stays reusable from it), the server refuses again
    assert.equal(await page.evaluate(async (p) => (await fetch(p, { method: 'HEAD', cache: 'no-store' })).status, VIDEO_PATH), 401);
    await b.shot('news-after-logout');
  } catch (e) {
    await fail(b, e);
  }
  await finish(b);
}

/* ------------------------------------------------------------------------- */
/* A video link opened while logged out (as from a mail or a colleague):
 * the gate sends the browser to the login page and back to the video. */
async function gatedLinkLogin() {
  const acct = await createAccount();
  const b = await launch('gated');
  const { page } = b;
  try {
    const resp = await page.goto(url(VIDEO_PATH));
    const hop = resp.request().redirectedFrom();
    assert.ok(hop, 'the gate redirected');
    assert.equal((await hop.response()).status(), 302);
    assert.equal(new URL(page.url()).pathname, '/login.html');
    assert.equal(returnOf(page.url()), VIDEO_PATH);
    await waitSession(page, 'out');
    assert.equal(await text(page, '#login-why'), 'Log in to download this video. No account yet? Creating one is free.');
    await waitSettings(page);
    assert.equal(await text(page, 'label[for="login-remember"]'), 'Keep me logged in on this device for 30 days');
    assert.equal(returnOf(await page.locator('#login-register').evaluate((a) => a.href)), VIDEO_PATH);
    await b.shot('login-for-video');

    await page.fill('#login-email', acct.email);
    await page.fill('#login-password', OTHER);
    await page.click('#login-submit');
    await page.locator('#login-error', { hasText: 'The e-mail address or the password is wrong' }).waitFor();
    assert.equal(await activeId(page), 'login-password');
    await b.shot('login-wrong-password');

    await page.fill('#login-password', acct.password);
    const [video] = await Promise.all([
      page.waitForResponse((r) => r.url() === url(VIDEO_PATH) && r.request().isNavigationRequest()),
      page.click('#login-submit')
    ]);
    assert.equal(video.status(), 200);
    assert.equal(video.headers()['content-type'], 'video/mp4');
    assert.equal(Number(video.headers()['content-length']), videoSize());
    await page.waitForURL(url(VIDEO_PATH));
    await b.shot('video-after-login');

    // a foreign return address is not followed, by the page nor by the server
    await page.goto(url('/login.html?return=' + encodeURIComponent('//evil.example/x')));
    await waitSession(page, 'in');
    assert.match(await text(page, '#already'), new RegExp(`You are already logged in as ${acct.email.replace(/[.]/g, '\\.')}`));
    await page.fill('#login-email', acct.email);
    await page.fill('#login-password', acct.password);
    await page.click('#login-submit');
    await page.waitForURL(url('/'));
    const server = await request('POST', '/account/login', {
      fields: { email: acct.email, password: acct.password, return: 'https://evil.example/' }
    });
    assert.equal(server.json.return, '/');
  } catch (e) {
    await fail(b, e);
  }
  await finish(b);
}

/* ------------------------------------------------------------------------- */
/* Forgot the password on the way to the news page: Log in -> Forgot ->
 * code -> new password (rules live) -> updated -> back to the login page
 * the user was on -> log in with the new password -> the news page. */
async function resetReturn() {
  const acct = await createAccount();
  const b = await launch('reset');
  const { page } = b;
  try {
    await page.clock.install();
    await page.goto(url('/'));
    await waitSession(page, 'out');
    await page.click('.account-nav a[data-return-link="/login.html"]');
    await page.waitForURL(url('/login.html?return=%2F'));
    await page.click('#forgot-link');
    await page.waitForURL((u) => u.pathname === '/reset.html');
    assert.equal(returnOf(page.url()), '/login.html?return=%2F');
    assert.equal(await text(page, '#step-email h1'), 'Reset password');
    assert.match(await text(page, '#step-email'), /Enter the email address you registered with and we will send you a code to reset your password\./);
    await b.shot('reset-email');

    const seen = mailNames();
    await page.fill('#reset-email', acct.email);
    await page.click('#forgot-submit');
    await page.locator('#step-verify').waitFor();
    assert.equal(await text(page, '#step-verify h1'), 'Check your inbox and enter verification code');
    assert.match(await text(page, '#ver-sent'), /This code will expire in 30 minutes\./);
    await b.shot('reset-check-inbox');
    const mail = await waitMail(acct.email, seen);
    const code = codeOf(mail);

    // a 429 from the server: the countdown follows its Retry-After
    await page.route('**/account/resend', (route) => route.fulfill({
      status: 429,
      headers: { 'Retry-After': '42', 'Content-Type': 'application/json; charset=utf-8' },
      body: JSON.stringify({ error: 'rate_limited', message: 'Too many requests; wait before trying again.', retry_after: 42 })
    }));
    await page.clock.fastForward(61000);
    await until(async () => (await page.locator('#resend').getAttribute('aria-disabled')) === null, 'cooldown end');
    await page.click('#resend');
    await page.locator('#resend-wait', { hasText: /in (42|41) s/ }).waitFor();
    assert.equal(await page.locator('#resend').getAttribute('aria-disabled'), 'true');
    await b.shot('reset-resend-429');
    await page.unroute('**/account/resend');

    await page.fill('#ver-code', code.replace('-', ' ').toLowerCase());
    await page.press('#ver-code', 'Enter');
    await page.locator('#step-new').waitFor();
    assert.equal(await text(page, '#step-new h1'), 'Create a new password');
    assert.equal(await text(page, '#new-intro'),
      'The password must be at least 12 characters long, no spaces, include upper/lowercase letters, numbers and symbols.');
    assert.equal(await activeId(page), 'new-password');
    assert.ok(Object.values(await ruleStates(page, 'new-password-rules')).every((s) => s === 'none'));
    await b.shot('reset-new-password');

    // checked as you type
    await page.locator('#new-password').pressSequentially('S');
    let s = await ruleStates(page, 'new-password-rules');
    assert.deepEqual([s.upper, s.lower, s.digit, s.symbol, s.whitespace, s.length],
      ['met', 'unmet', 'unmet', 'unmet', 'met', 'unmet']);
    await page.locator('#new-password').pressSequentially('hort 1!');
    s = await ruleStates(page, 'new-password-rules');
    assert.deepEqual([s.upper, s.lower, s.digit, s.symbol, s.whitespace, s.length],
      ['met', 'met', 'met', 'met', 'unmet', 'unmet']);
    assert.match(await page.locator('#new-password-rules li[data-rule="whitespace"]').innerText(), /not yet/);
    await b.shot('reset-rules-live');

    await page.fill('#new-password', OTHER);
    s = await ruleStates(page, 'new-password-rules');
    assert.equal(Object.values(s).filter((x) => x === 'met').length, 6);
    await page.fill('#new-confirm', OTHER + 'x');
    await page.click('#new-submit');
    assert.match(await text(page, '#new-confirm-error'), /The two passwords are not the same\./);
    assert.equal(await activeId(page), 'new-confirm');
    await page.fill('#new-confirm', OTHER);
    await page.click('#new-submit');
    await page.locator('#step-done').waitFor();
    assert.equal(await text(page, '#step-done h1'), 'Your password has been updated');
    assert.match(await text(page, '#step-done'), /Click the button to return to the page you were on and log in with your new password\./);
    assert.equal(await text(page, '#reset-back'), 'Return to the page you were on');
    await b.shot('reset-done');

    await page.click('#reset-back');
    await page.waitForURL(url('/login.html?return=%2F'));
    assert.equal(await page.inputValue('#login-email'), acct.email, 'the address is filled in');
    assert.equal((await apiLogin(acct.email, acct.password)).status, 401, 'the old password is dead');
    await page.fill('#login-password', OTHER);
    await page.click('#login-submit');
    await page.waitForURL(url('/'));
    await waitSession(page, 'in');
    assert.equal(await page.locator('#download').isVisible(), true);
    await b.shot('reset-back-on-news');
  } catch (e) {
    await fail(b, e);
  }
  await finish(b);
}

/* ------------------------------------------------------------------------- */
/* An address that was never confirmed logs in: the login page turns into the
 * code step (with the new code the module mails), then goes where it was
 * asked to go. */
async function loginUnverified() {
  const email = uniqueEmail('unv');
  let seen = mailNames();
  const r = await request('POST', '/account/register', { fields: { email, password: GOOD, language: 'en' } });
  assert.equal(r.status, 202, r.text);
  const code1 = codeOf(await waitMail(email, seen));
  await sleep(2200);      // past the test server's resend interval: the login mails a new code
  const b = await launch('unverified');
  const { page } = b;
  try {
    await page.goto(url('/login.html?return=%2Faccount.html'));
    await page.fill('#login-email', email);
    await page.fill('#login-password', GOOD);
    seen = mailNames();
    await page.click('#login-submit');
    await page.locator('#step-verify').waitFor();
    assert.equal(await text(page, '#step-verify h1'), 'Check your inbox and enter verification code');
    assert.match(await text(page, '#ver-notice'), /not confirmed yet/);
    assert.equal(await page.locator('#ver-notice').getAttribute('role'), 'status');
    assert.equal(await activeId(page), 'ver-code');
    await b.shot('login-unconfirmed');
    const code2 = codeOf(await waitMail(email, seen));
    assert.notEqual(code2, code1);
    await page.fill('#ver-code', code2);
    await page.press('#ver-code', 'Enter');
    await page.waitForURL(url('/account.html'));
    await page.locator('#account').waitFor();
    assert.match(await text(page, '#flash'), /Your address is confirmed and you are logged in\./);
    assert.equal(await text(page, '#acct-who'), `Logged in as ${email}`);
    await b.shot('account-after-confirming');
  } catch (e) {
    await fail(b, e);
  }
  await finish(b);
}

/* ------------------------------------------------------------------------- */
/* An address registered twice (someone else first, with their password):
 * the code step asks for the password that came with the entered code, so
 * only the registration of the person who holds the inbox and the password
 * is confirmed. */
async function doubleRegistration() {
  const email = uniqueEmail('dbl');
  let seen = mailNames();
  const r = await request('POST', '/account/register',
    { fields: { email, password: OTHER, language: 'en' }, ip: '127.31.0.9' });
  assert.equal(r.status, 202, r.text);
  const theirs = codeOf(await waitMail(email, seen));
  const b = await launch('double');
  const { page } = b;
  try {
    await page.goto(url('/register.html'));
    await waitSettings(page);
    await page.fill('#reg-email', email);
    await page.fill('#reg-password', GOOD);
    seen = mailNames();
    await page.click('#reg-submit');
    await page.locator('#step-verify').waitFor();
    const mine = codeOf(await waitMail(email, seen));
    assert.notEqual(mine, theirs);
    assert.equal(await page.locator('#ver-password-field').isVisible(), false);
    // the other registration's code: the password is asked
    await page.fill('#ver-code', theirs);
    await page.press('#ver-code', 'Enter');
    await page.locator('#ver-password-field').waitFor();
    assert.match(await text(page, '#verify-error'), /registered more than once/);
    assert.equal(await activeId(page), 'ver-password');
    await b.shot('double-password-asked');
    // with this person's password it still does not confirm the other one
    await page.fill('#ver-password', GOOD);
    await page.press('#ver-password', 'Enter');
    await until(async () => /does not go with this code/.test(await text(page, '#verify-error')),
      'the wrong-password message');
    // their own code and password confirm their own registration
    await page.fill('#ver-code', mine);
    await page.press('#ver-code', 'Enter');
    await until(async () => (await apiLogin(email, GOOD)).status === 200, 'the own password works');
    assert.equal((await apiLogin(email, OTHER)).status, 401, 'the other password does not');
    await b.shot('double-confirmed');
  } catch (e) {
    await fail(b, e);
  }
  await finish(b);
}

/* ------------------------------------------------------------------------- */
/* The account page on a phone-sized screen: newsletter on and off, change
 * password, log out, log in again, delete the account. */
async function accountPage() {
  const acct = await createAccount();
  const b = await launch('account', { width: 360, height: 780 });
  const { page } = b;
  try {
    await page.goto(url('/account.html'));
    await page.waitForURL((u) => u.pathname === '/login.html');
    assert.equal(returnOf(page.url()), '/account.html');
    assert.equal(await text(page, '#login-why'), 'Log in to continue.');
    await page.fill('#login-email', acct.email);
    await page.fill('#login-password', acct.password);
    await page.check('#login-remember');
    await page.click('#login-submit');
    await page.waitForURL(url('/account.html'));
    await page.locator('#account').waitFor();
    assert.equal(await text(page, '#acct-who'), `Logged in as ${acct.email}`);
    assert.equal(await page.locator('#acct-nl').isChecked(), false);
    assert.equal(await text(page, '#nl-status'), 'You are not subscribed to the newsletter.');
    await b.shot('account');

    await page.check('#acct-nl');
    await page.click('#nl-save');
    await page.locator('#nl-status', { hasText: 'You are subscribed to the newsletter.' }).waitFor();
    await page.reload();
    await page.locator('#account').waitFor();
    assert.equal(await page.locator('#acct-nl').isChecked(), true);
    await page.uncheck('#acct-nl');
    await page.click('#nl-save');
    await page.locator('#nl-status', { hasText: 'You are not subscribed to the newsletter.' }).waitFor();
    assert.equal((await page.evaluate(() => fetch('/account/session').then((r) => r.json()))).newsletter, false);

    // change password: wrong current one, then a common one, then a good one
    await page.fill('#pw-current', OTHER);
    await page.fill('#pw-new', THIRD);
    await page.fill('#pw-confirm', THIRD);
    await page.click('#pw-submit');
    await page.locator('#pw-error', { hasText: 'The password is wrong' }).waitFor();
    assert.equal(await activeId(page), 'pw-current');
    await page.fill('#pw-current', acct.password);
    await page.fill('#pw-new', 'Password2024!');
    await page.fill('#pw-confirm', 'Password2024!');
    await page.click('#pw-submit');
    await page.locator('#pw-error', { hasText: 'The password does not meet these rules' }).waitFor();
    assert.match(await text(page, '#pw-error'), /Not a common word/);
    assert.equal((await ruleStates(page, 'pw-new-rules')).common, 'unmet');
    await b.shot('account-common-password');
    await page.fill('#pw-new', THIRD);
    await page.fill('#pw-confirm', THIRD);
    await page.click('#pw-submit');
    await page.locator('#pw-status', { hasText: 'Your password has been updated.' }).waitFor();
    assert.equal(await page.inputValue('#pw-current'), '');
    await b.shot('account-password-changed');

    await page.click('#logout');
    await page.waitForURL(url('/'));
    await waitSession(page, 'out');
    assert.match(await text(page, '#flash'), /You have been logged out\./);

    await page.goto(url('/login.html?return=%2Faccount.html'));
    await page.fill('#login-email', acct.email);
    await page.fill('#login-password', THIRD);
    await page.click('#login-submit');
    await page.waitForURL(url('/account.html'));
    await page.locator('#account').waitFor();
    await page.fill('#del-password', GOOD);
    await page.click('#del-submit');
    await page.locator('#del-error', { hasText: 'The password is wrong' }).waitFor();
    await b.shot('account-delete-wrong-password');
    await page.fill('#del-password', THIRD);
    await page.click('#del-submit');
    await page.locator('#deleted').waitFor();
    assert.equal(await text(page, '#deleted h1'), 'Your account has been deleted.');
    assert.equal(await activeId(page), 'deleted-title');
    assert.equal((await page.evaluate(() => fetch('/account/session').then((r) => r.json()))).authenticated, false);
    assert.equal((await apiLogin(acct.email, THIRD)).status, 401);
    await b.shot('account-deleted');
  } catch (e) {
    await fail(b, e);
  }
  await finish(b);
}

/* ------------------------------------------------------------------------- */
/* The unsubscribe link of the newsletter mail: the module's own page (GET
 * changes nothing, its button unsubscribes), and the demo's landing page. */
async function unsubscribe() {
  const acct = await createAccount();
  let seen = mailNames();
  const sub = await request('POST', '/account/newsletter', { cookie: acct.cookie, fields: { subscribe: '1' } });
  assert.equal(sub.status, 200, sub.text);
  const welcome = await waitMail(acct.email, seen);
  const link = (welcome.headers['list-unsubscribe'] || '').replace(/^<|>$/g, '');
  const token = new URL(link).searchParams.get('token');
  assert.match(token, /^[\w-]{43}$/);
  const b = await launch('unsubscribe');
  const { page } = b;
  try {
    const resp = await page.goto(link);
    assert.equal(resp.status(), 200);
    // the demo's headers keep the module's own, stricter policy on its page
    assert.match(resp.headers()['content-security-policy'], /^default-src 'none'/);
    assert.match(await text(page, 'h1'), /Unsubscribe from the newsletter/);
    assert.equal((await apiSession(acct.cookie)).newsletter, true, 'opening the link changes nothing');
    await b.shot('module-unsubscribe-page');
    const [answer] = await Promise.all([
      page.waitForResponse((r) => r.url().includes('/account/newsletter/unsubscribe') && r.request().method() === 'POST'),
      page.click('button[type=submit]')
    ]);
    assert.equal(answer.status(), 200);
    // a person's browser gets a page back, not the one-click JSON
    assert.match(answer.headers()['content-type'], /^text\/html/);
    await page.waitForLoadState();
    assert.match(await text(page, 'h1'), /You are unsubscribed/);
    assert.equal((await apiSession(acct.cookie)).newsletter, false);
    await b.shot('module-unsubscribe-answer');

    // the demo's landing page does the same with a page of the site
    seen = mailNames();
    assert.equal((await request('POST', '/account/newsletter', { cookie: acct.cookie, fields: { subscribe: '1' } })).status, 200);
    await page.goto(url('/unsubscribed.html?token=' + token));
    assert.equal(await text(page, 'h1'), 'Unsubscribe from the newsletter');
    assert.equal((await apiSession(acct.cookie)).newsletter, true);
    await b.shot('landing');
    await page.click('#unsub-submit');
    await page.locator('#unsub-status', { hasText: 'You have been unsubscribed.' }).waitFor();
    assert.equal((await apiSession(acct.cookie)).newsletter, false);
    await b.shot('landing-done');

    await page.goto(url('/unsubscribed.html?token=not-a-token'));
    assert.match(await text(page, '#unsub-error'), /This unsubscribe link is not valid/);
    assert.equal(await page.locator('#unsub-submit').isVisible(), false);
    await b.shot('landing-bad-token');
  } catch (e) {
    await fail(b, e);
  }
  await finish(b);
}

/* ------------------------------------------------------------------------- */
/* French: the browser's language is followed; the EN/FR switch is remembered;
 * the account's language goes with the registration (the mail is French even
 * though the browser asks for English). */
async function french() {
  let b = await launch('french', { locale: 'fr-FR', width: 1280, height: 900 });
  try {
    const { page } = b;
    await page.goto(url('/'));
    await waitSession(page, 'out');
    assert.equal(await page.getAttribute('html', 'lang'), 'fr');
    assert.equal(await page.locator('[data-set-lang="fr"]').getAttribute('aria-pressed'), 'true');
    assert.equal(await text(page, 'h1'), 'Les ministres de la Défense de l’OTAN examinent la dissuasion, la défense et le soutien à l’Ukraine');
    assert.equal(await text(page, '#video-register'), 'Créer un compte pour télécharger');
    assert.equal(await text(page, '.account-nav a[data-return-link="/login.html"]'), 'Se connecter');
    await b.shot('news-fr');
    await page.goto(url('/reset.html'));
    assert.equal(await text(page, '#step-email h1'), 'Réinitialiser le mot de passe');
    await b.shot('reset-fr');
  } catch (e) {
    await fail(b, e);
  }
  await finish(b);

  b = await launch('french-switch', { locale: 'en-US', width: 360, height: 780 });
  const { page } = b;
  try {
    await page.clock.install();
    await page.goto(url('/register.html'));
    assert.equal(await text(page, '#step-form h1'), 'Create an account');
    await page.click('[data-set-lang="fr"]');
    assert.equal(await text(page, '#step-form h1'), 'Créer un compte');
    assert.equal(await page.getAttribute('html', 'lang'), 'fr');
    assert.equal(await page.title(), 'Créer un compte — NATO Multimedia');
    await page.reload();
    await waitSettings(page);
    assert.equal(await text(page, '#step-form h1'), 'Créer un compte', 'the choice is remembered');
    assert.match(await text(page, '#reg-password-intro'), /au moins 12 caractères, sans espace/);
    await b.shot('register-fr');

    const email = uniqueEmail('fr');
    const seen = mailNames();
    await page.fill('#reg-email', email);
    await page.fill('#reg-password', GOOD);
    await pauseClock(page);
    await page.click('#reg-submit');
    await page.locator('#step-verify').waitFor();
    assert.equal(await text(page, '#step-verify h1'), 'Consultez votre boîte de réception et saisissez le code de vérification');
    assert.match(await text(page, '#ver-sent'), /Ce code expirera dans 30 minutes\./);
    assert.match(await text(page, '#step-verify'), /Vous n’avez pas reçu de code \? Envoyer un nouveau code/);
    assert.match(await text(page, '#resend-wait'), /Vous pourrez demander un nouveau code dans \d+ s\./);
    await b.shot('verify-fr');
    const mail = await waitMail(email, seen);
    assert.match(mail.subject, /^Votre code de vérification/, 'the mail follows the language chosen on the page');
    await page.fill('#ver-code', codeOf(mail));
    await page.click('#step-verify button[type=submit]');
    await page.locator('#step-done').waitFor();
    assert.equal(await text(page, '#step-done h1'), 'Votre compte a bien été créé');
    assert.match(await text(page, '#step-done'), /Vous pouvez désormais télécharger les vidéos de notre site/);
    assert.equal(await text(page, '#nl-title'), 'Abonnez-vous à notre lettre d’information');
    await b.shot('done-fr');
    await page.click('#nl-subscribe');
    assert.match(await text(page, '#newsletter-error'), /Cochez d’abord la case/);

    // switching on a later step re-renders it, messages included
    await page.click('[data-set-lang="en"]');
    assert.equal(await text(page, '#step-done h1'), 'You have successfully created your account');
    assert.match(await text(page, '#newsletter-error'), /Tick the box first/);
    await page.click('[data-set-lang="fr"]');
    await page.click('#done-continue');
    await page.waitForURL(url('/'));
    await waitSession(page, 'in');
    await page.locator('#download-size', { hasText: 'Mo' }).waitFor();
    assert.match(await text(page, '#download'), /^Télécharger la vidéo \(\d+(,\d)? Mo\)$/);
    assert.equal(await text(page, '.account-nav a[href="/account.html"]'), 'Mon compte');
    await b.shot('news-fr-logged-in');
  } catch (e) {
    await fail(b, e);
  }
  await finish(b);
}

/* ------------------------------------------------------------------------- */
/* Registration with the keyboard only (Tab, typing, Space, Enter), on a
 * 360 px wide screen. */
async function keyboard() {
  const b = await launch('keyboard', { width: 360, height: 780 });
  const { page } = b;
  const kb = page.keyboard;
  const tabTo = async (id, most = 12) => {
    const path = [];
    for (let i = 0; i < most; i++) {
      await kb.press('Tab');
      const now = await activeId(page);
      path.push(now);
      if (now === id) return path;
    }
    throw new Error(`Tab never reached #${id}: ${path.join(' > ')}`);
  };
  try {
    await page.goto(url('/register.html?return=%2F'));
    await waitSession(page, 'out');
    await kb.press('Tab');
    assert.equal(await activeId(page), 'skip', 'the first Tab reaches "Skip to main content"');
    await b.shot('skip-link');
    const order = await tabTo('reg-email');
    assert.ok(order.length <= 8, 'header before the form: ' + order.join(' > '));
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
    assert.notEqual(outline, 'none', 'focus is visible');
    const email = uniqueEmail('kbd');
    await kb.type(email);
    await kb.press('Tab');
    assert.equal(await activeId(page), 'reg-password');
    await kb.type(GOOD);
    await tabTo('reg-name', 2);
    await kb.type('Kim Keyboard');
    await kb.press('Tab');
    assert.equal(await activeId(page), 'reg-org');
    await kb.type('Agence Exemple');
    await kb.press('Tab');
    assert.equal(await activeId(page), 'reg-submit');
    await b.shot('form-filled');
    const seen = mailNames();
    await kb.press('Enter');
    await page.locator('#step-verify').waitFor();
    assert.equal(await activeId(page), 'ver-code');
    const code = codeOf(await waitMail(email, seen));
    await kb.type(code);
    await b.shot('code-typed');
    await kb.press('Enter');
    await page.locator('#step-done').waitFor();
    assert.equal(await activeId(page), 'done-title', 'focus moves to the news of success');
    await kb.press('Tab');
    assert.equal(await activeId(page), 'nl-consent');
    await kb.press('Space');
    assert.equal(await page.locator('#nl-consent').isChecked(), true);
    await kb.press('Tab');
    assert.equal(await activeId(page), 'nl-subscribe');
    await kb.press('Enter');
    await page.locator('#newsletter-status', { hasText: 'You are subscribed' }).waitFor();
    assert.equal(await activeId(page), 'done-continue');
    await b.shot('subscribed');
    await kb.press('Enter');
    await page.waitForURL(url('/'));
    await waitSession(page, 'in');
    // and on to the download link, still by keyboard
    await tabTo('download', 25);
    await b.shot('news-download-focused');
  } catch (e) {
    await fail(b, e);
  }
  await finish(b);
}

/* ------------------------------------------------------------------------- */
/* Every page at 360 px, both languages: the security headers, no inline
 * script or style, no sideways scrolling, one h1, labelled fields, and
 * axe-core's WCAG 2.1 A/AA checks. */
async function layout360() {
  const pages = ['/', '/register.html', '/login.html?return=%2Fvideos%2Fx.mp4', '/reset.html',
    '/unsubscribed.html?token=x', '/account.html'];
  const b = await launch('layout', { width: 360, height: 740 });
  const { page } = b;
  const failures = [];
  try {
    for (const lang of ['en', 'fr']) {
      for (const p of pages) {
        const resp = await page.goto(url(p));
        await page.locator('html[data-session]').waitFor({ state: 'attached' });
        if (lang === 'fr' && await page.getAttribute('html', 'lang') !== 'fr') {
          await page.click('[data-set-lang="fr"]');
        }
        const where = `${lang} ${p} -> ${new URL(page.url()).pathname}`;
        const h = resp.request().redirectedFrom() ? (await page.reload()).headers() : resp.headers();
        if (h['content-security-policy'] !== CSP) failures.push(`${where}: CSP ${h['content-security-policy']}`);
        if (h['x-content-type-options'] !== 'nosniff') failures.push(`${where}: no nosniff`);
        if (h['referrer-policy'] !== 'same-origin') failures.push(`${where}: Referrer-Policy ${h['referrer-policy']}`);
        const html = await (await request('GET', new URL(page.url()).pathname)).text;
        if (/<script(?![^>]*\bsrc=)[^>]*>/i.test(html) || /<style|\sstyle=|\son[a-z]+=/i.test(html))
          failures.push(`${where}: inline script or style in the HTML`);
        const facts = await page.evaluate(() => ({
          overflow: document.documentElement.scrollWidth - window.innerWidth,
          h1: [...document.querySelectorAll('h1')].filter((e) => e.offsetParent !== null).length,
          unlabelled: [...document.querySelectorAll('input:not([type=hidden]):not([hidden])')]
            .filter((i) => !(i.labels && i.labels.length) && !i.getAttribute('aria-label')).map((i) => i.id),
          lang: document.documentElement.lang
        }));
        if (facts.overflow > 0) failures.push(`${where}: ${facts.overflow}px sideways scroll`);
        if (facts.h1 !== 1) failures.push(`${where}: ${facts.h1} visible h1`);
        if (facts.unlabelled.length) failures.push(`${where}: unlabelled ${facts.unlabelled}`);
        if (facts.lang !== lang) failures.push(`${where}: lang=${facts.lang}`);
        for (const v of await axe(page)) failures.push(`${where}: axe ${v}`);
        await b.shot(`${lang}${p.replace(/\?.*/, '').replace(/[^a-z0-9]+/gi, '-')}`);
      }
    }
  } catch (e) {
    await fail(b, e);
  }
  await finish(b);
  assert.deepEqual(failures, []);
}

/* ------------------------------------------------------------------------- */
/* A server configured otherwise (test_browser.py's OTHER_SETTINGS): the
 * pages say what GET /account/settings says, not what the defaults were:
 * 14 to 64 characters, 6-digit codes, 15 and 45 minutes, a 2-minute resend
 * interval, 7 days of "remember me". */
async function otherSettings() {
  const answer = await request('GET', '/account/settings');
  assert.equal(answer.status, 200, answer.text);
  const s = answer.json;
  assert.deepEqual([s.password_min, s.password_max, s.code_kind, s.code_length, s.register_code_lifetime,
    s.reset_code_lifetime, s.resend_interval, s.session_remember],
  [14, 64, 'digits', 6, 900, 2700, 120, 604800], answer.text);

  const b = await launch('settings', { width: 360, height: 780 });
  const { page } = b;
  try {
    await page.clock.install();
    await page.goto(url('/register.html'));
    await waitSettings(page);
    assert.equal(await text(page, '#reg-password-intro'),
      'The password must be at least 14 characters long, no spaces, include upper/lowercase letters, numbers and symbols.');
    assert.equal(await text(page, '#reg-password-rules li[data-rule="length"]'), 'At least 14 characters (at most 64)');
    // 13 characters of every class: only the length is missing
    const short = GOOD.slice(0, 13);
    await page.fill('#reg-password', short);
    let states = await ruleStates(page, 'reg-password-rules');
    assert.deepEqual([states.length, states.upper, states.lower, states.digit, states.symbol],
      ['unmet', 'met', 'met', 'met', 'met']);
    const email = uniqueEmail('set');
    await page.fill('#reg-email', email);
    await page.click('#reg-submit');
    assert.match(await text(page, '#reg-password-error'), /does not meet every rule/);
    await page.fill('#reg-password', GOOD + 'x'.repeat(64 - GOOD.length + 1));
    assert.equal((await ruleStates(page, 'reg-password-rules')).length, 'unmet', '65 is over the maximum');
    await page.fill('#reg-password', GOOD);
    states = await ruleStates(page, 'reg-password-rules');
    assert.equal(states.length, 'met');
    await b.shot('register-14-64');

    let seen = mailNames();
    await pauseClock(page);
    await page.click('#reg-submit');
    await page.locator('#step-verify').waitFor();
    assert.match(await text(page, '#ver-sent'), /This code will expire in 15 minutes\./);
    assert.equal(await text(page, '#ver-code-hint'), '6 digits, as in the e-mail. You can paste it.');
    assert.deepEqual(await page.locator('#ver-code').evaluate((i) => [i.placeholder, i.maxLength, i.inputMode]),
      ['000000', 7, 'numeric']);
    assert.equal(await text(page, '#resend-wait'), 'You can ask for a new code in 2 min 00 s.');
    await b.shot('verify-digits');
    const mail = await waitMail(email, seen);
    assert.match(mail.text, /expire in 15 minutes/);
    const code = codeOf(mail);
    assert.match(code, /^\d{3}-\d{3}$/, 'the mail shows six digits in two halves');
    // pasted from the mail or typed with its dash: the field holds the digits
    assert.equal(await paste(page, '#ver-code', `Your code: ${code}\r\n`), code.replace('-', ''));
    await page.fill('#ver-code', '');
    await page.locator('#ver-code').pressSequentially(code);
    assert.equal(await page.inputValue('#ver-code'), code.replace('-', ''));
    await page.press('#ver-code', 'Enter');
    await page.locator('#step-done').waitFor();
    await b.shot('registered');

    // a reset code lives as long as NatommCodeLifetime reset says
    await page.click('#nav-logout');
    await waitSession(page, 'out');
    await page.goto(url('/reset.html'));
    seen = mailNames();
    await page.fill('#reset-email', email);
    await page.click('#forgot-submit');
    await page.locator('#step-verify').waitFor();
    assert.match(await text(page, '#ver-sent'), /This code will expire in 45 minutes\./);
    assert.match((await waitMail(email, seen)).text, /expire in 45 minutes/);

    // "remember me" as long as NatommSessionRemember says, in both languages
    await page.goto(url('/login.html'));
    await waitSettings(page);
    assert.equal(await text(page, 'label[for="login-remember"]'), 'Keep me logged in on this device for 7 days');
    await page.click('[data-set-lang="fr"]');
    assert.equal(await text(page, 'label[for="login-remember"]'), 'Rester connecté sur cet appareil pendant 7 jours');
    await b.shot('login-remember-fr');
    await page.goto(url('/register.html'));
    await waitSettings(page);
    assert.equal(await text(page, '#reg-password-rules li[data-rule="length"]'), 'Au moins 14 caractères (64 au plus)');
  } catch (e) {
    await fail(b, e);
  }
  await finish(b);
}

/* ------------------------------------------------------------------------- */
/* JavaScript turned off: every page says that it needs JavaScript, in both
 * languages, and the login form sent natively posts to the endpoint itself:
 * the password travels in the body, never in a URL or the access log. */
async function noJavascript() {
  assert.ok(ACCESS_LOG, 'NATOMM_ACCESS_LOG names the server\'s access log');
  const acct = await createAccount();
  const pages = ['/', '/register.html', '/login.html', '/reset.html', '/account.html',
    '/unsubscribed.html?token=x'];
  const b = await launch('nojs', { javaScript: false });
  const { page } = b;
  const urls = [];
  page.on('request', (r) => urls.push(r.url()));
  try {
    for (const p of pages) {
      await page.goto(url(p));
      assert.equal(await page.locator('.noscript').isVisible(), true, `${p}: the noscript note`);
      assert.equal(await text(page, '.noscript [lang="en"]'),
        'These pages need JavaScript: turn it on to register, log in or download the videos.');
      assert.equal(await text(page, '.noscript [lang="fr"]'),
        'Ces pages ont besoin de JavaScript : activez-le pour vous inscrire, vous connecter ou télécharger les vidéos.');
      // every form that holds a password posts it to its endpoint
      const forms = await page.evaluate(() => [...document.querySelectorAll('form')]
        .filter((f) => f.querySelector('input[type=password]'))
        .map((f) => `#${f.id} ${f.getAttribute('method')} ${f.getAttribute('action')}`));
      for (const f of forms) assert.match(f, /^#[\w-]+ post \/account\/[a-z/]+$/, p);
    }

    await page.goto(url('/login.html?return=%2Faccount.html'));
    await b.shot('login-without-javascript');
    await page.fill('#login-email', acct.email);
    await page.fill('#login-password', acct.password);
    const logBefore = accessLog().length;
    const [answer] = await Promise.all([
      page.waitForResponse((r) => r.request().isNavigationRequest() && r.url().startsWith(url('/account/'))),
      page.click('#login-submit')
    ]);
    assert.equal(answer.request().method(), 'POST');
    assert.equal(answer.url(), url('/account/login'), 'no query string');
    assert.match(answer.request().postData(), /(^|&)password=/, 'the password went in the body');
    // the native form speaks the API's field names: the server logged in
    assert.equal(answer.status(), 200);
    await page.waitForURL(url('/account/login'));
    assert.match(await text(page, 'body'), /"status":\s*"logged_in"/);
    await b.shot('login-answer');

    const secret = [acct.password, encodeURIComponent(acct.password),
      new URLSearchParams({ p: acct.password }).toString().slice(2)];
    for (const u of urls) {
      for (const s of secret) assert.ok(!u.includes(s), `the password in a URL: ${u}`);
    }
    const line = await until(() => accessLog().slice(logBefore).split('\n')
      .find((l) => l.includes('"POST /account/login HTTP/1.1" 200')), 'this login in the access log');
    assert.doesNotMatch(line, /password|\?/, line);
    const log = accessLog();
    for (const s of secret) assert.ok(!log.includes(s), 'the password in the access log');
    assert.ok(!/login-password=|[?&]password=/.test(log), 'a password field in the access log');
  } catch (e) {
    await fail(b, e);
  }
  await finish(b);
}

/* ------------------------------------------------------------------------- */
/* "Copy a download link" on the account page and the news page: the link
 * is copied and shown, fetched without any cookie (whole, a range), kept
 * out of the access log, said again in French, and refused once the
 * password has changed. */
async function downloadLink() {
  const acct = await createAccount();
  const b = await launch('download-link');
  const { page, context } = b;
  /* the token of a link to the video, or null */
  const tokenOf = (link) => {
    const pre = BASE + '/dl/';
    if (!link.startsWith(pre) || !link.endsWith(VIDEO_PATH)) return null;
    const token = link.slice(pre.length, link.length - VIDEO_PATH.length);
    return /^[A-Za-z0-9_-]{52}$/.test(token) ? token : null;
  };
  const fetchBare = (u, headers = {}) => fetch(u, { headers, redirect: 'manual' });
  try {
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: BASE });
    const [name, value] = acct.cookie.split('=');
    await context.addCookies([{ name, value, url: BASE }]);
    await page.goto(url('/account.html'));
    await page.locator('#account').waitFor();
    assert.equal(await text(page, '#dl-h'), 'Download links');
    assert.equal(await text(page, '#acct-dl-copy'), 'Copy a download link');
    assert.match(await text(page, '#acct-dl-help'), /download manager \(aria2, wget, curl…\)/);
    assert.match(await text(page, '#acct-dl-help'), /changing your password ends it/);
    assert.equal(await page.locator('#acct-dl-url').isVisible(), false, 'no link before it is asked for');
    await b.shot('account-download-link');

    await page.click('#acct-dl-copy');
    await page.locator('#acct-dl-status', { hasText: 'Download link copied' }).waitFor();
    assert.equal(await text(page, '#acct-dl-status'), 'Download link copied. It works for 1 day, without logging in.');
    const link = await page.inputValue('#acct-dl-url');
    const token = tokenOf(link);
    assert.ok(token, link);
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), link, 'the link is on the clipboard');
    assert.equal(await page.locator('#acct-dl-url').getAttribute('readonly'), '');
    for (const v of await axe(page)) assert.fail(`axe: ${v}`);
    await b.shot('account-download-link-copied');

    // a download manager has no cookie: the link alone gets the file
    const size = videoSize();
    let r = await fetchBare(link);
    assert.equal(r.status, 200);
    const body = Buffer.from(await r.arrayBuffer());
    assert.equal(body.length, size);
    assert.ok(body.equals(fs.readFileSync(VIDEO_FILE)), 'the video, byte for byte');
    assert.match(r.headers.get('cache-control') || '', /private/);
    assert.equal(r.headers.get('referrer-policy'), 'no-referrer');
    assert.equal(r.headers.get('set-cookie'), null);
    r = await fetchBare(link, { Range: 'bytes=0-1023' });
    assert.equal(r.status, 206);
    assert.equal((await r.arrayBuffer()).byteLength, 1024);
    const line = await until(() => accessLog().split('\n')
      .find((l) => l.includes(`${acct.email} "GET /dl/REDACTED${VIDEO_PATH} HTTP/1.1" 206`)),
      'the ranged download in the access log, as the account');
    assert.ok(line);
    assert.ok(!accessLog().includes(token), 'the token in the access log');

    // the message follows a switch of language
    await page.click('[data-set-lang="fr"]');
    await page.locator('#acct-dl-status', { hasText: 'Lien de téléchargement copié' }).waitFor();
    assert.equal(await text(page, '#acct-dl-status'),
      'Lien de téléchargement copié. Il fonctionne pendant 1 jour, sans connexion.');
    assert.equal(await text(page, '#acct-dl-copy'), 'Copier un lien de téléchargement');
    assert.match(await text(page, '#acct-dl-help'), /gestionnaire de téléchargement/);
    await b.shot('account-download-link-fr');
    await page.click('[data-set-lang="en"]');

    // the news page offers it beside the download button
    await page.goto(url('/'));
    await waitSession(page, 'in');
    await page.click('#news-dl-copy');
    await page.locator('#news-dl-status', { hasText: 'Download link copied' }).waitFor();
    const link2 = await page.inputValue('#news-dl-url');
    assert.ok(tokenOf(link2), link2);
    assert.equal((await fetchBare(link2, { Range: 'bytes=0-0' })).status, 206);
    await b.shot('news-download-link');

    // a new password ends every link made before it
    r = await request('POST', '/account/password/change', {
      cookie: acct.cookie, fields: { current_password: acct.password, password: OTHER }
    });
    assert.equal(r.status, 200, r.text);
    for (const l of [link, link2]) {
      r = await fetchBare(l);
      assert.equal(r.status, 403);
      assert.match(r.headers.get('content-type') || '', /^application\/json/);
      assert.equal((await r.json()).error, 'link_refused');
    }
  } catch (e) {
    await fail(b, e);
  }
  await finish(b);
}

const SCENARIOS = {
  register_download: registerDownload,
  gated_link_login: gatedLinkLogin,
  login_unverified: loginUnverified,
  reset_return: resetReturn,
  account_page: accountPage,
  unsubscribe,
  french,
  keyboard,
  layout_360: layout360,
  other_settings: otherSettings,
  no_javascript: noJavascript,
  double_registration: doubleRegistration,
  download_link: downloadLink
};

const wanted = process.argv.slice(5);
if (wanted.includes('--list')) {
  console.log(Object.keys(SCENARIOS).join('\n'));
} else {
  for (const name of wanted.length ? wanted : Object.keys(SCENARIOS)) {
    const fn = SCENARIOS[name];
    if (!fn) throw new Error(`unknown scenario ${name}; known: ${Object.keys(SCENARIOS).join(', ')}`);
    await test(name, { timeout: 90000 }, fn);
  }
}
