// title.js: the window's title follows a language switch. A page names its title in
// <meta name="ql-title" data-i18n-content="msgid" data-i18n-args="{…}"> (the template's
// t_attr("content", …)); on `ql-language` the title is said again in the new language.

import { t } from "./i18n.js";

function retitle() {
  const meta = document.querySelector('meta[name="ql-title"]');
  const msgid = meta?.dataset.i18nContent;
  if (!msgid) return;
  let args;
  try {
    args = meta.dataset.i18nArgs ? JSON.parse(meta.dataset.i18nArgs) : undefined;
  } catch {
    args = undefined;
  }
  const title = t(msgid, args);
  meta.setAttribute("content", title);
  document.title = `${title} · QueueLab`;
}

document.addEventListener("ql-language", retitle);
