// projector.js: the header's "Projector" button: large text for a classroom, remembered in
// localStorage. Charts hear the `ql-projector` event and redraw at the new size. Every page's
// entry module imports this once.

function setupProjector() {
  const button = document.getElementById("projector-toggle");
  const apply = (on) => {
    document.documentElement.dataset.projector = on ? "on" : "off";
    button?.setAttribute("aria-pressed", on ? "true" : "false");
  };
  let on = false;
  try {
    on = localStorage.getItem("queuelab.projector") === "on";
  } catch {
    on = false;
  }
  apply(on);
  button?.addEventListener("click", () => {
    on = !on;
    apply(on);
    try {
      localStorage.setItem("queuelab.projector", on ? "on" : "off");
    } catch {
      // private mode: the toggle still works for this page
    }
    document.dispatchEvent(new CustomEvent("ql-projector", { detail: on }));
  });
}

setupProjector();
