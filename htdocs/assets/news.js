// index.html: the news page. Logged in: the gated video plays here and the
// download link works. Logged out: "Log in / Create an account to download",
// both bringing the user back here.
import { initPage } from './lib/page.js';
import { onLang, getLang, t } from './lib/i18n.js';
import { setupDownloadLink } from './lib/download-link.js';

const VIDEO = '/videos/nato-defence-ministers-sample.mp4';

initPage().then(async (session) => {
  if (!session || !session.authenticated) return;
  const video = document.getElementById('video');
  video.src = VIDEO;
  video.hidden = false;
  document.getElementById('video-poster').hidden = true;
  for (const el of document.querySelectorAll('[data-download-link]')) setupDownloadLink(el);
  try {
    const head = await fetch(VIDEO, { method: 'HEAD', credentials: 'same-origin' });
    const bytes = Number(head.headers.get('Content-Length'));
    if (head.ok && bytes > 0) {
      const slot = document.getElementById('download-size');
      onLang(() => {
        const mb = (bytes / 1048576).toLocaleString(getLang(), { maximumFractionDigits: 1 });
        slot.textContent = t('video.size', { size: mb });
      });
    }
  } catch (e) {
    /* the size is a nicety */
  }
});
