// Desktop notifications for new pending approvals, when the person has
// allowed them and the console is not in front (the queue shows them then).

const KEY = 'assent.notifications';

export function supported() {
  return 'Notification' in window;
}

export function enabled() {
  return supported() && Notification.permission === 'granted' && localStorage.getItem(KEY) === 'on';
}

/** Asks for permission if needed; returns whether notifications are now on. */
export async function toggle() {
  if (!supported()) return false;
  if (enabled()) {
    localStorage.setItem(KEY, 'off');
    return false;
  }
  const permission = Notification.permission === 'default'
    ? await Notification.requestPermission()
    : Notification.permission;
  localStorage.setItem(KEY, permission === 'granted' ? 'on' : 'off');
  return enabled();
}

export function announce(approval) {
  if (!enabled() || document.visibilityState === 'visible') return;
  const note = new Notification(`Approval requested: ${approval.action}`, {
    body: `${approval.requester}: ${approval.summary || 'no summary'}`,
    tag: approval.id,
    icon: '/console/icon.svg',
  });
  note.addEventListener('click', () => {
    window.focus();
    location.hash = `#/approvals/${approval.id}`;
    note.close();
  });
}
