// 开工一件事 statistics for administrators: one query per refresh, shown as a table with the query time.
import { el, getJson, say } from "./common.js";

const form = document.getElementById("stats-filter");

async function load() {
  const params = new URLSearchParams([...new FormData(form)].filter(([, v]) => v !== ""));
  const answer = await getJson(`/api/v1/kaigong/stats?${params}`);
  const body = document.getElementById("stats-body");
  if (!answer.ok) { say(document.getElementById("stats-error"), answer.error.message); return; }
  say(document.getElementById("stats-error"), "");
  const { rows, cases, elapsed_ms: ms } = answer.body;
  document.getElementById("stats-summary").textContent = `共 ${cases} 件办件，统计用时 ${ms} 毫秒`;
  if (!rows.length) { body.replaceChildren(el("tr")); body.firstChild.append(el("td", "暂无办件", { colspan: "11" })); return; }
  const number = (v) => (v === null || v === undefined ? "—" : String(v));
  body.replaceChildren(...rows.map((r) => {
    const row = el("tr", null, { "data-item": r.item_code });
    for (const value of [r.item_name, r.dept_name, r.total, r.open, r.approved, r.refused, r.withdrawn, r.overdue_open,
      r.decided_late, number(r.mean_wd), number(r.p90_wd)]) row.append(el("td", String(value)));
    return row;
  }));
}

form.addEventListener("submit", (event) => { event.preventDefault(); load(); });
await load();
