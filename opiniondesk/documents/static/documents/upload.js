// Send a document with a progress bar; without JavaScript the form posts normally.
for (const form of document.querySelectorAll("form[data-upload]")) {
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const progress = form.querySelector(".upload-progress");
    const bar = progress.querySelector("progress");
    const percent = progress.querySelector(".upload-percent");
    const error = form.querySelector(".upload-error");
    const button = form.querySelector("button[type=submit]");
    const xhr = new XMLHttpRequest();
    xhr.open("POST", form.action || window.location.href);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.addEventListener("progress", (e) => {
      if (!e.lengthComputable) return;
      const value = Math.floor((e.loaded / e.total) * 100);
      bar.value = value;
      percent.textContent = `${value}%`;
    });
    xhr.addEventListener("load", () => {
      let answer = null;
      try { answer = JSON.parse(xhr.responseText); } catch { /* not JSON */ }
      if (answer && answer.ok) {
        window.location.assign(answer.redirect);
        return;
      }
      button.disabled = false;
      progress.hidden = true;
      const messages = answer && answer.errors
        ? Object.values(answer.errors).flat().map((e) => (typeof e === "string" ? e : e.message))
        : [form.dataset.failed || "Sending failed. Please try again."];
      error.textContent = messages.join(" ");
      error.hidden = false;
    });
    xhr.addEventListener("error", () => {
      button.disabled = false;
      progress.hidden = true;
      error.textContent = form.dataset.failed || "Sending failed. Please try again.";
      error.hidden = false;
    });
    error.hidden = true;
    progress.hidden = false;
    button.disabled = true;
    xhr.send(new FormData(form));
  });
}
