// Writes the licence texts of every package bundled into one bundle next to it (MIT and similar
// licences ask for their notice to travel with copies). Usage, after esbuild wrote a metafile:
//   node scripts/licenses.mjs <esbuild metafile> <LICENSES.txt to write>
// Only packages whose files esbuild actually bundled are listed (a package's Node-only dependencies
// are not), in package-lock order.
import { readFileSync, readdirSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";

const [metafile, output] = process.argv.slice(2);
if (!metafile || !output) throw new Error("usage: node scripts/licenses.mjs <metafile> <LICENSES.txt>");
const bundled = new Set();
for (const input of Object.keys(JSON.parse(readFileSync(metafile, "utf8")).inputs)) {
  const match = input.match(/^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//);
  if (match) bundled.add(match[1]);
}
const lock = JSON.parse(readFileSync("package-lock.json", "utf8"));
const parts = [];
for (const [path, meta] of Object.entries(lock.packages)) {
  if (!path || meta.dev || !bundled.has(path)) continue;
  const dir = path;
  const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
  const file = existsSync(dir) ? readdirSync(dir).find((f) => /^(licen[cs]e|copying)/i.test(f)) : undefined;
  const text = file ? readFileSync(join(dir, file), "utf8").trim() : `License: ${pkg.license ?? "unknown"}`;
  parts.push(`${pkg.name} ${pkg.version} (${pkg.license ?? "unknown"})\n\n${text}\n`);
}
writeFileSync(output, parts.join("\n" + "-".repeat(72) + "\n\n"));
console.log(`${output}: licences of ${parts.length} packages written`);
