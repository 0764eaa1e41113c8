// Times, durations and untrusted text, formatted for people.

const dateTime = new Intl.DateTimeFormat(undefined, {
  month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit',
});

/** Control characters and bidi overrides become visible escapes, so a
 *  summary or command cannot hide or reorder what the reviewer reads. */
export function printable(text) {
  return String(text ?? '').replace(
    /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

export function when(iso) {
  return iso ? dateTime.format(new Date(iso)) : '—';
}

/** 0.4 s, 42 s, 5 min, 1 h 30 min, 2 d 4 h. */
export function duration(seconds) {
  if (seconds > 0 && seconds < 0.1) return '< 0.1 s';
  if (seconds > 0 && seconds < 10 && !Number.isInteger(seconds)) return `${seconds.toFixed(1)} s`;
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const hours = Math.floor(m / 60);
  if (hours < 48) return m % 60 ? `${hours} h ${m % 60} min` : `${hours} h`;
  const d = Math.floor(hours / 24);
  return hours % 24 ? `${d} d ${hours % 24} h` : `${d} d`;
}

export function ago(iso, now = Date.now()) {
  const seconds = (now - Date.parse(iso)) / 1000;
  return seconds < 5 ? 'just now' : `${duration(Math.round(seconds))} ago`;
}

/** Time left until `iso`, to the second in the last hour. */
export function left(iso, now = Date.now()) {
  const seconds = Math.floor((Date.parse(iso) - now) / 1000);
  if (seconds <= 0) return 'expired';
  if (seconds < 3600) {
    const m = Math.floor(seconds / 60);
    return `${m}:${String(seconds % 60).padStart(2, '0')} left`;
  }
  return `${duration(seconds)} left`;
}

/** A <time> that keeps itself current: `mode` is 'ago' or 'left'. */
export function liveTime(iso, mode) {
  const el = document.createElement('time');
  el.dateTime = iso;
  el.dataset.clock = mode;
  el.title = when(iso);
  tick(el, Date.now());
  return el;
}

function tick(el, now) {
  const iso = el.dateTime;
  if (el.dataset.clock === 'left') {
    el.textContent = left(iso, now);
    const seconds = (Date.parse(iso) - now) / 1000;
    el.classList.toggle('soon', seconds > 0 && seconds < 300);
    el.classList.toggle('over', seconds <= 0);
  } else {
    el.textContent = ago(iso, now);
  }
}

/** One timer for every live time on the page. */
export function startClock() {
  setInterval(() => {
    const now = Date.now();
    document.querySelectorAll('time[data-clock]').forEach((el) => tick(el, now));
  }, 1000);
}

export function titleCase(word) {
  return word ? word[0].toUpperCase() + word.slice(1) : '';
}

export function plural(n, one, many = `${one}s`) {
  return `${n} ${n === 1 ? one : many}`;
}
