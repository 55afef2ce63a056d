// connections.js: keeps the server-drawn connections / channels / consumers tables current by
// asking htmx to reload them when the live stream reports clients coming, going or at work.

import { refresher } from "./lib/fragments.js";
import { connectLive } from "./lib/live.js";
import "./lib/projector.js";
import "./lib/title.js";
import { hasField, isClient, isFlow } from "./lib/vocabulary.js";

const refresh = refresher(800);
// The tables change when clients come and go, and with a message's steps on a channel (its
// unacked count and message rates).
const changesTables = (type) => isClient(type) || (isFlow(type) && hasField(type, "channel"));

connectLive({
  onSnapshot: refresh,
  onBatch(frame) {
    if ((frame.events || []).some((e) => changesTables(e.type))) refresh();
  },
});
