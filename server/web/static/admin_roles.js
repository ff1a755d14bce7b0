// The role × permission table: checking a box grants the permission to the role, unchecking revokes it.
import { requestJson, say } from "/static/common.js";

const table = document.getElementById("grants");
const status = document.getElementById("roles-status");
const errorBox = document.getElementById("roles-error");

function labels(box) {
  const column = box.closest("td").cellIndex;
  const role = box.closest("tr").querySelector("th").textContent.trim();
  const permission = table.tHead.rows[0].cells[column].firstChild.textContent.trim();
  return { role, permission };
}

table.addEventListener("change", async (event) => {
  const box = event.target.closest('input[type="checkbox"]');
  if (!box) return;
  const granted = box.checked;
  const { role, permission } = labels(box);
  box.disabled = true;
  const url = `/api/v1/admin/roles/${box.dataset.role}/permissions/${box.dataset.permission}`;
  const result = await requestJson(granted ? "PUT" : "DELETE", url);
  box.disabled = false;
  if (result.ok) {
    say(errorBox, "");
    say(status, granted ? `已授予“${role}”权限“${permission}”。` : `已收回“${role}”的权限“${permission}”。`);
  } else {
    box.checked = !granted;
    say(status, "");
    say(errorBox, result.error.message);
  }
});
