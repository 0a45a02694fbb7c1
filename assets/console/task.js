// A task: in a side panel over the board, or as its own page (the "View task" email link).

import { all, del, get, patch, post, upload } from './api.js';
import { errorBox, errorText, field, fmtDate, h, mount, toast } from './dom.js';
import { onLeave } from './router.js';

const STATUS = [['TODO', 'To do'], ['IN_PROGRESS', 'In progress'], ['DONE', 'Done']];
const PRIORITY = ['LOW', 'MEDIUM', 'HIGH'];

let panel = null;

/** Opens the task in a dialog beside the board; `onChange(task)` hears every saved change. */
export async function openTaskPanel(taskId, { onChange } = {}) {
  closePanel();
  const body = h('div', { class: 'panel-body' }, h('p', { class: 'muted' }, 'Loading…'));
  const opener = document.activeElement;
  panel = h('aside', { class: 'panel', role: 'dialog', 'aria-modal': 'true', 'aria-label': 'Task' },
    h('button', { class: 'icon close', type: 'button', 'aria-label': 'Close', onclick: closePanel }, '×'),
    body);
  panel.addEventListener('keydown', (e) => { if (e.key === 'Escape') closePanel(); });
  panel.opener = opener;
  document.body.appendChild(panel);
  try {
    await drawTask(body, taskId, onChange || (() => {}));
  } catch (err) {
    mount(body, errorBox(err));
  }
  const first = panel && panel.querySelector('input, textarea, select, button');
  if (first) first.focus();
}

export function closePanel() {
  if (!panel) return;
  const opener = panel.opener;
  panel.remove();
  panel = null;
  if (opener && opener.isConnected) opener.focus();
}

async function drawTask(root, taskId, onChange) {
  const base = `/v1/tasks/${encodeURIComponent(taskId)}`;
  let task = await get(base);
  const [comments, attachments, members, activity] = await Promise.all([
    all(`${base}/comments`),
    all(`${base}/attachments`).catch(() => []),
    all(`/v1/projects/${encodeURIComponent(task.project_id)}/members`).catch(() => []),
    all(`${base}/activity`).catch(() => []),
  ]);
  const names = new Map(members.map((m) => [m.user_id, m.name || m.email]));

  const save = async (changes) => {
    try {
      task = await patch(base, { ...changes, version: task.version });
      onChange(task);
      toast('Saved');
    } catch (err) {
      toast(errorText(err), 'error');
      if (err.status === 409) { task = await get(base); onChange(task); }
    }
  };

  const title = h('input', { type: 'text', value: task.title, maxlength: 500, class: 'task-title', onchange: (e) => save({ title: e.target.value }) });
  const description = h('textarea', { rows: 5, maxlength: 20000, onchange: (e) => save({ description: e.target.value || null }) });
  description.value = task.description || '';
  const status = h('select', { onchange: (e) => save({ status: e.target.value }) },
    STATUS.map(([v, l]) => h('option', { value: v, selected: v === task.status }, l)));
  const priority = h('select', { onchange: (e) => save({ priority: e.target.value }) },
    PRIORITY.map((p) => h('option', { value: p, selected: p === task.priority }, p)));
  const assignee = h('select', { onchange: (e) => save({ assignee_id: e.target.value || null }) },
    h('option', { value: '' }, 'Nobody'),
    members.map((m) => h('option', { value: m.user_id, selected: m.user_id === task.assignee_id }, names.get(m.user_id))));
  const due = h('input', {
    type: 'date',
    value: task.due_date ? task.due_date.slice(0, 10) : '',
    onchange: (e) => save({ due_date: e.target.value ? new Date(`${e.target.value}T17:00:00Z`).toISOString() : null }),
  });

  const commentList = h('ol', { class: 'comments' }, comments.map((c) => commentItem(c)));
  const newComment = h('textarea', { rows: 3, maxlength: 10000, required: true, 'aria-label': 'New comment' });
  const commentStatus = h('div');

  const fileList = h('ul', { class: 'files' }, attachments.map(fileItem));
  const fileInput = h('input', { type: 'file', 'aria-label': 'Attach a file' });
  const bar = h('progress', { max: 1, value: 0, hidden: true, 'aria-label': 'Upload progress' });

  mount(root,
    field('Title', title),
    h('div', { class: 'grid2' }, field('Status', status), field('Priority', priority), field('Assignee', assignee), field('Due date', due)),
    field('Description', description),
    h('h3', {}, 'Comments'),
    commentList,
    h('form', {
      onsubmit: async (e) => {
        e.preventDefault();
        try {
          const c = await post(`${base}/comments`, { content: newComment.value });
          commentList.appendChild(commentItem(c));
          newComment.value = '';
          mount(commentStatus);
        } catch (err) { mount(commentStatus, errorBox(err)); }
      },
    }, newComment, commentStatus, h('button', { type: 'submit' }, 'Comment')),
    h('h3', {}, 'Attachments'),
    fileList,
    h('div', { class: 'upload' }, fileInput, bar),
    h('h3', {}, 'Activity'),
    h('ol', { class: 'activity muted' }, activity.slice(-30).reverse()
      .map((a) => h('li', {}, `${fmtDate(a.created_at, true)} · ${a.kind}${a.actor_id && names.get(a.actor_id) ? ` by ${names.get(a.actor_id)}` : ''}`))),
    h('p', {}, h('button', {
      class: 'danger',
      onclick: async () => {
        if (!confirm('Delete this task?')) return;
        try { await del(base); onChange({ id: task.id, deleted: true }); closePanel(); } catch (err) { toast(errorText(err), 'error'); }
      },
    }, 'Delete task')));

  fileInput.addEventListener('change', async () => {
    const file = fileInput.files[0];
    if (!file) return;
    bar.hidden = false;
    try {
      const a = await upload(`${base}/attachments`, file, (p) => { bar.value = p; });
      fileList.appendChild(fileItem(a));
      toast('Uploaded');
    } catch (err) {
      toast(errorText(err), 'error');
    } finally {
      bar.hidden = true;
      bar.value = 0;
      fileInput.value = '';
    }
  });

  function commentItem(c) {
    return h('li', {}, h('div', { class: 'muted' }, `${(c.author && c.author.name) || 'Someone'} · ${fmtDate(c.created_at, true)}`), h('p', { class: 'pre' }, c.content));
  }
}

function fileItem(a) {
  return h('li', {}, h('a', { href: `/v1/attachments/${encodeURIComponent(a.id)}/download`, download: a.filename }, a.filename),
    h('span', { class: 'muted' }, ` ${Math.ceil(a.size_bytes / 1024)} KB`));
}

async function taskPage({ root, params }) {
  const body = h('section', { class: 'page narrow-wide' });
  mount(root, body);
  try {
    const task = await get(`/v1/tasks/${encodeURIComponent(params.id)}`);
    document.title = `${task.title} · Kanri`;
    mount(body, h('p', {}, h('a', { href: `/app/p/${encodeURIComponent(task.project_id)}` }, '← Board')), h('div'));
    await drawTask(body.lastChild, params.id, () => {});
  } catch (err) {
    mount(body, errorBox(err));
  }
  onLeave(closePanel);
}

export function register(route, { needsMember }) {
  route('/app/tasks/:id', needsMember(taskPage));
}
