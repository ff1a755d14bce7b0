// The project list page: registering a new project through the form.
import { postJson, showFormError } from "/static/common.js";
const form = document.getElementById("create-project");
const box = document.getElementById("create-error");

form?.addEventListener("submit", async (event) => {
  event.preventDefault();
  const data = Object.fromEntries(new FormData(form));
  const result = await postJson("/api/v1/projects", data);
  if (result.ok) { location.assign(`/projects/${result.body.id}`); return; }
  showFormError(form, box, result.error);
});
