// fragments.js: server-drawn fragments (htmx) kept fresh from the live stream, and the
// two-click "Delete" → "Really delete?" that holds a fragment still while it waits.

import { t, translateTree } from "./i18n.js";

// What a destructive button asks, by its data-confirm.
const QUESTIONS = {
  delete: () => t("Really delete?"),
  purge: () => t("Really purge?"),
  unbind: () => t("Really unbind?"),
};
const labels = new WeakMap(); // a button waiting for its second click → its own label

const question = (button) => (QUESTIONS[button.dataset.confirm] || QUESTIONS.delete)();

function restore(button) {
  delete button.dataset.confirming;
  button.replaceChildren(...(labels.get(button) || []));
  translateTree(button); // its label, in the language of now
}

/** A destructive button (data-confirm="delete", "purge" or "unbind") asks twice, in place (no
 * native dialog): "Delete" → "Really delete?". While it waits for the second click, htmx does
 * not swap the fragment that holds it. */
export function confirmThen(button, action) {
  if (button.dataset.confirming === "yes") {
    restore(button);
    refreshIfHeld();
    return action();
  }
  labels.set(button, [...button.childNodes]);
  button.dataset.confirming = "yes";
  button.textContent = question(button);
  setTimeout(() => {
    if (button.dataset.confirming === "yes") {
      restore(button);
      refreshIfHeld();
    }
  }, 4000);
  return undefined;
}

document.addEventListener("ql-language", () => {
  for (const button of document.querySelectorAll('button[data-confirming="yes"]')) button.textContent = question(button);
});

// A page whose queue or exchange was deleted sets <body data-gone>: its fragments would 404.
document.addEventListener("htmx:confirm", (event) => {
  if (document.body.dataset.gone === "yes") event.preventDefault();
});

let heldSwap = false;
document.addEventListener("htmx:beforeSwap", (event) => {
  const target = event.detail?.target;
  if (target?.querySelector?.('[data-confirming="yes"]')) {
    event.detail.shouldSwap = false;
    heldSwap = true;
  }
});
function refreshIfHeld() {
  if (!heldSwap) return;
  heldSwap = false;
  document.body.dispatchEvent(new CustomEvent("ql-refresh"));
}

/** Ask htmx to reload every `hx-trigger="ql-refresh from:body"` fragment: at once, then at
 * most every `ms`, and always once more after the last request, so the end state shows. */
export function refresher(ms = 400) {
  let timer = null;
  let pending = false;
  const fire = () => {
    if (document.querySelector('[data-confirming="yes"]')) {
      // Someone is halfway through "Delete" → "Really delete?": keep that button.
      pending = true;
      return;
    }
    document.body.dispatchEvent(new CustomEvent("ql-refresh"));
  };
  const cool = () => {
    timer = null;
    if (pending) {
      pending = false;
      fire();
      timer = setTimeout(cool, ms);
    }
  };
  return function refresh() {
    if (timer) {
      pending = true;
      return;
    }
    fire();
    timer = setTimeout(cool, ms);
  };
}
