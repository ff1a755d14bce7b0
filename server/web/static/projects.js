// The project list page: registering a new project through the form.
import { postJson } from "/static/common.js";
const form = document.getElementById("create-project");
const box = document.getElementById("create-error");

// Name the inputs the server rejected by their Chinese labels, and mark them for assistive tech.
function showError(error) {
  const names = new Set((error.fields ?? []).map((f) => f.field));
  const labels = [];
  for (const input of form.querySelectorAll("input[name]")) {
    if (!names.has(input.name)) { input.removeAttribute("aria-invalid"); continue; }
    input.setAttribute("aria-invalid", "true");
    labels.push(input.labels[0].firstChild.textContent.trim());
  }
  box.textContent = labels.length ? `${error.message}：${labels.join("、")}` : error.message;
  box.hidden = false;
}

form?.addEventListener("submit", async (event) => {
  event.preventDefault();
  const data = Object.fromEntries(new FormData(form));
  const result = await postJson("/api/v1/projects", data);
  if (result.ok) { location.assign(`/projects/${result.body.id}`); return; }
  showError(result.error);
});
