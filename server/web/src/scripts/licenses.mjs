// Writes the licence texts of every package bundled into editor.js next to it (MIT and similar
// licences ask for their notice to travel with copies): server/web/static/collab/LICENSES.txt.
import { readFileSync, readdirSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";

const lock = JSON.parse(readFileSync("package-lock.json", "utf8"));
const parts = [];
for (const [path, meta] of Object.entries(lock.packages)) {
  if (!path || meta.dev) continue;
  const dir = path;
  const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
  const file = existsSync(dir) ? readdirSync(dir).find((f) => /^(licen[cs]e|copying)/i.test(f)) : undefined;
  const text = file ? readFileSync(join(dir, file), "utf8").trim() : `License: ${pkg.license ?? "unknown"}`;
  parts.push(`${pkg.name} ${pkg.version} (${pkg.license ?? "unknown"})\n\n${text}\n`);
}
writeFileSync("../static/collab/LICENSES.txt", parts.join("\n" + "-".repeat(72) + "\n\n"));
console.log(`licences of ${parts.length} packages written`);
