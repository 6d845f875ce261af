// Starts GOV.UK Frontend's components (the menu button on phones, character counts, the error
// summary's focus) and autosave for forms marked data-autosave (autosave.js). Loaded as a
// module, so only browsers that can run them do; every page works without it.
import { initAutosave } from "./autosave.js";
import { initAll } from "./govuk/govuk-frontend.min.js";

document.body.classList.add("govuk-frontend-supported");
initAll();
initAutosave();
