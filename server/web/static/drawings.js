// The drawings page (图纸管理): buildings, the catalogue with search and paging (the query lives in the
// page address, so paging, reloading and the back button keep it), selection for package download,
// the versions of an entry, and for the owner enterprise the catalogue forms and the upload panel
// (tus uploads through the bundle /static/files/upload.js, matched to entries by drawing number).
// Must not: decide who may read or upload; the server answers every request on its own terms.
import { el, formFields, getJson, localTime, postJson, say, showFormError } from "/static/common.js";

const root = document.getElementById("drawings");
const projectId = root.dataset.projectId;
const mayUpload = root.dataset.mayUpload === "true";
const csrfToken = document.querySelector('meta[name="csrf-token"]')?.content ?? "";
const pageError = document.getElementById("page-error");
const QUERY_KEYS = ["q", "building_id", "discipline", "kind"];
const KIND_LABELS = { construction: "施工图", as_built: "竣工图" };

const api = {
  buildings: `/api/v1/projects/${projectId}/buildings`,
  drawings: `/api/v1/projects/${projectId}/drawings`,
  drawing: (id) => `/api/v1/drawings/${id}`,
  file: (id, version) => `/api/v1/drawings/${id}/versions/${version}/file`,
  package: `/api/v1/projects/${projectId}/package`,
};


function formatSize(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  return `${(bytes / 1024 ** 3).toFixed(2)} GB`;
}

const entryLabel = (d) => `${d.building_name} · ${d.kind_label ?? KIND_LABELS[d.kind]} · ${d.number} ${d.title}`;

// ---- Buildings -------------------------------------------------------------------------------------

let buildings = [];
const buildingList = document.getElementById("building-list");

async function loadBuildings() {
  const answer = await getJson(api.buildings);
  if (!answer.ok) { say(pageError, answer.error.message); return; }
  buildings = answer.body.items;
  buildingList.replaceChildren();
  for (const b of buildings) {
    const row = el("tr", undefined, { "data-building-id": b.id });
    const box = el("input", undefined, { type: "checkbox", "aria-label": `选择单体“${b.name}”的全部图纸` });
    box.checked = selection.buildings.has(b.id);
    box.addEventListener("change", () => toggleSelection(selection.buildings, b.id, b.name, box.checked));
    const cell = el("td", undefined, { class: "select" });
    cell.append(box);
    row.append(cell, el("td", b.name), el("td", b.code || "—"), el("td", `${b.drawings} 条`));
    buildingList.append(row);
  }
  if (!buildings.length) {
    buildingList.append(el("tr", undefined, { class: "empty" }));
    buildingList.lastChild.append(el("td", mayUpload ? "尚无单体，请先新增单体" : "尚无单体", { colspan: "4" }));
  }
  for (const select of document.querySelectorAll("select.building-select")) {
    const keep = select.value;
    select.replaceChildren(select.options[0]);
    for (const b of buildings) select.append(el("option", b.code ? `${b.name}（${b.code}）` : b.name, { value: b.id }));
    select.value = keep;
  }
}

// ---- Selection and package download ----------------------------------------------------------------

const selection = { drawings: new Map(), buildings: new Map() }; // id → label, kept across pages
const summary = document.getElementById("selection-summary");
const packageLink = document.getElementById("package-link");
const clearSelection = document.getElementById("clear-selection");

function toggleSelection(set, id, label, on) {
  if (on) set.set(id, label); else set.delete(id);
  showSelection();
}

function showSelection() {
  const nd = selection.drawings.size;
  const nb = selection.buildings.size;
  if (!nd && !nb) {
    summary.textContent = "未选择图纸";
    packageLink.removeAttribute("href");
    packageLink.setAttribute("aria-disabled", "true");
    clearSelection.disabled = true;
    return;
  }
  const parts = [];
  if (nd) parts.push(`${nd} 个图纸条目`);
  if (nb) parts.push(`${nb} 个单体的全部图纸`);
  summary.textContent = `已选择 ${parts.join("、")}（打包每个条目的最新版本）`;
  const params = new URLSearchParams();
  for (const id of selection.drawings.keys()) params.append("drawing_id", id);
  for (const id of selection.buildings.keys()) params.append("building_id", id);
  packageLink.href = `${api.package}?${params}`;
  packageLink.removeAttribute("aria-disabled");
  clearSelection.disabled = false;
}

// The package is checked first (HEAD answers the limits and selection errors without building the
// zip), so a refusal is shown here in Chinese instead of the browser opening an error document.
const packageError = document.getElementById("package-error");
packageLink.addEventListener("click", async (event) => {
  if (!packageLink.hasAttribute("href")) return;
  event.preventDefault();
  say(packageError, "");
  const href = packageLink.href;
  const head = await fetch(href, { method: "HEAD", credentials: "same-origin" });
  if (head.ok) { window.location.assign(href); return; }
  const answer = await getJson(href);
  say(packageError, answer.ok ? "打包下载失败，请稍后重试" : answer.error.message);
});

clearSelection.addEventListener("click", () => {
  say(packageError, "");
  selection.drawings.clear();
  selection.buildings.clear();
  for (const box of document.querySelectorAll("#catalogue-rows input[type=checkbox], #building-list input[type=checkbox]")) {
    box.checked = false;
  }
  showSelection();
});

// ---- Catalogue: search and paging, the query in the address ---------------------------------------

const searchForm = document.getElementById("search");
const rows = document.getElementById("catalogue-rows");
const pageInfo = document.getElementById("page-info");
const prevButton = document.getElementById("prev-page");
const nextButton = document.getElementById("next-page");
let shown = { page: 1, pages: 1 };

// The catalogue query of the address: the search fields and the page number.
function addressQuery() {
  const params = new URLSearchParams(location.search);
  const query = {};
  for (const key of QUERY_KEYS) if (params.get(key)) query[key] = params.get(key);
  const page = Number.parseInt(params.get("page") ?? "1", 10);
  return { query, page: Number.isFinite(page) && page >= 1 ? page : 1 };
}

function fillSearchForm(query) {
  for (const key of QUERY_KEYS) searchForm.elements[key].value = query[key] ?? "";
}

function formQuery() {
  const query = {};
  for (const key of QUERY_KEYS) {
    const value = searchForm.elements[key].value.trim();
    if (value) query[key] = value;
  }
  return query;
}

function queryString(query, page) {
  const params = new URLSearchParams(query);
  if (page > 1) params.set("page", String(page));
  const text = params.toString();
  return text ? `?${text}` : "";
}

// Put page `page` of `query` in the address (a new history entry, so 后退 returns to the previous
// page) and show it.
async function goTo(query, page) {
  const search = queryString(query, page);
  if (search !== location.search) history.pushState(null, "", `${location.pathname}${search}`);
  await loadCatalogue();
}

let catalogueRequest = 0;
async function loadCatalogue() {
  const { query, page } = addressQuery();
  fillSearchForm(query);
  const params = new URLSearchParams(query);
  params.set("page", String(page));
  const ticket = ++catalogueRequest;
  const answer = await getJson(`${api.drawings}?${params}`);
  if (ticket !== catalogueRequest) return; // a newer request is on its way
  if (!answer.ok) {
    say(pageError, answer.error.message);
    return;
  }
  say(pageError, "");
  const body = answer.body;
  shown = { page: body.page, pages: Math.max(body.pages, 1) };
  rows.replaceChildren();
  for (const drawing of body.items) rows.append(catalogueRow(drawing));
  if (!body.items.length) {
    const empty = el("tr", undefined, { class: "empty" });
    const filtered = Object.keys(query).length > 0;
    const text = body.total ? "本页没有图纸，请返回上一页" : filtered ? "没有符合条件的图纸" : "图纸目录为空";
    empty.append(el("td", text, { colspan: "8" }));
    rows.append(empty);
  }
  pageInfo.textContent = `第 ${body.page} / ${shown.pages} 页，共 ${body.total} 条`;
  prevButton.disabled = body.page <= 1;
  nextButton.disabled = body.page >= shown.pages;
}

function catalogueRow(drawing) {
  const row = el("tr", undefined, { "data-drawing-id": drawing.id, "data-number": drawing.number });
  const box = el("input", undefined, { type: "checkbox", "aria-label": `选择 ${drawing.number} ${drawing.title}` });
  box.checked = selection.drawings.has(drawing.id);
  box.addEventListener("change", () => toggleSelection(selection.drawings, drawing.id, drawing.number, box.checked));
  const select = el("td", undefined, { class: "select" });
  select.append(box);
  const latest = el("td", undefined, { "data-field": "latest" });
  if (drawing.latest) {
    latest.append(el("span", `第${drawing.latest.version}版 `));
    latest.append(el("a", "下载", {
      href: api.file(drawing.id, drawing.latest.version),
      "aria-label": `下载 ${drawing.number} 第${drawing.latest.version}版`,
    }));
    latest.append(el("span", `（${drawing.latest.file_name}，${formatSize(drawing.latest.size)}）`, { class: "hint" }));
  } else {
    latest.textContent = "暂无文件";
  }
  const versionsCell = el("td");
  const toggle = el("button", "查看版本", {
    type: "button", class: "secondary small", "aria-expanded": "false", "aria-label": `查看 ${drawing.number} 的全部版本`,
  });
  toggle.disabled = !drawing.latest;
  toggle.addEventListener("click", () => toggleVersions(row, drawing, toggle));
  versionsCell.append(toggle);
  row.append(select, el("td", drawing.building_name), el("td", drawing.kind_label ?? KIND_LABELS[drawing.kind]),
    el("td", drawing.discipline), el("td", drawing.number), el("td", drawing.title), latest, versionsCell);
  return row;
}

async function toggleVersions(row, drawing, toggle) {
  const open = row.nextElementSibling?.classList.contains("versions-row") ? row.nextElementSibling : null;
  if (open) {
    open.remove();
    toggle.setAttribute("aria-expanded", "false");
    toggle.textContent = "查看版本";
    return;
  }
  const versionsRow = el("tr", undefined, { class: "versions-row", "data-versions-of": drawing.id });
  const cell = el("td", "正在加载版本…", { colspan: "8" });
  versionsRow.append(cell);
  row.after(versionsRow);
  toggle.setAttribute("aria-expanded", "true");
  toggle.textContent = "收起版本";
  const answer = await getJson(api.drawing(drawing.id));
  if (!answer.ok) { cell.textContent = `无法加载版本：${answer.error.message}`; return; }
  const list = el("ol", undefined, { class: "versions-list", reversed: "", "aria-label": `${drawing.number} 的版本` });
  for (const v of answer.body.versions) {
    const item = el("li", `第${v.version}版：${v.file_name}（${formatSize(v.size)}），${v.uploaded_by} 于 ${localTime(v.created_at)} 上传 `);
    item.append(el("a", "下载", { href: api.file(drawing.id, v.version), "aria-label": `下载 ${drawing.number} 第${v.version}版` }));
    list.append(item);
  }
  cell.replaceChildren(answer.body.versions.length ? list : el("span", "暂无版本"));
}

searchForm.addEventListener("submit", (event) => {
  event.preventDefault();
  goTo(formQuery(), 1);
});
prevButton.addEventListener("click", () => goTo(addressQuery().query, Math.max(1, shown.page - 1)));
nextButton.addEventListener("click", () => goTo(addressQuery().query, shown.page + 1));
window.addEventListener("popstate", () => loadCatalogue());

// ---- The whole catalogue, for matching uploaded files to entries ----------------------------------

let allEntries = null; // [Drawing] of every page, fetched when files are picked; null = stale

async function loadAllEntries() {
  if (allEntries) return allEntries;
  const first = await getJson(`${api.drawings}?page=1`);
  if (!first.ok) throw new Error(first.error.message);
  const entries = [...first.body.items];
  const pages = [];
  for (let page = 2; page <= first.body.pages; page++) pages.push(page);
  while (pages.length) {
    const batch = pages.splice(0, 6);
    const answers = await Promise.all(batch.map((page) => getJson(`${api.drawings}?page=${page}`)));
    for (const answer of answers) {
      if (!answer.ok) throw new Error(answer.error.message);
      entries.push(...answer.body.items);
    }
  }
  allEntries = entries;
  return entries;
}

// The entries whose drawing number starts `fileName` (case and full-width forms aside) with the
// longest such number; a number ending in a Latin letter or digit must not run on into another one,
// so "建施-1" does not match "建施-10 立面图.pdf" (while "建施-01一层平面图.pdf" matches "建施-01").
function matchEntries(fileName, entries) {
  const name = fileName.normalize("NFKC").toLowerCase();
  let best = [];
  let bestLength = 0;
  for (const entry of entries) {
    const number = entry.number.normalize("NFKC").toLowerCase().trim();
    if (!number || !name.startsWith(number)) continue;
    const next = name.charAt(number.length);
    if (/[0-9a-z]/.test(next) && /[0-9a-z]$/.test(number)) continue;
    if (number.length > bestLength) { best = [entry]; bestLength = number.length; }
    else if (number.length === bestLength) best.push(entry);
  }
  return best;
}

// ---- Upload panel (owner only) --------------------------------------------------------------------

const MAX_RUNNING = 3; // uploads sending at once; the others wait their turn

function setUpUploads(tus) {
  const input = document.getElementById("file-input");
  const dropZone = document.getElementById("drop-zone");
  const list = document.getElementById("upload-list");
  const startButton = document.getElementById("start-uploads");
  const clearButton = document.getElementById("clear-uploads");
  const parallel = document.getElementById("parallel");
  const uploadSummary = document.getElementById("upload-summary");
  const items = [];
  input.disabled = false; // picked files are only handled from here on

  function refreshButtons() {
    startButton.disabled = !items.some((item) => item.state === "ready");
    clearButton.disabled = !items.some((item) => item.state === "done" || item.state === "unmatched");
    const done = items.filter((item) => item.state === "done").length;
    const waiting = items.filter((item) => ["ready", "unmatched"].includes(item.state)).length;
    const running = items.filter((item) => ["queued", "uploading", "paused", "failed"].includes(item.state)).length;
    say(uploadSummary, items.length ? `共 ${items.length} 个文件：已完成 ${done} 个，进行中 ${running} 个，待开始 ${waiting} 个` : "");
  }

  // One row of the list: the file, its entry, its progress and its buttons; `item.state` is one of
  // unmatched, ready, queued, uploading, paused, failed, done.
  function addFile(file, entries) {
    const item = { file, state: "ready", upload: null, drawingId: "" };
    const li = el("li", undefined, { "data-testid": "upload-item", "data-file-name": file.name });
    const name = el("div");
    name.append(el("strong", file.name), el("span", `（${formatSize(file.size)}）`, { class: "hint" }));
    const choose = el("label", "对应图纸 ");
    const select = el("select", undefined, { "aria-label": `${file.name} 对应的图纸条目` });
    select.append(el("option", "请选择图纸条目", { value: "" }));
    for (const entry of entries) select.append(el("option", entryLabel(entry), { value: entry.id }));
    choose.append(select);
    const match = el("p", undefined, { class: "match" });
    const line = el("div", undefined, { class: "progress-line" });
    const progress = el("progress", undefined, { max: "100", value: "0", "aria-label": `${file.name} 上传进度` });
    const percentText = el("span", "0%", { class: "percent", "data-field": "percent" });
    const status = el("span", "", { "data-field": "status", role: "status" });
    const pause = el("button", "暂停", { type: "button", class: "secondary", hidden: "" });
    const resume = el("button", "继续", { type: "button", hidden: "" });
    const retry = el("button", "重试", { type: "button", hidden: "" });
    const remove = el("button", "移除", { type: "button", class: "secondary" });
    for (const [button, verb] of [[pause, "暂停"], [resume, "继续"], [retry, "重试"], [remove, "移除"]]) {
      button.setAttribute("aria-label", `${verb}上传 ${file.name}`);
    }
    line.append(progress, percentText, status, pause, resume, retry, remove);
    li.append(name, choose, match, line);
    list.append(li);
    Object.assign(item, { li, select, match, progress, percentText, status, pause, resume, retry, remove });

    const found = matchEntries(file.name, entries);
    if (found.length === 1) {
      select.value = found[0].id;
      match.textContent = `按文件名中的图号对应到：${entryLabel(found[0])}`;
    } else if (found.length > 1) {
      match.textContent = `图号“${found[0].number}”在多个单体或类型中都有，请选择对应的图纸条目`;
    } else {
      match.textContent = "文件名开头没有目录中的图号，请选择对应的图纸条目，否则不会上传";
    }
    item.drawingId = select.value;
    setState(item, item.drawingId ? "ready" : "unmatched");

    select.addEventListener("change", () => {
      item.drawingId = select.value;
      if (select.value) match.textContent = `已选择：${select.selectedOptions[0].textContent}`;
      else match.textContent = "没有选择图纸条目，不会上传";
      setState(item, select.value ? "ready" : "unmatched");
    });
    pause.addEventListener("click", () => pauseUpload(item));
    resume.addEventListener("click", () => resumeUpload(item));
    retry.addEventListener("click", () => resumeUpload(item));
    remove.addEventListener("click", () => {
      // An unfinished upload is ended on the server too (tus termination) rather than left to expire.
      if (item.upload && item.state !== "done") item.upload.abort(true).catch(() => {});
      items.splice(items.indexOf(item), 1);
      li.remove();
      refreshButtons();
      pump();
    });
    items.push(item);
  }

  const STATUS_TEXT = {
    unmatched: "未匹配，不会上传",
    ready: "等待开始",
    queued: "排队中",
    uploading: "上传中",
    paused: "已暂停",
    failed: "上传失败",
    done: "已完成",
  };

  function setState(item, state, detail) {
    item.state = state;
    item.li.dataset.state = state;
    item.status.textContent = detail ? `${STATUS_TEXT[state]}：${detail}` : STATUS_TEXT[state];
    item.select.disabled = !["ready", "unmatched"].includes(state);
    item.pause.hidden = state !== "uploading";
    item.resume.hidden = state !== "paused";
    item.retry.hidden = state !== "failed";
    item.remove.hidden = ["uploading", "queued"].includes(state);
    refreshButtons();
  }

  function showProgress(item, sent, total) {
    const percent = total ? Math.floor((sent / total) * 100) : 0;
    item.progress.value = percent;
    item.percentText.textContent = `${percent}%`;
  }

  function begin(item) {
    if (!item.upload) {
      item.upload = tus.drawingUpload(item.file, item.drawingId, csrfToken, {
        parallel: parallel.checked,
        chunkSize: Number(window.TONGBAN_TUS_CHUNK_BYTES) || tus.CHUNK_SIZE, // tests lower it
        onProgress: (sent, total) => showProgress(item, sent, total),
        onSuccess: () => finished(item),
        onError: (error) => {
          setState(item, "failed", tus.uploadErrorMessage(error));
          pump();
        },
      });
      setState(item, "uploading");
      tus.startUpload(item.upload);
    } else {
      setState(item, "uploading");
      item.upload.start(); // resumes from the offset the server holds
    }
  }

  async function finished(item) {
    showProgress(item, 1, 1);
    setState(item, "done");
    allEntries = null;
    pump();
    await Promise.all([loadCatalogue(), loadBuildings()]);
    const answer = await getJson(api.drawing(item.drawingId));
    if (answer.ok && answer.body.latest) {
      setState(item, "done", `已成为 ${answer.body.number} 的第${answer.body.latest.version}版`);
    }
  }

  async function pauseUpload(item) {
    if (item.state !== "uploading") return;
    setState(item, "paused");
    await item.upload.abort();
    pump();
  }

  function resumeUpload(item) {
    if (!["paused", "failed"].includes(item.state)) return;
    setState(item, "queued");
    pump();
  }

  // Start queued uploads while fewer than MAX_RUNNING are sending.
  function pump() {
    let running = items.filter((item) => item.state === "uploading").length;
    for (const item of items) {
      if (running >= MAX_RUNNING) break;
      if (item.state === "queued") { begin(item); running += 1; }
    }
  }

  async function addFiles(files) {
    if (!files.length) return;
    let entries;
    try {
      entries = await loadAllEntries();
    } catch (error) {
      say(pageError, `无法读取图纸目录：${error.message}`);
      return;
    }
    const known = new Set(items.map((item) => `${item.file.name}|${item.file.size}|${item.file.lastModified}`));
    for (const file of files) {
      const key = `${file.name}|${file.size}|${file.lastModified}`;
      if (!known.has(key)) addFile(file, entries);
      known.add(key);
    }
    refreshButtons();
  }

  input.addEventListener("change", async () => {
    await addFiles([...input.files]);
    input.value = "";
  });
  dropZone.addEventListener("dragover", (event) => {
    event.preventDefault();
    dropZone.classList.add("over");
  });
  dropZone.addEventListener("dragleave", () => dropZone.classList.remove("over"));
  dropZone.addEventListener("drop", (event) => {
    event.preventDefault();
    dropZone.classList.remove("over");
    addFiles([...(event.dataTransfer?.files ?? [])]);
  });
  startButton.addEventListener("click", () => {
    for (const item of items) if (item.state === "ready") setState(item, "queued");
    pump();
  });
  clearButton.addEventListener("click", () => {
    for (const item of [...items]) {
      if (item.state === "done" || item.state === "unmatched") {
        items.splice(items.indexOf(item), 1);
        item.li.remove();
      }
    }
    refreshButtons();
  });
}

// ---- Catalogue forms (owner only) ------------------------------------------------------------------

function setUpCatalogueForms() {
  const buildingForm = document.getElementById("new-building");
  const buildingError = document.getElementById("building-error");
  const buildingStatus = document.getElementById("building-status");
  buildingForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const answer = await postJson(api.buildings, formFields(buildingForm));
    if (!answer.ok) { say(buildingStatus, ""); showFormError(buildingForm, buildingError, answer.error); return; }
    say(buildingError, "");
    say(buildingStatus, `已新增单体“${answer.body.name}”`);
    buildingForm.reset();
    await loadBuildings();
  });

  const importForm = document.getElementById("import-catalogue");
  const importError = document.getElementById("import-error");
  const importStatus = document.getElementById("import-status");
  importForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const buildingId = importForm.elements.building_id.value;
    const kind = importForm.elements.kind.value;
    const entries = [];
    const bad = [];
    importForm.elements.lines.value.split(/\r?\n/).forEach((line, index) => {
      if (!line.trim()) return;
      const cells = line.split("\t").map((cell) => cell.trim());
      if (cells.length !== 3 || cells.some((cell) => !cell)) { bad.push(index + 1); return; }
      const [discipline, number, title] = cells;
      entries.push({ building_id: buildingId, kind, discipline, number, title });
    });
    say(importStatus, "");
    if (bad.length) { say(importError, `第 ${bad.join("、")} 行不是“专业<Tab>图号<Tab>图名”三列，请修改后再导入`); return; }
    if (!entries.length) { say(importError, "请粘贴至少一行目录"); return; }
    const answer = await postJson(api.drawings, { entries });
    if (!answer.ok) { say(importError, answer.error.message); return; }
    say(importError, "");
    say(importStatus, `已导入 ${answer.body.items.length} 条图纸目录`);
    importForm.elements.lines.value = "";
    allEntries = null;
    await Promise.all([loadBuildings(), loadCatalogue()]);
  });
}

// ---- Start ------------------------------------------------------------------------------------------

if (mayUpload) setUpCatalogueForms();
await loadBuildings();
await loadCatalogue();
if (mayUpload) setUpUploads(await import("/static/files/upload.js"));
