// One BIM model check (模型检查): the seven stages live from the check actor's websocket (the current
// one with its percent and counts), then the report: the verdict and digests, every stage with its
// rules and findings (instance, expected vs observed, message, line/column), filterable by severity,
// stage, rule code and free text, with each element's GlobalId filtering to all of its findings (the
// filters live in the page address); and the IDS completeness section when the report has one.
// Must not: decide who may see the check, or judge the model: it shows what the report says.
import { applyCheckEvent, progressText } from "/static/bim_live.js";
import { el, getJson, say } from "/static/common.js";
import { subscribe } from "/static/live.js";

const root = document.getElementById("check");
const checkId = root.dataset.checkId;
const labels = JSON.parse(root.dataset.labels);
const STAGES = labels.order;
const pageError = document.getElementById("page-error");
const overall = document.getElementById("overall");
const stageList = document.getElementById("stages");
const connection = document.getElementById("connection-state");

const STAGE_STATUS = {
  passed: "通过", failed: "未通过", blocked: "已阻断（未执行）", timeout: "超时", crashed: "异常终止", skipped: "已跳过",
  waiting: "等待", running: "进行中", done: "已完成", absent: "未执行",
};
const VERDICT_LABELS = { passed: "通过", failed: "不通过" };
const CONNECTION_LABELS = { connecting: "连接中…", open: "已连接", reconnecting: "已断开，正在重连…", denied: "无权查看" };
const FILTER_KEYS = ["severity", "stage", "rule", "q", "element"];


const severityLabel = (severity) => labels.severities[String(severity)] ?? String(severity);
const percentOf = (rate) => (rate === null || rate === undefined ? "—" : `${(rate * 100).toFixed(1)}%`);

function valueText(value) {
  if (value === null || value === undefined || value === "") return "—";
  return typeof value === "string" ? value : JSON.stringify(value);
}


// ---- Live progress ----------------------------------------------------------------------------------

let live = { status: root.dataset.status, stage: null, percent: 0, counts: {}, stages: [] };
let report = null;
let socket = null;


// Each stage's status: from the report once there is one, else from the live state.
function stageStates() {
  const states = {};
  if (report) {
    for (const s of report.stages) {
      const errors = s.results.reduce((n, r) => n + (r.counts.ERROR ?? 0), 0);
      const warnings = s.results.reduce((n, r) => n + (r.counts.WARNING ?? 0), 0);
      states[s.stage] = { status: s.status, message: s.message, errors, warnings };
    }
    for (const stage of STAGES) states[stage] ??= { status: "absent" };
    return states;
  }
  const current = STAGES.indexOf(live.stage);
  STAGES.forEach((stage, index) => {
    const ended = live.stages.find((s) => s.stage === stage);
    if (ended) states[stage] = { status: ended.status, errors: ended.errors, warnings: ended.warnings };
    else if (live.status === "running" && current >= 0 && index < current) states[stage] = { status: "done" };
    else if (live.status === "running" && index === current) states[stage] = { status: "running" };
    else states[stage] = { status: "waiting" };
  });
  return states;
}

function renderProgress() {
  const states = stageStates();
  const items = STAGES.map((stage) => {
    const state = states[stage] ?? { status: "waiting" };
    const item = el("li", undefined, { "data-stage": stage, "data-status": state.status });
    item.append(el("span", labels.stages[stage], { class: "stage-name" }));
    item.append(el("span", STAGE_STATUS[state.status] ?? state.status, { class: "badge", "data-status": state.status, "data-field": "status" }));
    if (state.status === "running") {
      const percent = Math.round(live.percent ?? 0);
      const bar = el("progress", undefined, { max: "100", "aria-label": `${labels.stages[stage]}进度` });
      bar.value = percent;
      item.append(bar, el("span", `${percent}%`, { class: "percent", "data-field": "percent" }));
      const counts = progressText(live.counts);
      if (counts) item.append(el("span", counts, { class: "hint", "data-field": "counts" }));
    }
    if (state.errors || state.warnings) {
      item.append(el("span", `错误 ${state.errors ?? 0}，警告 ${state.warnings ?? 0}`, { class: "hint", "data-field": "found" }));
    }
    if (state.message) item.append(el("span", state.message, { class: "stage-message", "data-field": "message" }));
    return item;
  });
  stageList.replaceChildren(...items);
  const status = report ? report.verdict : live.status;
  overall.dataset.status = status;
  if (report || ["passed", "failed"].includes(status)) overall.textContent = `检查完成：${VERDICT_LABELS[status]}`;
  else if (status === "error") overall.textContent = `检查未能运行：${live.message || "系统原因"}（将自动重试）`;
  else if (status === "running" && live.stage) {
    overall.textContent = `正在检查：${labels.stages[live.stage] ?? live.stage}（${Math.round(live.percent ?? 0)}%）`;
  } else if (status === "running") overall.textContent = "检查已开始…";
  else overall.textContent = "排队等待检查…";
}

function followLive() {
  document.querySelector('[data-testid="connection"]').hidden = false;
  socket = subscribe(`/ws/bim/checks/${checkId}`, {
    onSnapshot(state) {
      if (state.check_id) live = { ...live, ...state };
      renderProgress();
      if (["passed", "failed"].includes(live.status)) finished();
    },
    onEvent(event) {
      live = applyCheckEvent(live, event);
      renderProgress();
      if (event.type === "check.finished") finished();
    },
    onState(state) { connection.textContent = CONNECTION_LABELS[state] ?? state; connection.dataset.state = state; },
  });
}

async function finished() {
  if (socket) { socket.close(); socket = null; document.querySelector('[data-testid="connection"]').hidden = true; }
  if (!report) await loadReport();
}

// ---- Report -----------------------------------------------------------------------------------------

async function loadReport() {
  let response;
  try {
    response = await fetch(`/api/v1/bim/checks/${checkId}/report`, { credentials: "same-origin" });
  } catch {
    say(pageError, "网络连接失败，无法读取检查报告，请刷新页面重试");
    return;
  }
  if (!response.ok) {
    const body = await response.json().catch(() => null);
    say(pageError, body?.error?.message ?? `无法读取检查报告（${response.status}）`);
    return;
  }
  report = await response.json();
  report.sm3 = response.headers.get("X-Report-SM3") ?? live.report_sm3 ?? "";
  renderProgress();
  renderSummary();
  renderReport();
  renderIds();
  applyFilters();
}

function renderSummary() {
  const panel = document.getElementById("summary-panel");
  const verdict = document.getElementById("verdict");
  verdict.textContent = `结论：${VERDICT_LABELS[report.verdict]}`;
  verdict.dataset.verdict = report.verdict;
  const fields = {
    ...Object.fromEntries(Object.entries(report.counts).map(([k, v]) => [k, String(v)])),
    model_schema: report.model_schema ?? "—",
    model_sm3: report.model_sm3 ?? "—（文件未能读取）",
    content_sm3: report.rule_set?.content_sm3 ?? "—",
    report_sm3: report.sm3 || "—",
  };
  for (const [key, value] of Object.entries(fields)) {
    const field = panel.querySelector(`[data-field="${key}"]`);
    if (field) field.textContent = value;
  }
  panel.hidden = false;
}

function instanceCell(instance) {
  const cell = el("td", undefined, { "data-field": "instance" });
  if (!instance) { cell.textContent = "—"; return cell; }
  const head = [instance.step_id ? `#${instance.step_id}` : null, instance.ifc_class].filter(Boolean).join(" ");
  if (head) cell.append(el("span", head, { class: "step" }));
  if (instance.global_id) {
    const button = el("button", instance.global_id, {
      type: "button", class: "link global-id", "data-global-id": instance.global_id,
      "aria-label": `只看构件 ${instance.global_id} 的全部结果`,
    });
    button.addEventListener("click", () => setFilters({ ...readFilters(), element: instance.global_id }));
    cell.append(button);
  }
  if (instance.name) cell.append(el("span", instance.name, { class: "element-name" }));
  return cell;
}

function countsText(counts) {
  const order = ["ERROR", "WARNING", "PASSED", "EXECUTED", "NOT_APPLICABLE"];
  const parts = order.filter((name) => counts[name]).map((name) => `${severityLabel(labels.severity_names[name])} ${counts[name]} 条`);
  return parts.length ? parts.join("，") : "不适用：本规则不适用于该模型";
}

function findingRow(outcome) {
  const instance = outcome.instance ?? {};
  const row = el("tr", undefined, { class: "finding", "data-severity": String(outcome.severity), "data-global-id": instance.global_id ?? "" });
  row.dataset.text = [instance.global_id, instance.name, instance.ifc_class, instance.step_id ? `#${instance.step_id}` : "", outcome.message, outcome.rule]
    .filter(Boolean).join("\n").toLowerCase();
  const severity = el("td", undefined, { "data-field": "severity" });
  severity.append(el("span", severityLabel(outcome.severity), { class: "badge", "data-severity": String(outcome.severity) }));
  const location = outcome.location ? `第 ${outcome.location.line} 行，第 ${outcome.location.column} 列` : "—";
  row.append(severity, instanceCell(outcome.instance), el("td", outcome.message, { "data-field": "message" }),
    el("td", valueText(outcome.expected), { "data-field": "expected" }), el("td", valueText(outcome.observed), { "data-field": "observed" }),
    el("td", location, { "data-field": "location" }));
  return row;
}

function ruleArticle(stage, result) {
  const article = el("article", undefined, { class: "rule", "data-rule": result.rule, "data-stage": stage, "data-severity": String(result.severity) });
  const heading = el("h4");
  heading.append(el("code", result.rule), el("span", ` 第 ${result.version} 版 `, { class: "hint" }), el("span", result.title), " ");
  heading.append(el("span", severityLabel(result.severity), { class: "badge", "data-severity": String(result.severity), "data-field": "severity" }));
  article.append(heading, el("p", countsText(result.counts), { class: "counts", "data-field": "counts" }));
  if (result.outcomes.length) {
    const wrap = el("div", undefined, { class: "table-scroll" });
    const table = el("table", undefined, { class: "list findings" });
    const head = el("tr");
    for (const title of ["结果", "构件（#STEP 编号 类别 GlobalId 名称）", "说明", "期望", "实际", "位置"]) head.append(el("th", title));
    const thead = el("thead");
    thead.append(head);
    const tbody = el("tbody");
    for (const outcome of result.outcomes) tbody.append(findingRow(outcome));
    table.append(thead, tbody);
    wrap.append(table);
    article.append(wrap);
  }
  if (result.omitted) article.append(el("p", `另有 ${result.omitted} 条未列出`, { class: "omitted", "data-field": "omitted" }));
  return article;
}

function renderReport() {
  const container = document.getElementById("stage-reports");
  const form = document.getElementById("filters");
  const stageSelect = form.elements.stage;
  const ruleSelect = form.elements.rule;
  const rules = new Map();
  const sections = report.stages.map((stage) => {
    const section = el("section", undefined, { class: "stage-report", "data-stage": stage.stage, "data-status": stage.status });
    const heading = el("h3", `${labels.stages[stage.stage] ?? stage.stage} `);
    heading.append(el("span", STAGE_STATUS[stage.status] ?? stage.status, { class: "badge", "data-status": stage.status, "data-field": "status" }));
    section.append(heading);
    if (stage.message) section.append(el("p", stage.message, { class: "stage-message", "data-field": "message" }));
    if (!stage.results.length && !stage.message) section.append(el("p", "本阶段没有规则结果", { class: "hint" }));
    for (const result of stage.results) {
      section.append(ruleArticle(stage.stage, result));
      if (!rules.has(result.rule)) rules.set(result.rule, result.title);
    }
    stageSelect.append(el("option", labels.stages[stage.stage] ?? stage.stage, { value: stage.stage }));
    return section;
  });
  for (const [code, title] of [...rules].sort(([a], [b]) => a.localeCompare(b))) {
    ruleSelect.append(el("option", `${code} ${title}`, { value: code }));
  }
  container.replaceChildren(...sections);
  document.getElementById("report-panel").hidden = false;
}

// ---- IDS completeness -------------------------------------------------------------------------------

function idsData() {
  const stage = report.stages.find((s) => s.stage === "ids");
  const data = stage?.data ?? {};
  for (const candidate of [data, data.completeness, data.report]) {
    if (candidate && candidate.rates && Array.isArray(candidate.fill_in)) return { ids: candidate, data };
  }
  return null;
}

function table(headers, rows, attrs = {}) {
  const wrap = el("div", undefined, { class: "table-scroll" });
  const t = el("table", undefined, { class: "list", ...attrs });
  const head = el("tr");
  for (const h of headers) head.append(el("th", h));
  const thead = el("thead");
  thead.append(head);
  const tbody = el("tbody");
  for (const r of rows) tbody.append(r);
  t.append(thead, tbody);
  wrap.append(t);
  return wrap;
}

function rateRow(group, rate) {
  const row = el("tr", undefined, { "data-group": group, "data-key": rate.key });
  row.append(el("td", group), el("td", rate.key), el("td", String(rate.applicable_pairs)), el("td", String(rate.satisfied_pairs)),
    el("td", percentOf(rate.pair_rate), { "data-field": "pair-rate" }), el("td", String(rate.applicable_elements)),
    el("td", String(rate.complete_elements)), el("td", percentOf(rate.element_rate), { "data-field": "element-rate" }));
  return row;
}

function exportsAvailable(data, ids) {
  const exports = data.exports ?? ids.exports;
  if (!exports) return [];
  const kinds = Array.isArray(exports) ? exports : Object.keys(exports).filter((k) => exports[k]);
  return ["xlsx", "bcf"].filter((kind) => kinds.includes(kind));
}

function renderIds() {
  const found = idsData();
  if (!found) return;
  const { ids, data } = found;
  const box = document.getElementById("ids-report");
  const parts = [];
  parts.push(el("p", `数据项清单：${ids.ids_title || "—"}；结论：${ids.status === "passed" ? "全部满足" : "存在缺项"}；总体完整率（构件）${percentOf(ids.rates.overall.element_rate)}，（构件×要求）${percentOf(ids.rates.overall.pair_rate)}`, { "data-testid": "ids-overall" }));
  const kinds = exportsAvailable(data, ids);
  if (kinds.length) {
    const links = el("p", "导出：", { class: "exports" });
    const names = { xlsx: "填报清单（Excel）", bcf: "问题（BCF）" };
    for (const kind of kinds) links.append(el("a", names[kind], { href: `/api/v1/bim/checks/${checkId}/ids.${kind}`, download: "" }), " ");
    parts.push(links);
  }
  parts.push(el("h3", "完整率"));
  const rates = [rateRow("总体", ids.rates.overall)];
  for (const [group, list] of [["规范", ids.rates.by_specification], ["类别", ids.rates.by_class], ["楼层", ids.rates.by_storey]]) {
    for (const rate of list ?? []) rates.push(rateRow(group, rate));
  }
  parts.push(table(["分组", "名称", "适用（构件×要求）", "满足", "完整率", "适用构件", "完整构件", "构件完整率"], rates, { "data-testid": "ids-rates" }));
  if (ids.rate_definitions) {
    const defs = el("ul", undefined, { class: "hint" });
    for (const text of Object.values(ids.rate_definitions)) defs.append(el("li", text));
    parts.push(defs);
  }
  parts.push(el("h3", "规范"));
  const specs = (ids.specifications ?? []).map((spec) => {
    const row = el("tr", undefined, { "data-spec": String(spec.index) });
    const reqs = el("ul", undefined, { class: "requirements" });
    for (const r of spec.requirements ?? []) reqs.append(el("li", `${r.label}：${r.expected}（满足 ${r.passed}，不满足 ${r.failed}）`));
    const cell = el("td");
    cell.append(reqs);
    row.append(el("td", spec.name), el("td", spec.status === "passed" ? "满足" : "不满足"), el("td", spec.message), cell);
    return row;
  });
  parts.push(table(["规范", "结论", "说明", "要求"], specs, { "data-testid": "ids-specifications" }));
  parts.push(el("h3", `待填报清单（${ids.fill_in.length} 项）`));
  const fill = ids.fill_in.map((item) => {
    const row = el("tr", undefined, { class: "fill-in", "data-global-id": item.global_id });
    row.dataset.text = [item.global_id, item.name, item.ifc_class, item.missing_item, item.reason].join("\n").toLowerCase();
    row.append(instanceCell({ global_id: item.global_id, ifc_class: item.ifc_class, name: item.name, step_id: item.step_id }),
      el("td", item.storey), el("td", item.missing_item), el("td", item.expected), el("td", item.observed || "—"),
      el("td", item.reason), el("td", item.specification));
    return row;
  });
  parts.push(table(["构件", "楼层", "缺少的数据项", "要求", "实际", "原因", "规范"], fill, { "data-testid": "ids-fill-in" }));
  box.replaceChildren(...parts);
  document.getElementById("ids-panel").hidden = false;
}

// ---- Filters (kept in the address) ------------------------------------------------------------------

const filterForm = document.getElementById("filters");

function readFilters() {
  const params = new URLSearchParams(location.search);
  return Object.fromEntries(FILTER_KEYS.map((key) => [key, params.get(key) ?? ""]));
}

function setFilters(filters) {
  const params = new URLSearchParams();
  for (const key of FILTER_KEYS) if (filters[key]) params.set(key, filters[key]);
  const search = params.toString() ? `?${params}` : "";
  history.replaceState(null, "", `${location.pathname}${search}`);
  applyFilters();
}

function matchesSeverity(filter, severity) {
  if (!filter) return true;
  if (filter.endsWith("+")) return severity >= Number(filter.slice(0, -1));
  return severity === Number(filter);
}

function applyFilters() {
  if (!report) return;
  const f = readFilters();
  for (const key of ["severity", "stage", "rule", "q"]) {
    if (filterForm.elements[key].value !== f[key]) filterForm.elements[key].value = f[key];
  }
  const text = f.q.trim().toLowerCase();
  const any = FILTER_KEYS.some((key) => f[key]);
  let shown = 0;
  let total = 0;
  for (const section of document.querySelectorAll("#stage-reports .stage-report")) {
    let visibleRules = 0;
    const stageOk = !f.stage || section.dataset.stage === f.stage;
    for (const article of section.querySelectorAll("article.rule")) {
      const ruleOk = stageOk && (!f.rule || article.dataset.rule === f.rule);
      let visibleRows = 0;
      const rows = article.querySelectorAll("tr.finding");
      for (const row of rows) {
        total += 1;
        const ok = ruleOk && matchesSeverity(f.severity, Number(row.dataset.severity))
          && (!text || row.dataset.text.includes(text)) && (!f.element || row.dataset.globalId === f.element);
        row.hidden = !ok;
        if (ok) { visibleRows += 1; shown += 1; }
      }
      const noRowFilter = !f.severity && !text && !f.element;
      article.hidden = !(ruleOk && (visibleRows > 0 || noRowFilter));
      if (!article.hidden) visibleRules += 1;
    }
    section.hidden = !stageOk || (any && !f.stage && visibleRules === 0);
  }
  for (const row of document.querySelectorAll("#ids-report tr.fill-in")) {
    row.hidden = !((!text || row.dataset.text.includes(text)) && (!f.element || row.dataset.globalId === f.element));
  }
  const elementBox = document.getElementById("element-filter");
  elementBox.hidden = !f.element;
  elementBox.querySelector("span").textContent = f.element ? `只显示构件 ${f.element} 的结果` : "";
  const summary = document.getElementById("filter-summary");
  summary.textContent = any ? `显示 ${shown} 条结果（共 ${total} 条）` : `共 ${total} 条结果`;
}

filterForm.addEventListener("submit", (event) => event.preventDefault());
filterForm.addEventListener("input", () => {
  const f = readFilters();
  for (const key of ["severity", "stage", "rule", "q"]) f[key] = filterForm.elements[key].value;
  setFilters(f);
});
document.getElementById("clear-filters").addEventListener("click", () => setFilters({}));
document.getElementById("clear-element").addEventListener("click", () => setFilters({ ...readFilters(), element: "" }));

// ---- Start ------------------------------------------------------------------------------------------

const answer = await getJson(`/api/v1/bim/checks/${checkId}`);
if (!answer.ok) {
  say(pageError, answer.error.message);
} else {
  const check = answer.body;
  live = { ...live, status: check.live?.status ?? check.status, ...(check.live ?? {}) };
  renderProgress();
  if (["passed", "failed"].includes(check.status)) await loadReport();
  else followLive();
}
