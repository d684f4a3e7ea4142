// The code field, shaped by the server's NatommCodeFormat (lib/settings.js):
// letters as the mail shows them (XXXX-XXXX, in upper case as typed), digits
// plain. A code pasted from the mail, words around it and all, lands in the
// field as the code alone. The server ignores case, spaces and dashes.
import { t, onLang } from './i18n.js';
import { settings } from './settings.js';

const DASH = '\\-\u2010-\u2015';      // hyphen-minus and the Unicode dashes

/* the mail splits an even length of 6 or more in two halves (src/code.c) */
function halves(n) { return n >= 6 && n % 2 === 0; }

function display(code) {
  const n = code.length;
  return halves(n) ? code.slice(0, n / 2) + '-' + code.slice(n / 2) : code;
}

/* fmt: {kind: 'letters' | 'digits', length, alphabet} */
export function codeShape(fmt) {
  return fmt.kind === 'digits' ? '0'.repeat(fmt.length) : display('X'.repeat(fmt.length));
}

/* the code in text (a paste), in the field's form, or null */
export function extractCode(text, fmt) {
  const up = String(text || '').toUpperCase();
  const n = fmt.length;
  if (fmt.kind === 'digits') {
    for (const m of up.matchAll(new RegExp(`\\d(?:[\\d ${DASH}]*\\d)?`, 'g'))) {
      const digits = m[0].replace(/\D/g, '');
      if (digits.length === n) return digits;
    }
    return null;
  }
  const a = `[${fmt.alphabet}]`;
  if (halves(n)) {
    const m = up.match(new RegExp(`(?:^|[^A-Z])(${a}{${n / 2}})[${DASH} ](${a}{${n / 2}})(?![A-Z])`));
    if (m) return m[1] + '-' + m[2];
  }
  const m = up.match(new RegExp(`(?:^|[^A-Z])(${a}{${n}})(?![A-Z])`));
  return m ? display(m[1]) : null;
}

/* input: the code field; hint: the line that says what to type */
export function wireCodeInput(input, hint) {
  let fmt = null;
  const paintHint = () => {
    if (!fmt) return;
    hint.textContent = fmt.kind === 'digits'
      ? t('f.codeHintDigits', { n: fmt.length })
      : t('f.codeHint', { n: fmt.length, shape: codeShape(fmt) });
  };
  onLang(paintHint);
  settings().then((s) => {
    if (!s) return;
    fmt = { kind: s.code_kind, length: s.code_length, alphabet: s.code_alphabet };
    const digits = fmt.kind === 'digits';
    // room for the mail's form as typed from it: the dash between the halves
    input.maxLength = display('0'.repeat(fmt.length)).length;
    input.placeholder = codeShape(fmt);
    input.inputMode = digits ? 'numeric' : 'text';
    input.setAttribute('autocapitalize', digits ? 'off' : 'characters');
    paintHint();
  });

  input.addEventListener('paste', (e) => {
    const text = e.clipboardData ? e.clipboardData.getData('text') : '';
    const code = fmt && extractCode(text, fmt);
    if (code) {
      e.preventDefault();
      input.value = code;
      input.dispatchEvent(new Event('input', { bubbles: true }));
    }
  });
  input.addEventListener('input', () => {
    const shown = fmt && fmt.kind === 'digits'
      ? input.value.replace(/\D/g, '') : input.value.toUpperCase();
    if (shown !== input.value) {
      const pos = Math.min(input.selectionStart, shown.length);
      input.value = shown;
      try { input.setSelectionRange(pos, pos); } catch (e) { /* not focused */ }
    }
  });
}
