// Validate an AsyncAPI document with the official parser (@asyncapi/parser, pinned in package.json).
//
//   node validate.mjs <asyncapi.json> [--json]
//
// Prints every diagnostic (severity, code, path, message), then a summary line. With --json, prints one
// JSON object {errors, warnings, infos, hints, diagnostics: [...]} instead. Exits 1 when any diagnostic has
// error severity (or the document cannot be read), 0 otherwise; 2 on wrong usage.
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { DiagnosticSeverity, Parser } from "@asyncapi/parser";

const args = process.argv.slice(2);
const asJson = args.includes("--json");
const files = args.filter((a) => a !== "--json");
if (files.length !== 1) {
  console.error("usage: node validate.mjs <asyncapi.json> [--json]");
  process.exit(2);
}

const SEVERITY = {
  [DiagnosticSeverity.Error]: "error",
  [DiagnosticSeverity.Warning]: "warning",
  [DiagnosticSeverity.Information]: "info",
  [DiagnosticSeverity.Hint]: "hint",
};

const path = resolve(files[0]);
let text;
try {
  text = await readFile(path, "utf8");
} catch (err) {
  console.error(`cannot read ${path}: ${err.message}`);
  process.exit(1);
}

const parser = new Parser();
const { document, diagnostics } = await parser.parse(text, { source: path });
const found = diagnostics.map((d) => ({
  severity: SEVERITY[d.severity] ?? String(d.severity),
  code: String(d.code),
  path: (d.path ?? []).join("."),
  message: d.message,
}));
const count = (s) => found.filter((d) => d.severity === s).length;
const summary = {
  errors: count("error"),
  warnings: count("warning"),
  infos: count("info"),
  hints: count("hint"),
  parsed: document !== undefined,
};

if (asJson) {
  console.log(JSON.stringify({ ...summary, diagnostics: found }, null, 2));
} else {
  for (const d of found) console.log(`${d.severity} ${d.code} ${d.path || "(root)"}: ${d.message}`);
  console.log(
    `${path}: ${summary.errors} errors, ${summary.warnings} warnings, ${summary.infos} infos, ` +
      `${summary.hints} hints${summary.parsed ? "" : " (the document did not parse)"}`,
  );
}
process.exit(summary.errors > 0 || !summary.parsed ? 1 : 0);
