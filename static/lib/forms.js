// forms.js: the pages' forms: submit without a page load, read typed values and key/value
// rows (headers, arguments), and say what was wrong with an input as a lesson (an ApiError).

import { ApiError } from "./api.js";
import { showError } from "./dom.js";
import { t, translateTree } from "./i18n.js";

/** Wire a form: prevent the page load, run `action(form)`, disable the button while busy. */
export function onSubmit(form, resultArea, action) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("button[type=submit]");
    if (button) button.disabled = true;
    try {
      await action(form);
    } catch (error) {
      showError(resultArea, error);
    } finally {
      if (button) button.disabled = false;
    }
  });
}

export const field = (form, name) => form.elements.namedItem(name);
export const value = (form, name) => field(form, name)?.value ?? "";
export const checked = (form, name) => Boolean(field(form, name)?.checked);

/** A number input's value, or undefined when empty; ApiError-style error when not a number.
 * `label` names the field in the error: a string, or a function that says it translated. */
export function numberValue(form, name, label = name) {
  const raw = value(form, name).trim();
  if (raw === "") return undefined;
  const number = Number(raw);
  if (!Number.isFinite(number)) {
    throw new ApiError({
      words: () => ({
        reason: t("%(field)s: '%(value)s' is not a number", { field: typeof label === "function" ? label() : label, value: raw }),
        hint: t("Use digits only."),
      }),
    });
  }
  return number;
}

/** Key/value rows (headers, arguments) as an object with typed values. */
export function readKV(fieldset) {
  const out = {};
  if (!fieldset) return out;
  for (const row of fieldset.querySelectorAll(".kv-rows .kv-row")) {
    const key = row.querySelector(".kv-key").value.trim();
    const raw = row.querySelector(".kv-value").value;
    const type = row.querySelector(".kv-type")?.value || "string";
    if (!key) continue;
    if (type === "number") {
      const number = Number(raw);
      if (raw.trim() === "" || !Number.isFinite(number)) {
        throw new ApiError({
          words: () => ({
            reason: t("%(field)s: '%(value)s' is not a number", { field: key, value: raw }),
            hint: t("Pick the type “string” for text."),
          }),
        });
      }
      out[key] = number;
    } else if (type === "boolean") {
      out[key] = ["true", "1", "yes", "on"].includes(raw.trim().toLowerCase());
    } else {
      out[key] = raw;
    }
  }
  return out;
}

export function addKVRow(fieldset, key = "", val = "", type = "string") {
  const template = fieldset.querySelector("template.kv-template");
  const row = template.content.firstElementChild.cloneNode(true);
  translateTree(row); // the template is not retranslated by a language switch; its copies are
  row.querySelector(".kv-key").value = key;
  row.querySelector(".kv-value").value = val;
  const select = row.querySelector(".kv-type");
  if (select) select.value = type;
  fieldset.querySelector(".kv-rows").append(row);
  return row;
}

document.addEventListener("click", (event) => {
  const add = event.target.closest(".kv-add");
  if (add) {
    addKVRow(add.closest("fieldset.kv")).querySelector(".kv-key").focus();
    return;
  }
  const remove = event.target.closest(".kv-remove");
  if (remove) remove.closest(".kv-row").remove();
});
