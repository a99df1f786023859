// The work queue reloads itself every minute, unless the coordinator is busy with the filters or
// the tab is hidden. The reload URL carries auto=1: the staff idle timeout does not count it as
// activity, so an unattended screen still signs out (accounts/middleware.py).
const marker = document.querySelector("[data-queue-refresh]");
const filters = document.querySelector(".queue-filters");
if (marker) {
  let touched = false;
  filters?.addEventListener("input", () => { touched = true; });
  setInterval(() => {
    const busy = touched || (filters && filters.contains(document.activeElement));
    if (document.visibilityState === "visible" && !busy) {
      window.location.replace(marker.dataset.queueRefresh);
    }
  }, 60_000);
}
