// Start-up: read the cookie session, draw the top bar, hand the path to the router.

import { admin, loadAdmin, loadSession, session, signOut, get } from './api.js';
import { h, mount, toast, errorText } from './dom.js';
import { navigate, route, setNotFound, start } from './router.js';
import * as auth from './auth.js';
import * as workspaces from './workspaces.js';
import * as board from './board.js';
import * as task from './task.js';
import * as search from './search.js';
import * as adminPages from './admin.js';

const top = document.getElementById('top');
const main = document.getElementById('main');

/** The workspaces of the signed-in member, for the switcher (loaded once, refreshed on demand). */
export const shell = {
  workspaces: null,
  current: null,
  async refreshWorkspaces() {
    this.workspaces = session.user ? (await get('/v1/workspaces?limit=100')).items : [];
    drawTop();
    return this.workspaces;
  },
  setWorkspace(id) {
    if (this.current === id) return;
    this.current = id;
    if (id) localStorage.setItem('kanri.workspace', id);
    drawTop();
  },
  redraw() { drawTop(); },
};

function workspaceSwitcher() {
  if (!session.user || !shell.workspaces || shell.workspaces.length === 0) return null;
  const select = h('select', {
    'aria-label': 'Workspace',
    class: 'switcher',
    onchange: (e) => navigate(`/app/w/${encodeURIComponent(e.target.value)}`),
  },
  shell.current ? null : h('option', { value: '', text: 'Choose a workspace' }),
  shell.workspaces.map((w) => h('option', { value: w.id, selected: w.id === shell.current }, w.name)));
  return select;
}

function drawTop() {
  const ws = shell.current;
  mount(top,
    h('nav', { class: 'bar', 'aria-label': 'Main' },
      h('a', { href: '/app', class: 'brand' }, 'Kanri'),
      workspaceSwitcher(),
      ws ? h('a', { href: `/app/w/${encodeURIComponent(ws)}` }, 'Projects') : null,
      ws ? h('a', { href: `/app/w/${encodeURIComponent(ws)}/members` }, 'Members') : null,
      ws ? searchBox(ws) : null,
      h('span', { class: 'spacer' }),
      admin.tenantId ? h('a', { href: '/app/admin' }, 'Admin') : null,
      session.user ? h('span', { class: 'who muted' }, session.user.name) : null,
      session.user
        ? h('button', { class: 'link', onclick: doSignOut }, 'Sign out')
        : h('a', { href: '/app/sign-in' }, 'Sign in')));
}

function searchBox(ws) {
  const input = h('input', { type: 'search', name: 'q', placeholder: 'Search tasks', 'aria-label': 'Search tasks', maxlength: 500 });
  return h('form', {
    role: 'search',
    class: 'search-box',
    onsubmit: (e) => {
      e.preventDefault();
      const q = input.value.trim();
      if (q) navigate(`/app/w/${encodeURIComponent(ws)}/search?q=${encodeURIComponent(q)}`);
    },
  }, input);
}

async function doSignOut() {
  try {
    await signOut();
  } catch (err) {
    toast(errorText(err), 'error');
  }
  shell.workspaces = null;
  shell.current = null;
  navigate('/app/sign-in');
}

/** Pages that need a member: sends others to sign in, and back here afterwards. */
export function needsMember(view) {
  return async (ctx) => {
    if (!session.user) {
      const back = location.pathname + location.search;
      navigate(`/app/sign-in?next=${encodeURIComponent(back)}`, { replace: true });
      return;
    }
    if (shell.workspaces === null) await shell.refreshWorkspaces();
    return view(ctx);
  };
}

function notFound({ root }) {
  document.title = 'Not found · Kanri';
  mount(root, h('section', { class: 'narrow' },
    h('h1', {}, 'Page not found'),
    h('p', {}, 'There is no page at this address.'),
    h('p', {}, h('a', { href: '/app' }, 'Go to your workspaces'))));
}

async function boot() {
  try {
    await Promise.all([loadSession(), loadAdmin()]);
  } catch (err) {
    toast(errorText(err), 'error');
  }
  if (session.user) {
    shell.current = localStorage.getItem('kanri.workspace');
    try { await shell.refreshWorkspaces(); } catch (err) { toast(errorText(err), 'error'); }
  }
  drawTop();
  for (const m of [auth, workspaces, board, task, search, adminPages]) {
    m.register(route, { needsMember, shell });
  }
  setNotFound(notFound);
  shell.notFound = notFound;
  // The server answered 404 for this path: draw the same page whatever the script thinks.
  if (document.documentElement.dataset.status === '404') {
    notFound({ root: main });
    return;
  }
  await start(main);
}

boot();
