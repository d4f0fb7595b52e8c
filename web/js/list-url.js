// list-url: the list page's address made whole before core.js reads it.
// A link to an as-of list may carry `to` alone (the rows are as of that
// day); the period picker and the header's links need a period, so `from`
// becomes the first day of the month of `to` (a whole month when `to` is
// its last day). Imported first by list.js, so it runs before core.js
// takes the period from the address; it imports nothing.
const q = new URLSearchParams(location.search);
const to = q.get('to');
if (to && /^\d{4}-\d{2}-\d{2}$/.test(to) && !q.get('from')) {
  const [y, m, d] = to.split('-').map(Number);
  q.set('from', `${to.slice(0, 8)}01`);
  q.set('kind', new Date(y, m, 0).getDate() === d ? 'month' : 'custom');
  history.replaceState(null, '', `${location.pathname}?${q}${location.hash}`);
}
