// "Send new code" with a visible cooldown: the button stays focusable
// (aria-disabled) and a text beside it counts down.
import { t, onLang } from './i18n.js';
import { formatWait } from './time.js';

export class Cooldown {
  constructor(button, text) {
    this.button = button;
    this.text = text;
    this.until = 0;
    this.timer = null;
    onLang(() => this.paint());
  }

  left() { return Math.max(0, Math.ceil((this.until - Date.now()) / 1000)); }
  get active() { return this.left() > 0; }

  start(seconds) {
    this.until = Date.now() + seconds * 1000;
    if (!this.timer) this.timer = setInterval(() => this.paint(), 1000);
    this.paint();
  }

  stop() {
    this.until = 0;
    this.paint();
  }

  paint() {
    const left = this.left();
    if (left > 0) {
      this.button.setAttribute('aria-disabled', 'true');
      this.text.textContent = t('ver.wait', { time: formatWait(left) });
    } else {
      this.button.removeAttribute('aria-disabled');
      this.text.textContent = '';
      if (this.timer) { clearInterval(this.timer); this.timer = null; }
    }
  }
}
