// What both BIM pages (the models list and one check) read from a check actor's stream: its events
// folded into its state (as actors/check/state.py `apply` does) and a stage's counts in words.
// Must not: decide anything the server decides (status, verdict): it only mirrors the events.

const COUNT_LABELS = { rules: "规则", instances: "实例", elements: "构件", specifications: "规范", lines: "行" };

export function applyCheckEvent(state, event) {
  const data = event.data;
  switch (event.type) {
    case "check.started":
      return { ...state, check_id: data.check_id, status: "running", stage: null, percent: 0, stages: [], message: "" };
    case "check.progress":
      return { ...state, stage: data.stage, percent: data.percent, counts: data.counts ?? {} };
    case "check.stage_ended":
      return { ...state, stages: [...(state.stages ?? []).filter((s) => s.stage !== data.summary.stage), data.summary] };
    case "check.finished":
      return { ...state, status: data.verdict, verdict: data.verdict, totals: data.totals, report_sm3: data.report_sm3, stage: null, percent: 100 };
    case "check.errored":
      return { ...state, status: "error", message: data.message };
    default:
      return state;
  }
}

// A stage's counts in words: {"rules": 3, "of": 10} → "规则 3 / 10".
export function progressText(counts) {
  if (!counts) return "";
  const parts = [];
  for (const [key, value] of Object.entries(counts)) {
    if (key === "of") continue;
    const label = COUNT_LABELS[key] ?? key;
    parts.push(key === "rules" && counts.of !== undefined ? `${label} ${value} / ${counts.of}` : `${label} ${value}`);
  }
  return parts.join("，");
}
