// Saves the answer as a draft in the background while the user types (and as the tab is closed), so that a long
// answer is not lost if the browser closes or the sign-in times out. Progressive enhancement: without JavaScript the
// Save buttons do the same.
// Marks: <p data-autosave-url="..." role="status" hidden> inside the answer's form, which holds the textarea
// (name="text") and the bid's version (name="version"). Each save sends the form as its Save buttons would and gets
// back the bid's new version, which the form then carries, so the user's own next save is never taken for a
// colleague's. The server applies every rule; this script only says what it answered.

const QUIET = 2000; // save once typing has paused this long (milliseconds)
const AT_LEAST_EVERY = 20000; // and while typing goes on, at least this often
const KEEPALIVE_MAX = 30000; // characters a save may carry when it has to outlive the page (browsers allow 64 kB)
const NOT_SAVED = "Draft not saved just now. Your text is still here: choose a Save button to save it.";
const SIGNED_OUT = "Draft not saved: you have been signed out. Copy your answer somewhere safe, then sign in again.";
const EXPIRED = "Draft not saved: this page has expired. Copy your answer somewhere safe, then reload the page.";

function autosave(status) {
  const form = status.closest("form");
  const box = form && form.querySelector("textarea[name='text']");
  if (!box || !form.elements.version) return;
  let saved = box.value;
  let timer = null;
  let firstUnsaved = null;
  let running = null; // the save in progress
  let stopped = false;

  // The live region is shown empty at once: screen readers announce changes only to regions already on the page.
  status.hidden = false;
  const say = (message) => {
    if (status.textContent !== message) status.textContent = message;
  };

  async function save(leaving = false) {
    clearTimeout(timer);
    timer = null;
    firstUnsaved = null;
    const text = box.value;
    if (stopped || text === saved || !text.trim()) return;
    if (running) {
      await running;
      return save(leaving);
    }
    const body = new FormData(form);
    body.set("text", text);
    running = send(body, text, leaving && text.length <= KEEPALIVE_MAX);
    try {
      await running;
    } finally {
      running = null;
    }
  }

  async function send(body, text, keepalive) {
    let answer;
    try {
      const response = await fetch(status.dataset.autosaveUrl, {
        method: "POST", body, credentials: "same-origin", headers: { Accept: "application/json" }, keepalive,
      });
      const json = (response.headers.get("Content-Type") || "").startsWith("application/json");
      // Sent to the sign-in page (the sign-in timed out), or refused without the session's form token (signed
      // out elsewhere): saving again cannot work, so stop and say what to do.
      if (response.redirected || (response.status === 400 && !json)) {
        stopped = true;
        say(response.redirected ? SIGNED_OUT : EXPIRED);
        return;
      }
      answer = await response.json();
      if (response.status === 409) stopped = true;
    } catch {
      say(NOT_SAVED);
      return;
    }
    if (answer.saved) {
      saved = text;
      form.elements.version.value = answer.version;
    }
    say(answer.message || NOT_SAVED);
  }

  box.addEventListener("input", () => {
    firstUnsaved = firstUnsaved || Date.now();
    clearTimeout(timer);
    timer = setTimeout(save, Date.now() - firstUnsaved >= AT_LEAST_EVERY ? 0 : QUIET);
  });
  box.addEventListener("blur", () => save());
  // The tab is closed or put away before the pause is over: send what was typed, in a request that outlives the page.
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "hidden") save(true);
  });

  // A Save button pressed while a draft is on its way waits for it, so that the form carries the new version.
  form.addEventListener("submit", (event) => {
    if (!running) return;
    event.preventDefault();
    const button = event.submitter;
    running.finally(() => form.requestSubmit(button));
  });
}

document.querySelectorAll("[data-autosave-url]").forEach((status) => autosave(status));
