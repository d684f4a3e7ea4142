// Field checks before anything is sent: required fields and e-mail syntax,
// each problem shown under its field (<input id>-error) and aria-invalid.
import { say, clear } from './messages.js';

function errorSlot(input) {
  return document.getElementById(input.id + '-error');
}

export function fieldError(input, key) {
  const slot = errorSlot(input);
  if (key) {
    input.setAttribute('aria-invalid', 'true');
    if (slot) say(slot, { key }, 'error');
  } else {
    input.removeAttribute('aria-invalid');
    if (slot) clear(slot);
  }
}

const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@.]+$/;

/* Marks every problem and returns the first field at fault, or null. */
export function checkFields(inputs) {
  let first = null;
  for (const input of inputs) {
    let key = null;
    const v = input.type === 'password' ? input.value : input.value.trim();
    if (input.required && !v) key = 'f.required';
    else if (input.type === 'email' && v && !EMAIL_RE.test(v)) key = 'f.badEmail';
    fieldError(input, key);
    if (key && !first) first = input;
  }
  return first;
}

export function clearFieldErrors(form) {
  for (const input of form.querySelectorAll('input')) fieldError(input, null);
}
