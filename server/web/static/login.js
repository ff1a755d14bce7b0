// The demo login page: one button per demo account; on success go where the visitor was heading.
import { postJson } from "/static/common.js";

const next = document.getElementById("login").dataset.next;
for (const button of document.querySelectorAll("button.account")) {
  button.addEventListener("click", async () => {
    const result = await postJson("/api/v1/dev/login", { login: button.dataset.login });
    if (result.ok) { location.assign(next); return; }
    const box = document.getElementById("login-error");
    box.textContent = result.error.message; box.hidden = false;
  });
}
