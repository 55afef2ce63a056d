// fragments.js: server-drawn fragments (htmx) kept fresh from the live stream, and the
// two-click "Delete" → "Really delete?" that holds a fragment still while it waits.

/** A destructive button asks twice, in place (no native dialog): "Delete" → "Really delete?".
 * While it waits for the second click, htmx does not swap the fragment that holds it. */
export function confirmThen(button, action) {
  if (button.dataset.confirming === "yes") {
    delete button.dataset.confirming;
    button.textContent = button.dataset.label;
    refreshIfHeld();
    return action();
  }
  button.dataset.label = button.textContent;
  button.dataset.confirming = "yes";
  button.textContent = `Really ${button.textContent.toLowerCase()}?`;
  setTimeout(() => {
    if (button.dataset.confirming === "yes") {
      delete button.dataset.confirming;
      button.textContent = button.dataset.label;
      refreshIfHeld();
    }
  }, 4000);
  return undefined;
}

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
