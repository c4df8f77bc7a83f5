// The language switch in the chat page's user menu. PATCH /api/me {"locale"} keeps the choice for the
// user, then the page reloads itself: the server renders every page in the new language from then on,
// and nothing is lost — the session cookie keeps the login, the address keeps the open chat, the
// outbox (localStorage) keeps unsent messages, and the composer hands its drafts to the next load.
import { api } from './api.js';
import { h } from './dom.js';
import { LANGUAGES, lang, t } from './i18n.js';

/** Add the switch to ``container``; ``beforeReload()`` saves what the reload would lose. */
export function languageSwitch(container, { beforeReload }) {
  const names = { en: t('language.en'), ru: t('language.ru') };
  const error = h('span', { className: 'form-error small', role: 'alert', hidden: true });
  const select = h('select', { className: 'language-select', dataset: { testid: 'language' } },
    ...LANGUAGES.map((code) => h('option', { value: code, lang: code, selected: code === lang }, names[code])));
  select.addEventListener('change', async () => {
    select.disabled = true;
    error.hidden = true;
    try {
      await api('PATCH', '/api/me', { locale: select.value });
    } catch (failure) {
      select.value = lang;
      select.disabled = false;
      error.textContent = t('language.failed', { reason: failure.message });
      error.hidden = false;
      return;
    }
    beforeReload();
    location.reload();
  });
  container.append(h('label', { className: 'foot-link' }, t('language.label'), ' ', select), error);
}
