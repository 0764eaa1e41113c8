// The keyboard help dialog (`?`).

import {h} from './dom.js';

const KEYS = [
  ['j / k', 'Next / previous approval'],
  ['Enter', 'Open the selected approval'],
  ['a', 'Approve (opens the decision with Approve chosen)'],
  ['r', 'Reject (a reason is required)'],
  ['/', 'Search or filter'],
  ['?', 'This help'],
  ['Esc', 'Close this help'],
];

export function helpDialog() {
  let dialog = document.getElementById('help');
  if (!dialog) {
    dialog = h('dialog', {id: 'help', 'aria-labelledby': 'help-title'},
      h('h2', {id: 'help-title'}, 'Keyboard shortcuts'),
      h('dl', {class: 'keys'}, KEYS.map(([key, what]) => [h('dt', {}, h('kbd', {}, key)), h('dd', {}, what)])),
      h('p', {class: 'muted'}, 'Shortcuts are ignored while you type in a field.'),
      h('form', {method: 'dialog'}, h('button', {type: 'submit'}, 'Close')));
    document.body.append(dialog);
  }
  return dialog;
}

export function showHelp() {
  const dialog = helpDialog();
  if (!dialog.open) dialog.showModal();
}
