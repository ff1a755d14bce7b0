// The user administration page: change a user's role, disable or enable them, end their sessions,
// and create a user. Every change ends the user's sessions on the server; the page says so.
import { postJson, requestJson, say, showFormError, formFields } from "/static/common.js";

const table = document.getElementById("users");
const status = document.getElementById("users-status");
const errorBox = document.getElementById("users-error");
const STATUS_LABELS = { active: "正常", disabled: "已停用" };

function report(result, text) {
  if (result.ok) { say(errorBox, ""); say(status, text); } else { say(status, ""); say(errorBox, result.error.message); }
  return result.ok;
}

const patch = (row, change) => requestJson("PATCH", `/api/v1/admin/users/${row.dataset.userId}`, change);

table.addEventListener("change", async (event) => {
  const select = event.target.closest("select.role");
  if (!select) return;
  const row = select.closest("tr");
  select.disabled = true;
  const result = await patch(row, { role: select.value });
  select.disabled = false;
  const label = select.selectedOptions[0].textContent;
  if (report(result, `已将 ${row.dataset.login} 的角色改为“${label}”，其全部登录已结束。`)) {
    select.dataset.current = select.value;
  } else {
    select.value = select.dataset.current;
  }
});

table.addEventListener("click", async (event) => {
  const button = event.target.closest("button");
  if (!button) return;
  const row = button.closest("tr");
  const login = row.dataset.login;
  button.disabled = true;
  if (button.classList.contains("toggle-status")) {
    const next = button.dataset.next;
    const result = await patch(row, { status: next });
    const text = next === "disabled" ? `已停用 ${login}，其全部登录已结束。` : `已启用 ${login}。`;
    if (report(result, text)) {
      const cell = row.querySelector("td.status");
      cell.dataset.status = next;
      cell.textContent = STATUS_LABELS[next];
      button.dataset.next = next === "disabled" ? "active" : "disabled";
      button.textContent = next === "disabled" ? "启用" : "停用";
    }
  } else if (button.classList.contains("end-sessions")) {
    const result = await postJson(`/api/v1/admin/users/${row.dataset.userId}/sessions/end`, {});
    report(result, `已强制 ${login} 下线，结束了 ${result.body?.sessions_closed ?? 0} 个登录。`);
  }
  button.disabled = false;
});

const form = document.getElementById("create-user");
const createError = document.getElementById("create-error");
form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const result = await postJson("/api/v1/admin/users", formFields(form));
  if (result.ok) { location.assign(`/admin/users?created=${result.body.id}`); return; }
  showFormError(form, createError, result.error);
});
