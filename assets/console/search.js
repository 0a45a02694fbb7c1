// Search over a workspace (hybrid: words and meaning), with the query's words marked.

import { post } from './api.js';
import { errorBox, h, highlight, mount } from './dom.js';

async function searchPage({ root, params, query }, shell) {
  const ws = params.id;
  shell.setWorkspace(ws);
  const q = query.get('q') || '';
  document.title = `Search: ${q} · Kanri`;
  const results = h('ol', { class: 'results' });
  mount(root, h('section', { class: 'page' }, h('h1', {}, 'Search results for ', h('q', {}, q)), results));
  if (!q) return;
  try {
    const data = await post(`/v1/workspaces/${encodeURIComponent(ws)}/search`, { query: q, mode: 'hybrid', limit: 50 });
    const items = data.items || data.results || [];
    if (items.length === 0) results.replaceWith(h('p', { class: 'muted' }, 'Nothing matches.'));
    for (const item of items) {
      const t = item.task || item;
      results.appendChild(h('li', {},
        h('a', { href: `/app/tasks/${encodeURIComponent(t.id)}` }, highlight(t.title, q)),
        t.description ? h('p', { class: 'muted' }, highlight(t.description.slice(0, 240), q)) : null));
    }
  } catch (err) {
    results.replaceWith(errorBox(err));
  }
}

export function register(route, { needsMember, shell }) {
  route('/app/w/:id/search', needsMember((ctx) => searchPage(ctx, shell)));
}
