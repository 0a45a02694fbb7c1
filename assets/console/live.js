// A project's live events over Server-Sent Events. The browser reconnects by itself and sends
// Last-Event-ID, so the server replays what was missed; when the stream closes for good (an
// error answer, or the network gone long enough) this reconnects with `?last_event_id=`.

export function projectStream(projectId, onEvent, onState) {
  let lastId = null;
  let source = null;
  let stopped = false;
  let retry = 500;
  let timer = null;

  const open = () => {
    if (stopped) return;
    const q = lastId ? `?last_event_id=${encodeURIComponent(lastId)}` : '';
    source = new EventSource(`/v1/projects/${encodeURIComponent(projectId)}/events${q}`);
    source.onopen = () => { retry = 500; if (onState) onState('live'); };
    source.onerror = () => {
      if (onState) onState('reconnecting');
      if (source.readyState === EventSource.CLOSED) schedule();
    };
    source.onmessage = handle;
    for (const kind of KINDS) source.addEventListener(kind, handle);
  };
  const handle = (e) => {
    if (e.lastEventId) lastId = e.lastEventId;
    let frame = null;
    try { frame = JSON.parse(e.data); } catch { return; }
    onEvent(e.type, frame);
  };
  const schedule = () => {
    clearTimeout(timer);
    timer = setTimeout(() => { if (source) source.close(); open(); }, retry);
    retry = Math.min(retry * 2, 10000);
  };
  const online = () => { retry = 500; schedule(); };
  window.addEventListener('online', online);
  open();
  return () => {
    stopped = true;
    clearTimeout(timer);
    window.removeEventListener('online', online);
    if (source) source.close();
  };
}

const KINDS = [
  'task.created', 'task.updated', 'task.assigned', 'task.unassigned', 'task.moved', 'task.deleted',
  'comment.created', 'comment.updated', 'comment.deleted', 'attachment.created', 'attachment.deleted',
  'project.updated', 'project.archived', 'subscribed', 'error',
];
