// exchanges.js: the exchanges list. Declares and deletes through the JSON API; the table is
// drawn by the server (a Jinja fragment) and reloaded by htmx when the live stream reports a
// change to exchanges, bindings or their counters.

import { ApiError, api, pages, paths } from "./lib/api.js";
import { h, phrase, showError, showOk } from "./lib/dom.js";
import { checked, onSubmit, readKV, value } from "./lib/forms.js";
import { confirmThen, refresher } from "./lib/fragments.js";
import { t } from "./lib/i18n.js";
import { connectLive } from "./lib/live.js";
import "./lib/projector.js";
import "./lib/title.js";
import { isTopology } from "./lib/vocabulary.js";

const VHOST = document.body.dataset.vhost || "/";
const form = document.getElementById("declare-exchange");
const declareResult = document.getElementById("declare-result");
const deleteResult = document.getElementById("delete-result");
const refresh = refresher(500);
const COUNTED = new Set(["published", "routed", "unroutable"]); // the table's counter columns
const changesTable = (type) => isTopology(type) || COUNTED.has(type);

onSubmit(form, declareResult, async () => {
  const name = value(form, "name");
  if (!name.trim()) {
    throw new ApiError({
      words: () => ({
        reason: t("An exchange needs a name"),
        hint: t("The nameless one is the default exchange, which always exists."),
      }),
    });
  }
  const type = value(form, "type");
  const args = readKV(form.querySelector('fieldset[data-kv="arguments"]'));
  const alternate = value(form, "alternate-exchange").trim();
  if (alternate) args["alternate-exchange"] = alternate;
  await api("PUT", paths.exchange(VHOST, name), {
    type,
    durable: checked(form, "durable"),
    auto_delete: checked(form, "auto_delete"),
    internal: checked(form, "internal"),
    arguments: args,
  });
  showOk(declareResult, () =>
    phrase(t("Declared %(name)s (%(type)s). Next: bind a queue to it."), {
      name: h("a", { href: pages.exchange(VHOST, name), class: "entity-link" }, name),
      type,
    }),
  );
  form.elements.namedItem("name").value = "";
  refresh();
});

document.getElementById("exchanges-table").addEventListener("click", (event) => {
  const button = event.target.closest('button[data-action="delete-exchange"]');
  if (!button) return;
  const name = button.dataset.name;
  confirmThen(button, async () => {
    try {
      await api("DELETE", paths.exchange(VHOST, name));
      showOk(deleteResult, () => t("Deleted exchange %(name)s and its bindings.", { name }));
      refresh();
    } catch (error) {
      showError(deleteResult, error);
    }
  });
});

connectLive({
  onSnapshot: refresh,
  onBatch(frame) {
    if ((frame.events || []).some((e) => changesTable(e.type))) refresh();
  },
});
