// The models page of a bid session (BIM 模型检查): the supplier's upload panel (one .ifc or .ifczip
// through tus, with progress, pause and resume; the server starts the check when the upload ends) and
// the list of checks, each unfinished one followed live through its check actor's websocket (stage,
// percent, then the verdict and the counts).
// Must not: decide who may submit or see a check; the server answers every request on its own terms.
import { applyCheckEvent, progressText } from "/static/bim_live.js";
import { el, getJson, localTime, say } from "/static/common.js";
import { subscribe } from "/static/live.js";

const root = document.getElementById("models");
const bidId = root.dataset.bidId;
const labels = JSON.parse(root.dataset.labels);
const maySubmit = root.dataset.maySubmit === "true";
const csrfToken = document.querySelector('meta[name="csrf-token"]')?.content ?? "";
const pageError = document.getElementById("page-error");
const rows = document.getElementById("check-rows");
const ACCEPTED = /\.(ifc|ifczip)$/i;

const STATUS_LABELS = { queued: "排队中", running: "检查中", passed: "已完成（通过）", failed: "已完成（不通过）", error: "出错，将重试" };
const VERDICT_LABELS = { passed: "通过", failed: "不通过" };





const checks = new Map(); // check id → { check (CheckOut), live (check state), row, socket }

// ---- The list ---------------------------------------------------------------------------------------

function statusOf(entry) {
  return entry.live?.status ?? entry.check.status;
}

function renderRow(entry) {
  const { check } = entry;
  const live = entry.live;
  const status = statusOf(entry);
  const row = el("tr", undefined, { "data-check-id": check.id, "data-status": status });
  row.append(el("td", check.file_name, { "data-field": "file" }));
  row.append(el("td", check.org_name, { "data-field": "org" }));
  row.append(el("td", localTime(check.created_at), { "data-field": "submitted" }));
  const badge = el("span", STATUS_LABELS[status] ?? status, { class: "badge", "data-status": status });
  const statusCell = el("td", undefined, { "data-field": "status" });
  statusCell.append(badge);
  row.append(statusCell);
  const stageCell = el("td", undefined, { "data-field": "stage" });
  if (status === "running" && live?.stage) {
    const percent = Math.round(live.percent ?? 0);
    stageCell.append(el("span", `${labels.stages[live.stage] ?? live.stage} ${percent}%`));
    const bar = el("progress", undefined, { max: "100", "aria-label": `${check.file_name} 检查进度` });
    bar.value = percent;
    stageCell.append(bar);
    const counts = progressText(live.counts);
    if (counts) stageCell.append(el("small", counts, { class: "hint" }));
  } else if (status === "error") {
    stageCell.textContent = live?.message || "检查未能运行，将自动重试";
  } else {
    stageCell.textContent = status === "queued" ? "等待开始" : "—";
  }
  row.append(stageCell);
  const verdict = live?.verdict ?? (["passed", "failed"].includes(check.status) ? check.status : null);
  row.append(el("td", verdict ? VERDICT_LABELS[verdict] : "—", { "data-field": "verdict" }));
  const totals = live?.totals && Object.keys(live.totals).length ? live.totals : check.counts;
  row.append(el("td", totals ? `错误 ${totals.errors ?? 0} / 警告 ${totals.warnings ?? 0}` : "—", { "data-field": "counts" }));
  const link = el("td", undefined, { "data-field": "report" });
  link.append(el("a", verdict ? "查看报告" : "查看进度", { href: `/bim/checks/${check.id}`, "aria-label": `${check.file_name} 的检查${verdict ? "报告" : "进度"}` }));
  row.append(link);
  if (entry.row) entry.row.replaceWith(row);
  entry.row = row;
  return row;
}

function follow(entry) {
  if (entry.socket || ["passed", "failed"].includes(statusOf(entry))) return;
  entry.socket = subscribe(`/ws/bim/checks/${entry.check.id}`, {
    onSnapshot(state) {
      entry.live = state.check_id ? state : null;
      update(entry);
    },
    onEvent(event) {
      entry.live = applyCheckEvent(entry.live ?? {}, event);
      update(entry);
    },
  });
}

function update(entry) {
  renderRow(entry);
  if (["passed", "failed"].includes(statusOf(entry)) && entry.socket) {
    entry.socket.close();
    entry.socket = null;
  }
}

async function loadChecks() {
  const answer = await getJson(`/api/v1/bids/${bidId}/checks`);
  if (!answer.ok) { say(pageError, answer.error.message); return; }
  say(pageError, "");
  const fresh = [];
  for (const check of answer.body.items) {
    let entry = checks.get(check.id);
    if (entry) entry.check = check;
    else { entry = { check, live: null, row: null, socket: null }; checks.set(check.id, entry); }
    entry.row = null;
    fresh.push(renderRow(entry));
    follow(entry);
  }
  rows.replaceChildren(...fresh);
  if (!fresh.length) {
    const empty = el("tr", undefined, { class: "empty" });
    empty.append(el("td", maySubmit ? "尚未提交模型，请在上方选择模型文件" : "尚无模型检查记录", { colspan: "8" }));
    rows.append(empty);
  }
}

// ---- Upload panel (suppliers) -----------------------------------------------------------------------

function setUpUpload(tus) {
  const input = document.getElementById("model-file");
  const line = document.getElementById("upload-line");
  const progress = document.getElementById("upload-progress");
  const percentText = document.getElementById("upload-percent");
  const status = document.getElementById("upload-status");
  const pause = document.getElementById("upload-pause");
  const resume = document.getElementById("upload-resume");
  const start = document.getElementById("upload-start");
  let upload = null;
  let state = "idle"; // idle, ready, uploading, paused, failed, done

  function setState(next, detail) {
    state = next;
    line.dataset.state = next;
    const text = { ready: "等待开始", uploading: "上传中", paused: "已暂停", failed: "上传失败", done: "上传完成，已提交检查" }[next] ?? "";
    status.textContent = detail ? `${text}：${detail}` : text;
    line.hidden = next === "idle";
    pause.hidden = next !== "uploading";
    resume.hidden = !["paused", "failed"].includes(next);
    start.disabled = next !== "ready";
    input.disabled = ["uploading", "paused"].includes(next);
  }

  function showProgress(sent, total) {
    const percent = total ? Math.floor((sent / total) * 100) : 0;
    progress.value = percent;
    percentText.textContent = `${percent}%`;
  }

  input.disabled = false;
  input.addEventListener("change", () => {
    const file = input.files[0];
    upload = null;
    showProgress(0, 1);
    if (!file) { setState("idle"); return; }
    if (!ACCEPTED.test(file.name)) { setState("failed", "请选择 .ifc 或 .ifczip 文件"); resume.hidden = true; return; }
    setState("ready", `${file.name}`);
  });

  start.addEventListener("click", () => {
    const file = input.files[0];
    if (!file || state !== "ready") return;
    upload = new tus.Upload(file, {
      endpoint: tus.ENDPOINT,
      chunkSize: Number(window.TONGBAN_TUS_CHUNK_BYTES) || tus.CHUNK_SIZE, // tests lower it
      retryDelays: tus.RETRY_DELAYS,
      removeFingerprintOnSuccess: true,
      // Resuming is per file and bid session: the same file picked for another session starts afresh.
      fingerprint: (f, options) => Promise.resolve(
        ["tongban-bim", bidId, f.name, f.type, f.size, f.lastModified, options.endpoint].join("|")),
      metadata: { filename: file.name, filetype: file.type || "application/octet-stream", bid: bidId },
      headers: { "x-csrf-token": csrfToken },
      onProgress: showProgress,
      onError: (error) => setState("failed", tus.uploadErrorMessage(error)),
      onSuccess: async () => {
        showProgress(1, 1);
        setState("done", file.name);
        input.value = "";
        await loadChecks();
      },
    });
    setState("uploading", file.name);
    tus.startUpload(upload);
  });

  pause.addEventListener("click", async () => {
    if (state !== "uploading") return;
    setState("paused");
    await upload.abort();
  });
  resume.addEventListener("click", () => {
    if (!upload || !["paused", "failed"].includes(state)) return;
    setState("uploading");
    upload.start(); // resumes from the offset the server holds
  });
}

await loadChecks();
if (maySubmit) setUpUpload(await import("/static/files/upload.js"));
