// A "table" section: an HTML table bound to the section's Y.Array of Y.Map (one map per row).
// Rows are matched to their Y.Map, so a remote insert or delete never rebuilds (or blurs) the row
// being typed in.
import * as Y from "yjs";
import { h } from "./api.js";
import { LOCAL } from "./fields.js";
import { fieldLabel, inputFor, readInput, writeInput } from "./values.js";

let rowSeq = 0;

export function tableSection(section, { ydoc, editable }) {
  const yarray = ydoc.getArray(section.key);
  const columns = section.columns ?? [];
  const rows = new Map(); // Y.Map -> { tr, inputs: Map(key -> input), cells: Map(key -> td) }
  const tbody = h("tbody");
  const empty = h("p", { class: "hint" }, "暂无数据。");
  const add = h("button", { type: "button", class: "secondary", "data-action": "add-row" }, "添加一行");
  add.disabled = !editable;
  add.addEventListener("click", () => {
    if (section.max_rows != null && yarray.length >= section.max_rows) return;
    ydoc.transact(() => yarray.push([new Y.Map()]), LOCAL);
  });

  const makeRow = (ymap) => {
    const n = ++rowSeq;
    const inputs = new Map(), cells = new Map();
    const number = h("th", { scope: "row", class: "row-number" });
    const remove = h("button", { type: "button", class: "link danger-link", "data-action": "delete-row" }, "删除");
    remove.disabled = !editable;
    remove.addEventListener("click", () => {
      const index = yarray.toArray().indexOf(ymap);
      if (index >= 0) ydoc.transact(() => yarray.delete(index, 1), LOCAL);
    });
    const tr = h("tr", {}, number);
    for (const column of columns) {
      const input = inputFor(column, `t-${section.key}-${n}-${column.key}`);
      input.disabled = !editable;
      input.addEventListener("input", () => push(ymap, column, input));
      input.addEventListener("change", () => push(ymap, column, input));
      writeInput(input, ymap.get(column.key));
      const td = h("td", { dataset: { key: column.key } }, input,
        h("p", { class: "field-error", id: `${input.id}-error`, hidden: true }));
      inputs.set(column.key, input);
      cells.set(column.key, td);
      tr.append(td);
    }
    tr.append(h("td", { class: "actions" }, remove));
    return { tr, number, inputs, cells };
  };

  const push = (ymap, column, input) => {
    const value = readInput(column, input);
    if (value === ymap.get(column.key) && (value !== undefined || !ymap.has(column.key))) return;
    ydoc.transact(() => {
      if (value === undefined) ymap.delete(column.key);
      else ymap.set(column.key, value);
    }, LOCAL);
  };

  const reconcile = () => {
    const current = yarray.toArray().filter((item) => item instanceof Y.Map);
    const alive = new Set(current);
    for (const [ymap, row] of rows) {
      if (!alive.has(ymap)) {
        row.tr.remove();
        rows.delete(ymap);
      }
    }
    current.forEach((ymap, i) => {
      let row = rows.get(ymap);
      if (!row) rows.set(ymap, (row = makeRow(ymap)));
      if (tbody.children[i] !== row.tr) tbody.insertBefore(row.tr, tbody.children[i] ?? null);
      row.number.textContent = String(i + 1);
      for (const [key, input] of row.inputs) input.setAttribute("aria-label", `${fieldLabel(columns.find((c) => c.key === key))}（第 ${i + 1} 行）`);
    });
    empty.hidden = current.length > 0;
    add.disabled = !editable || (section.max_rows != null && current.length >= section.max_rows);
    for (const row of rows.values()) {
      row.tr.querySelector('[data-action="delete-row"]').disabled =
        !editable || (section.min_rows != null && current.length <= section.min_rows);
    }
  };

  yarray.observeDeep((events) => {
    let structural = false;
    for (const event of events) {
      if (event.target === yarray) {
        structural = true;
        continue;
      }
      if (event.transaction.origin === LOCAL) continue;
      const row = rows.get(event.target);
      if (!row) continue;
      for (const key of event.keysChanged) {
        const input = row.inputs.get(key);
        if (input) writeInput(input, event.target.get(key));
      }
    }
    if (structural) reconcile();
  });
  reconcile();

  const head = h("tr", {}, h("th", { scope: "col" }, "序号"),
    columns.map((c) => h("th", { scope: "col" }, fieldLabel(c), c.required ? h("span", { class: "required", title: "必填" }, " *") : null)),
    h("th", { scope: "col" }, "操作"));
  const body = h("div", { class: "doc-table" },
    h("div", { class: "table-scroll" }, h("table", { class: "list doc-grid" }, h("thead", {}, head), tbody)),
    empty, h("p", { class: "field-error", hidden: true, "data-section-error": "" }), h("div", { class: "doc-table-actions" }, add));
  return {
    body,
    // "[2].area" -> that row's cell; "" -> the table
    locate: (rest) => {
      const m = /^\[(\d+)\](?:\.(\w+))?/.exec(rest);
      if (!m) return null;
      const ymap = yarray.get(Number(m[1]));
      const row = ymap && rows.get(ymap);
      if (!row) return null;
      return (m[2] && row.cells.get(m[2])) || row.tr;
    },
  };
}
