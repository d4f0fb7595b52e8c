// login: the sign-in form; on success goes to the page asked for (?next=),
// else the caller's first page: a store manager's store, everyone else's overview.
import { $, el, api, ApiError } from './core.js';
import { t, htmlLang, toggleLang } from './i18n.js';

document.documentElement.lang = htmlLang();
document.title = `${t('login_title')} · ${t('brand')}`;
$('#subtitle').textContent = t('app');
$('#l-user').textContent = t('username');
$('#l-pass').textContent = t('password');
$('#submit').textContent = t('login_button');
$('#lang').textContent = t('lang_switch');
$('#lang').addEventListener('click', toggleLang);

function safeNext() {
  const next = new URLSearchParams(location.search).get('next') || '';
  // only a page of this site: a plain file name with an optional query
  return /^[a-z]+\.html(\?[^#]*)?$/.test(next) ? next : null;
}
// The first page of who signed in.
async function home() {
  const me = await api('GET', '/api/v1/me').catch(() => null);
  if (me?.role === 'store_manager' && me.stores?.length === 1) return `store.html?code=${encodeURIComponent(me.stores[0])}`;
  return 'index.html';
}

$('#login-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const msg = $('#message');
  msg.replaceChildren();
  try {
    await api('POST', '/api/v1/session', { username: $('#username').value, password: $('#password').value });
    sessionStorage.clear();
    location.href = safeNext() || await home();
  } catch (e) {
    let text = t('login_failed');
    if (e instanceof ApiError && e.status === 429) {
      const m = /(\d+)/.exec(e.message);
      text = t('login_limited', { s: m ? m[1] : '60' });
    } else if (!(e instanceof ApiError) || e.status !== 401) text = `${t('error')}: ${e.message}`;
    msg.append(el('div', { class: 'error' }, text));
  }
});
