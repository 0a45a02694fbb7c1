// The board: a column per status, cards in position order, moved by drag and drop or with the
// move buttons; filtered; kept live by the project's event stream.

import { all, get, patch, post } from './api.js';
import { errorBox, errorText, fmtDate, h, mount, toast } from './dom.js';
import { onLeave } from './router.js';
import { projectStream } from './live.js';
import { openTaskPanel } from './task.js';

export const STATUSES = [['TODO', 'To do'], ['IN_PROGRESS', 'In progress'], ['DONE', 'Done']];
const PRIORITIES = ['LOW', 'MEDIUM', 'HIGH'];
const TYPES = ['TASK', 'BUG', 'FEATURE', 'IMPROVEMENT', 'OTHER'];

const byPosition = (a, b) => (a.position < b.position ? -1 : a.position > b.position ? 1 : a.id < b.id ? -1 : 1);

async function boardPage({ root, params, query }, shell) {
  const projectId = params.id;
  const base = `/v1/projects/${encodeURIComponent(projectId)}`;
  const [project, tasks, members] = await Promise.all([
    get(base), all(`${base}/tasks`), all(`${base}/members`).catch(() => []),
  ]);
  shell.setWorkspace(project.workspace_id);
  document.title = `${project.name} · Kanri`;
  const state = {
    tasks: new Map(tasks.map((t) => [t.id, t])),
    names: new Map(members.map((m) => [m.user_id, m.name || m.email || m.user_id])),
    filter: { assignee: query.get('assignee') || '', type: '', priority: '', due: '' },
  };
  const columns = new Map();
  const liveBadge = h('span', { class: 'live muted', 'aria-live': 'polite' }, 'connecting…');

  const visible = (t) => {
    const f = state.filter;
    if (f.assignee === 'none' ? t.assignee_id : f.assignee && t.assignee_id !== f.assignee) return false;
    if (f.type && t.type !== f.type) return false;
    if (f.priority && t.priority !== f.priority) return false;
    if (f.due) {
      const due = t.due_date ? new Date(t.due_date).getTime() : null;
      const now = Date.now();
      if (f.due === 'overdue' && !(due && due < now && t.status !== 'DONE')) return false;
      if (f.due === 'week' && !(due && due >= now && due < now + 7 * 86400000)) return false;
      if (f.due === 'none' && due) return false;
    }
    return true;
  };
  const inColumn = (status) => [...state.tasks.values()].filter((t) => t.status === status).sort(byPosition);

  const move = async (task, status, index) => {
    const siblings = inColumn(status).filter((t) => t.id !== task.id);
    const after = siblings[index - 1];
    const before = siblings[index];
    const body = {};
    if (status !== task.status) body.status = status;
    if (after) body.after_id = after.id;
    else if (before) body.before_id = before.id;
    if (Object.keys(body).length === 0) return;
    try {
      const updated = await patch(`/v1/tasks/${encodeURIComponent(task.id)}`, body);
      state.tasks.set(updated.id, updated);
      draw();
      const again = document.querySelector(`[data-task="${CSS.escape(task.id)}"] .title`);
      if (again) again.focus();
    } catch (err) {
      toast(errorText(err), 'error');
    }
  };

  const card = (t, status, index, count) => {
    const col = STATUSES.findIndex(([s]) => s === status);
    const moveButton = (label, text, target, targetIndex, enabled) => h('button', {
      class: 'icon', type: 'button', 'aria-label': `${label}: ${t.title}`, title: label, disabled: !enabled,
      onclick: () => move(t, target, targetIndex),
    }, text);
    const el = h('li', { class: `card p-${(t.priority || '').toLowerCase()}`, dataset: { task: t.id } },
      h('button', { class: 'title', type: 'button', onclick: () => openTaskPanel(t.id, { onChange: upsert }) }, t.title),
      h('div', { class: 'meta' },
        t.type ? h('span', { class: 'tag' }, t.type) : null,
        t.priority ? h('span', { class: 'tag' }, t.priority) : null,
        t.assignee_id ? h('span', { class: 'who' }, state.names.get(t.assignee_id) || 'assigned') : null,
        t.due_date ? h('span', { class: 'due' }, `due ${fmtDate(t.due_date)}`) : null),
      h('div', { class: 'moves', role: 'group', 'aria-label': `Move ${t.title}` },
        moveButton('Move left', '←', STATUSES[col - 1] && STATUSES[col - 1][0], 0, col > 0),
        moveButton('Move up', '↑', status, index - 1, index > 0),
        moveButton('Move down', '↓', status, index + 1, index < count - 1),
        moveButton('Move right', '→', STATUSES[col + 1] && STATUSES[col + 1][0], 0, col < STATUSES.length - 1)));
    el.addEventListener('pointerdown', (e) => startDrag(e, el, t));
    return el;
  };

  // Drag with pointer events, so a mouse, a pen and a finger all work (HTML5 drag and drop
  // does not on touch screens). The card follows the pointer; the drop goes where it is let go.
  const startDrag = (down, el, task) => {
    if (down.button !== 0 || down.target.closest('.moves')) return;
    const start = { x: down.clientX, y: down.clientY };
    let dragging = false;
    const moveTo = (e) => {
      if (!dragging) {
        if (Math.hypot(e.clientX - start.x, e.clientY - start.y) < 6) return;
        dragging = true;
        el.classList.add('dragging');
        el.setPointerCapture(down.pointerId);
      }
      el.style.transform = `translate(${e.clientX - start.x}px, ${e.clientY - start.y}px)`;
      for (const { list } of columns.values()) list.classList.toggle('over', list === listAt(e));
    };
    const end = (e) => {
      el.removeEventListener('pointermove', moveTo);
      el.removeEventListener('pointerup', end);
      el.removeEventListener('pointercancel', end);
      if (!dragging) return;
      el.style.transform = '';
      el.classList.remove('dragging');
      for (const { list } of columns.values()) list.classList.remove('over');
      const list = e.type === 'pointerup' ? listAt(e) : null;
      if (!list) return;
      // Suppress the click that follows the drag, so the panel does not open.
      el.addEventListener('click', (c) => { c.stopPropagation(); c.preventDefault(); }, { capture: true, once: true });
      const status = list.closest('.column').dataset.status;
      const shown = [...list.querySelectorAll('.card')].filter((c) => c !== el);
      const i = shown.findIndex((c) => e.clientY < c.getBoundingClientRect().top + c.offsetHeight / 2);
      const anchor = i === -1 ? null : shown[i].dataset.task;
      // Filtered-out cards still hold places: map the visible place back to the full column.
      const full = inColumn(status).filter((x) => x.id !== task.id);
      const at = anchor ? full.findIndex((x) => x.id === anchor) : full.length;
      move(task, status, at);
    };
    el.addEventListener('pointermove', moveTo);
    el.addEventListener('pointerup', end);
    el.addEventListener('pointercancel', end);
  };

  const listAt = (e) => {
    for (const { list } of columns.values()) {
      const r = list.closest('.column').getBoundingClientRect();
      if (e.clientX >= r.left && e.clientX <= r.right && e.clientY >= r.top && e.clientY <= r.bottom) return list;
    }
    return null;
  };

  const column = (status, label) => {
    const list = h('ol', { class: 'cards', 'aria-label': label });
    const count = h('span', { class: 'count muted' });
    const el = h('section', { class: 'column', dataset: { status } }, h('h2', {}, label, ' ', count), list);
    columns.set(status, { list, count });
    return el;
  };

  const draw = () => {
    for (const [status] of STATUSES) {
      const { list, count } = columns.get(status);
      const cards = inColumn(status);
      const shown = cards.filter(visible);
      count.textContent = `${shown.length}`;
      const frag = document.createDocumentFragment();
      shown.forEach((t) => frag.appendChild(card(t, status, cards.indexOf(t), cards.length)));
      list.replaceChildren(frag);
    }
  };

  const upsert = (task) => {
    if (task && task.id) state.tasks.set(task.id, task);
    draw();
  };

  const select = (label, key, options) => h('label', { class: 'filter' }, label, ' ',
    h('select', { onchange: (e) => { state.filter[key] = e.target.value; draw(); } },
      h('option', { value: '' }, 'Any'),
      options.map(([value, text]) => h('option', { value, selected: state.filter[key] === value }, text))));

  const title = h('input', { type: 'text', name: 'title', required: true, maxlength: 500, placeholder: 'New task title', 'aria-label': 'New task title' });
  const addStatus = h('div');
  const addForm = h('form', {
    class: 'add-task',
    onsubmit: async (e) => {
      e.preventDefault();
      mount(addStatus);
      try {
        const created = await post(`${base}/tasks`, { title: title.value });
        title.value = '';
        upsert(created);
      } catch (err) { mount(addStatus, errorBox(err)); }
    },
  }, title, h('button', { class: 'primary', type: 'submit' }, 'Add task'), addStatus);

  mount(root, h('section', { class: 'board-page' },
    h('div', { class: 'board-head' }, h('h1', {}, project.name), liveBadge),
    h('div', { class: 'filters', role: 'group', 'aria-label': 'Filters' },
      select('Assignee', 'assignee', [['none', 'Nobody'], ...[...state.names].map(([id, n]) => [id, n])]),
      select('Type', 'type', TYPES.map((t) => [t, t])),
      select('Priority', 'priority', PRIORITIES.map((p) => [p, p])),
      select('Due', 'due', [['overdue', 'Overdue'], ['week', 'Next 7 days'], ['none', 'No due date']])),
    addForm,
    h('div', { class: 'board' }, STATUSES.map(([s, label]) => column(s, label)))));
  draw();

  // Live: any change by anyone, applied as it comes. A task event names the task; read it back
  // (the read is the truth, whatever the event carried).
  // A read that fails (the network dropped after the event came) is tried again until it
  // works, so no change is lost.
  const pending = new Set();
  const refetch = async (id) => {
    try {
      upsert(await get(`/v1/tasks/${encodeURIComponent(id)}`));
      pending.delete(id);
    } catch (err) {
      if (err.status === 404) { pending.delete(id); state.tasks.delete(id); draw(); } else pending.add(id);
    }
  };
  const retry = setInterval(() => { for (const id of [...pending]) refetch(id); }, 2000);
  const online = () => { for (const id of [...pending]) refetch(id); };
  window.addEventListener('online', online);
  onLeave(() => { clearInterval(retry); window.removeEventListener('online', online); });
  const stop = projectStream(projectId, (kind, frame) => {
    const data = (frame && frame.data) || {};
    const id = data.id || data.task_id || (data.task && data.task.id);
    if (kind === 'task.deleted' && id) { state.tasks.delete(id); draw(); return; }
    if (kind.startsWith('task.') && id) refetch(id);
  }, (s) => { liveBadge.textContent = s === 'live' ? 'live' : 'reconnecting…'; liveBadge.dataset.state = s; });
  onLeave(stop);
}

export function register(route, { needsMember, shell }) {
  route('/app/p/:id', needsMember((ctx) => boardPage(ctx, shell)));
}
