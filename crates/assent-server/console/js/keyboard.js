// Single-key shortcuts. Keys typed into a field, or pressed with Ctrl, Alt
// or Meta, are left alone; so is Enter on a control that has its own.

const TYPING = 'input, textarea, select, [contenteditable=""], [contenteditable="true"]';
const OWN_ENTER = 'a, button, summary, input, textarea, select';

export class KeyboardHandler {
  constructor(target = document) {
    this.global = new Map();
    this.view = new Map();
    target.addEventListener('keydown', (event) => this.handle(event));
  }

  /** A shortcut that works on every screen. */
  on(key, action) {
    this.global.set(key, action);
  }

  /** A shortcut of the current screen; cleared when the screen changes. */
  onView(key, action) {
    this.view.set(key, action);
  }

  clearView() {
    this.view.clear();
  }

  handle(event) {
    if (event.defaultPrevented || event.ctrlKey || event.altKey || event.metaKey || event.isComposing) return;
    const target = event.target instanceof Element ? event.target : null;
    if (target?.closest(TYPING) || target?.closest('dialog[open]')) return;
    if (event.key === 'Enter' && target?.closest(OWN_ENTER)) return;
    const action = this.view.get(event.key) ?? this.global.get(event.key);
    if (!action) return;
    event.preventDefault();
    action(event);
  }
}
