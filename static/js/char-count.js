// The counter under a text input with a maximum (opiniondesk/core/forms.py renders it as a plain
// hint). Nothing here limits the input: a longer text is refused by the server, never cut.
const PAUSE_MS = 800; // screen readers hear the count once typing pauses, not at every key

function length(text) {
  // Characters as the server counts them (code points): 𠮷 is one, not two.
  return [...text].length;
}

function fill(template, values) {
  return template.replace(/\{(\w+)\}/g, (_, key) => String(values[key]));
}

function watch(input) {
  if (input.dataset.counted) return; // already watched (htmx:load also fires for the page)
  input.dataset.counted = "true";
  const limit = Number(input.dataset.limit);
  const counter = document.getElementById(`${input.id}-count`);
  if (!counter || !limit) return;
  const spoken = document.createElement("span");
  spoken.className = "visually-hidden";
  spoken.setAttribute("aria-live", "polite");
  counter.after(spoken);
  const render = () => {
    const count = length(input.value);
    const over = count - limit;
    const counting = fill(counter.dataset.counting, { count, limit });
    counter.textContent = over > 0 ? `${counting} ${fill(counter.dataset.over, { over })}` : counting;
    counter.classList.toggle("char-count-over", over > 0);
    return counter.textContent;
  };
  let timer = 0;
  input.addEventListener("input", () => {
    const message = render();
    window.clearTimeout(timer);
    timer = window.setTimeout(() => { spoken.textContent = message; }, PAUSE_MS);
  });
  render();
}

function watchIn(root) {
  root.querySelectorAll("input[data-limit], textarea[data-limit]").forEach(watch);
}

watchIn(document);
// A closed form drawn when opened (core/templatetags/lazy_forms.py) arrives through htmx.
document.addEventListener("htmx:load", (event) => watchIn(event.detail.elt));
