// Times shown to people, in the page's language.
import { t, getLang } from './i18n.js';

/* a countdown: "42 s", "2 min 05 s" */
export function formatWait(seconds) {
  const s = Math.max(0, Math.ceil(seconds));
  if (s <= 90) return t('time.s', { s });
  return t('time.ms', { m: Math.floor(s / 60), s: String(s % 60).padStart(2, '0') });
}

function count(unit, n) {
  const form = new Intl.PluralRules(getLang()).select(n) === 'one' ? 'one' : 'other';
  return t(`dur.${unit}.${form}`, { n });
}

/* a configured duration in words, in its largest whole unit: "30 minutes",
 * "7 days", "36 hours", "90 minutes" */
export function durationText(seconds) {
  for (const [unit, size] of [['day', 86400], ['hour', 3600], ['minute', 60]]) {
    if (seconds >= size && seconds % size === 0) return count(unit, seconds / size);
  }
  if (seconds >= 60) return count('minute', Math.round(seconds / 60));
  return count('second', Math.max(0, Math.round(seconds)));
}
