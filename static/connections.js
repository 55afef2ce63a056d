// connections.js: keeps the server-drawn connections / channels / consumers tables current by
// asking htmx to reload them when the live stream reports clients coming, going or settling.

import { connectLive } from "./live.js";
import { refresher } from "./ui.js";

const refresh = refresher(800);
const RELEVANT = /^(connection\.|channel\.|consumer\.|delivered$|acked$|nacked$|rejected$|requeued$|confirm$)/;

connectLive({
  onSnapshot: refresh,
  onBatch(frame) {
    if ((frame.events || []).some((e) => RELEVANT.test(e.type))) refresh();
  },
});
