// missing.js: the "no such queue / exchange" page opens the real page as soon as it is declared.

import { connectLive } from "./lib/live.js";
import "./lib/projector.js";
import "./lib/title.js";

const meta = document.querySelector('meta[name="ql-entity"]');
const kind = meta?.content;
const name = meta?.dataset.name;

connectLive({
  onSnapshot(frame) {
    const list = kind === "queue" ? frame.snapshot.queues : frame.snapshot.exchanges;
    if ((list || []).some((item) => item.name === name)) location.reload();
  },
  onBatch(frame) {
    for (const e of frame.events || []) {
      if (e.type === `${kind}.declared` && e.name === name) {
        location.reload();
        return;
      }
    }
  },
});
