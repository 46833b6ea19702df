// Small progressive enhancements; every page works without them.
"use strict";
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const field = document.getElementById(button.dataset.copy);
  if (field && navigator.clipboard) {
    navigator.clipboard.writeText(field.value).then(() => { button.textContent = "Copied"; });
  }
});

// Choosing an instance opens it (the Open button does the same without script).
document.addEventListener("change", (event) => {
  if (event.target.matches("select[data-autosubmit]")) event.target.form.requestSubmit();
});

// The allowed ticket types matter only when not all types are used.
function showAllowedTypes() {
  const all = document.getElementById("use_all_ticket_types");
  const allowed = document.getElementById("allowed-types");
  if (all && allowed) allowed.hidden = all.checked;
}
document.addEventListener("change", (event) => {
  if (event.target.id === "use_all_ticket_types") showAllowedTypes();
});
document.addEventListener("DOMContentLoaded", showAllowedTypes);

// A ticket's Jira box, actions and History are read again every few seconds, so a link turning
// Linked or a comment arriving from Jira shows without a reload.
const LIVE_EVERY_MS = 2000;
function followLive(region) {
  const refresh = async () => {
    try {
      const response = await fetch(region.dataset.live, { credentials: "same-origin" });
      const version = response.headers.get("X-Version");
      if (response.ok && response.headers.get("X-Console-Fragment") === "ticket-live"
          && version !== region.dataset.version) {
        region.innerHTML = await response.text();
        region.dataset.version = version;
      }
    } catch (error) {
      // offline for a moment: the next round tries again
    }
    setTimeout(refresh, LIVE_EVERY_MS);
  };
  setTimeout(refresh, LIVE_EVERY_MS);
}
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-live]").forEach(followLive);
});
