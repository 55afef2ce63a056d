// vocabulary.js: the event vocabulary, as the server puts it in every page
// (<script type="application/json" id="event-vocabulary">, from broker/vocabulary.py):
// {type: {family: "flow" | "topology" | "client" | "broker", fields: [...], problem: bool}}.
//
// Pages classify events through it instead of keeping their own lists of event names: a page
// that wants "what changes the topology" asks isTopology(type), not /^(queue\.|binding\.)/.

const element = document.getElementById("event-vocabulary");
const TABLE = Object.freeze(element ? JSON.parse(element.textContent) : {});

/** Every event type the broker records. */
export const eventTypes = () => Object.keys(TABLE);

/** "flow" (a message's way), "topology" (what is declared), "client" (who is connected),
 * "broker", or null for a type the vocabulary does not name. */
export const family = (type) => TABLE[type]?.family ?? null;

export const isFlow = (type) => family(type) === "flow";
export const isTopology = (type) => family(type) === "topology";
export const isClient = (type) => family(type) === "client";

/** A problem a student should notice: a message lost, refused or sent back, a channel closed. */
export const isProblem = (type) => TABLE[type]?.problem === true;

/** The data fields an event of this type carries. */
export const fields = (type) => TABLE[type]?.fields ?? [];
export const hasField = (type, name) => fields(type).includes(name);
