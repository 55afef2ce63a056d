// glossary.js: the glossary page has no live picture; it needs only the header's controls.
import "./lib/i18n.js";
import "./lib/projector.js";
