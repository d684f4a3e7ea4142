// "Copy a download link" (partials/download-link.html): POST
// /account/download-link makes a link to the video that works without the
// session cookie, for download managers and players; it is copied to the
// clipboard and shown in a read-only field (selected, when the browser
// does not let the page copy).
import { api } from './api.js';
import { say, clear, errorMessage } from './messages.js';
import { durationText } from './time.js';

/* root: the element marked data-download-link="<path>"; onError(res) may
 * handle an error answer itself (return true), e.g. a session that ended */
export function setupDownloadLink(root, onError) {
  const path = root.dataset.downloadLink;
  const button = root.querySelector('[data-dl-copy]');
  const status = root.querySelector('[data-dl-status]');
  const box = root.querySelector('[data-dl-box]');
  const field = root.querySelector('[data-dl-url]');
  let busy = false;

  button.addEventListener('click', async () => {
    if (busy) return;
    busy = true;
    clear(status);
    const res = await api('download-link', { path });
    busy = false;
    if (!res.ok) {
      if (!(onError && onError(res))) say(status, errorMessage(res), 'error');
      return;
    }
    const seconds = res.data.expires_in;
    field.value = res.data.url;
    box.hidden = false;
    let copied = true;
    try {
      await navigator.clipboard.writeText(res.data.url);
    } catch (e) {
      copied = false;
    }
    if (!copied) {
      field.focus();
      field.select();
    }
    // the duration is put in words when shown, so it follows a switch of language
    say(status, { key: copied ? 'dl.copied' : 'dl.shown', vars: { get time() { return durationText(seconds); } } },
      copied ? 'ok' : 'info');
  });
}
