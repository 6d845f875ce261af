// Autosave and the unsaved-changes warning, for every <form data-autosave>.
//
// While a person types, the form is posted in the background to its own address, as it
// stands, with the header "X-Autosave: 1" (its CSRF token goes with it, like any post). The
// server keeps it as a draft without requiring it to be complete and answers 204 with
// "X-Saved-At: HH:MM" (grantflow/core/drafts.py); the page then says "Saved 18:03" in a
// live region. Leaving the page with changes not yet saved asks first (beforeunload); after
// a save, or when the form is sent, it does not. Files are never sent in the background.
// Without JavaScript nothing of this runs: the form's own buttons save.
const DELAY_MS = 1500;
const texts = document.body.dataset;

function status(form) {
  let region = form.querySelector(".gf-autosave");
  if (!region) {
    region = document.createElement("p");
    region.className = "gf-autosave";
    region.setAttribute("role", "status");
    region.setAttribute("aria-live", "polite");
    form.append(region);
  }
  return region;
}

function watch(form) {
  let changed = 0; // changes made since the page was loaded
  let saved = 0; // how many of them the server has kept
  let sending = null;
  let timer = null;
  let leaving = false;

  const dirty = () => saved < changed;

  async function save({ keepalive = false } = {}) {
    clearTimeout(timer);
    timer = null;
    if (!dirty() || leaving) return;
    if (sending) {
      await sending; // one at a time; then save what is newer
      return save({ keepalive });
    }
    const upto = changed;
    const body = new FormData(form);
    for (const input of form.querySelectorAll("input[type=file]")) body.delete(input.name);
    // The attribute, not form.action: a field named "action" (the buttons) hides the property.
    const address = new URL(form.getAttribute("action") || "", window.location.href);
    sending = fetch(address, {
      method: "POST",
      body,
      headers: { "X-Autosave": "1" },
      credentials: "same-origin",
      keepalive,
    })
      .then((response) => {
        if (!response.ok) throw new Error(String(response.status));
        saved = Math.max(saved, upto);
        const at = response.headers.get("X-Saved-At") || "";
        status(form).textContent = (texts.autosaveSaved || "Saved {time}").replace("{time}", at);
        status(form).classList.remove("gf-autosave--failed");
      })
      .catch(() => {
        status(form).textContent = texts.autosaveFailed || "Not saved";
        status(form).classList.add("gf-autosave--failed");
      })
      .finally(() => {
        sending = null;
      });
    await sending;
  }

  function typed(event) {
    if (event.target.type === "file") return;
    changed += 1;
    clearTimeout(timer);
    timer = setTimeout(save, DELAY_MS);
  }

  form.addEventListener("input", typed);
  form.addEventListener("change", typed);
  form.addEventListener("submit", (event) => {
    clearTimeout(timer);
    if (sending && !event.defaultPrevented) {
      // A background save is on its way: send the form after it, never beside it (two saves
      // at once of the same draft would refuse one as a conflict).
      event.preventDefault();
      const submitter = event.submitter;
      leaving = true;
      sending.finally(() => form.requestSubmit(submitter && submitter.form === form ? submitter : undefined));
      return;
    }
    leaving = true; // the form itself saves; no warning, no background save after it
  });
  window.addEventListener("beforeunload", (event) => {
    if (leaving || !dirty()) return;
    event.preventDefault();
    event.returnValue = ""; // older browsers need a value to ask
  });
  // A tab hidden (switched away, the phone locked) may never come back: save now.
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "hidden") save({ keepalive: true });
  });
}

export function initAutosave(root = document) {
  for (const form of root.querySelectorAll("form[data-autosave]")) watch(form);
}
