// Workspaces, their projects and their members.

import { all, del, get, patch, post, session } from './api.js';
import { errorBox, errorText, field, fmtDate, h, mount, toast } from './dom.js';
import { navigate } from './router.js';

const ROLES = ['OWNER', 'ADMIN', 'MEMBER', 'VIEWER'];

async function home(ctx, shell) {
  const { root } = ctx;
  document.title = 'Workspaces · Kanri';
  const list = await shell.refreshWorkspaces();
  const name = h('input', { type: 'text', name: 'name', required: true, maxlength: 200 });
  const status = h('div');
  mount(root, h('section', { class: 'page' },
    h('h1', {}, 'Your workspaces'),
    list.length === 0 ? h('p', { class: 'muted' }, 'No workspace yet: create one to start.') : null,
    h('ul', { class: 'tiles' }, list.map((w) =>
      h('li', {}, h('a', { class: 'tile', href: `/app/w/${encodeURIComponent(w.id)}` }, w.name)))),
    h('form', {
      class: 'card inline',
      onsubmit: async (e) => {
        e.preventDefault();
        try {
          const ws = await post('/v1/workspaces', { name: name.value });
          await shell.refreshWorkspaces();
          navigate(`/app/w/${encodeURIComponent(ws.id)}`);
        } catch (err) { mount(status, errorBox(err)); }
      },
    }, h('h2', {}, 'New workspace'), field('Name', name), status, h('button', { class: 'primary', type: 'submit' }, 'Create workspace'))));
}

async function projectsPage({ root, params }, shell) {
  const wsId = params.id;
  shell.setWorkspace(wsId);
  const [workspace, projects, members] = await Promise.all([
    get(`/v1/workspaces/${encodeURIComponent(wsId)}`),
    all(`/v1/workspaces/${encodeURIComponent(wsId)}/projects`),
    all(`/v1/workspaces/${encodeURIComponent(wsId)}/members`),
  ]);
  document.title = `${workspace.name} · Kanri`;
  const names = new Map(members.map((m) => [m.user_id, m.name]));
  const name = h('input', { type: 'text', name: 'name', required: true, maxlength: 200 });
  const status = h('div');
  const rows = projects.map((p) => h('tr', {},
    h('td', {}, h('a', { href: `/app/p/${encodeURIComponent(p.id)}` }, p.name)),
    h('td', {}, h('span', { class: `badge s-${p.status.toLowerCase()}` }, p.status.replace('_', ' '))),
    h('td', {}, p.team_lead_id ? names.get(p.team_lead_id) || '—' : '—'),
    h('td', { class: 'progress-cell', dataset: { project: p.id } }, '…')));
  mount(root, h('section', { class: 'page' },
    h('h1', {}, workspace.name),
    h('h2', {}, 'Projects'),
    projects.length === 0 ? h('p', { class: 'muted' }, 'No projects yet.') :
      h('table', { class: 'list' },
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Project'), h('th', { scope: 'col' }, 'Status'),
          h('th', { scope: 'col' }, 'Lead'), h('th', { scope: 'col' }, 'Progress'))),
        h('tbody', {}, rows)),
    h('form', {
      class: 'card inline',
      onsubmit: async (e) => {
        e.preventDefault();
        try {
          const p = await post(`/v1/workspaces/${encodeURIComponent(wsId)}/projects`, { name: name.value });
          navigate(`/app/p/${encodeURIComponent(p.id)}`);
        } catch (err) { mount(status, errorBox(err)); }
      },
    }, h('h2', {}, 'New project'), field('Name', name), status, h('button', { class: 'primary', type: 'submit' }, 'Create project'))));
  // Progress: the share of a project's tasks that are done (loaded after the list is shown).
  for (const cell of root.querySelectorAll('.progress-cell')) {
    progress(cell.dataset.project).then((text) => { cell.textContent = text; }, () => { cell.textContent = '—'; });
  }
}

async function progress(projectId) {
  const tasks = await all(`/v1/projects/${encodeURIComponent(projectId)}/tasks`);
  if (tasks.length === 0) return 'no tasks';
  const done = tasks.filter((t) => t.status === 'DONE').length;
  return `${Math.round((100 * done) / tasks.length)}% (${done}/${tasks.length})`;
}

async function membersPage({ root, params }, shell) {
  const wsId = params.id;
  shell.setWorkspace(wsId);
  const base = `/v1/workspaces/${encodeURIComponent(wsId)}`;
  const [workspace, members] = await Promise.all([get(base), all(`${base}/members`)]);
  document.title = `Members of ${workspace.name} · Kanri`;
  const me = members.find((m) => m.user_id === session.user.id);
  const canManage = me && (me.role === 'OWNER' || me.role === 'ADMIN');
  const redraw = () => membersPage({ root, params }, shell);
  const rows = members.map((m) => h('tr', {},
    h('td', {}, m.name),
    h('td', {}, m.email),
    h('td', {}, canManage && m.user_id !== session.user.id
      ? h('select', {
        'aria-label': `Role of ${m.name}`,
        onchange: async (e) => {
          try { await patch(`${base}/members/${encodeURIComponent(m.user_id)}`, { role: e.target.value }); toast('Role changed'); } catch (err) { toast(errorText(err), 'error'); redraw(); }
        },
      }, ROLES.map((r) => h('option', { value: r, selected: r === m.role }, r)))
      : m.role),
    h('td', {}, fmtDate(m.joined_at)),
    h('td', {}, canManage && m.user_id !== session.user.id
      ? h('button', {
        class: 'danger',
        onclick: async () => {
          if (!confirm(`Remove ${m.name} from ${workspace.name}?`)) return;
          try { await del(`${base}/members/${encodeURIComponent(m.user_id)}`); redraw(); } catch (err) { toast(errorText(err), 'error'); }
        },
      }, 'Remove')
      : null)));
  const email = h('input', { type: 'email', name: 'email', required: true, maxlength: 254 });
  const role = h('select', { name: 'role' }, ROLES.filter((r) => r !== 'OWNER').map((r) => h('option', { value: r, selected: r === 'MEMBER' }, r)));
  const status = h('div');
  mount(root, h('section', { class: 'page' },
    h('h1', {}, `Members of ${workspace.name}`),
    h('table', { class: 'list' },
      h('thead', {}, h('tr', {}, ['Name', 'Email', 'Role', 'Joined', ''].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, rows)),
    canManage ? h('form', {
      class: 'card inline',
      onsubmit: async (e) => {
        e.preventDefault();
        try {
          await post(`${base}/invitations`, { email: email.value, role: role.value });
          mount(status, h('p', { class: 'ok', role: 'status' }, `Invitation sent to ${email.value}`));
          email.value = '';
        } catch (err) { mount(status, errorBox(err)); }
      },
    }, h('h2', {}, 'Invite someone'), field('Email', email), field('Role', role), status,
    h('button', { class: 'primary', type: 'submit' }, 'Send invitation')) : null));
}

export function register(route, { needsMember, shell }) {
  route('/app', needsMember((ctx) => home(ctx, shell)));
  route('/app/w/:id', needsMember((ctx) => projectsPage(ctx, shell)));
  route('/app/w/:id/members', needsMember((ctx) => membersPage(ctx, shell)));
}
