// Validates docs/asyncapi.yaml with the official AsyncAPI parser (@asyncapi/parser):
// the document must parse with no diagnostic of severity error. Then every message
// example (frames recorded from the daemon, as in docs/protocol.md) is checked against
// its message's payload schema, so an example and its schema cannot disagree.
// With `--frames FILE` (JSON lines of `{"frame": {...}, "method": "call.answer"}`,
// `method` naming the request a `res` answers), each frame is also checked against the
// message the document gives it: `hello`/`req` against the operation of its method,
// `res` against that operation's reply, `evt` by its `name`.
// With `--dts FILE` (examples/web/cti-client.d.ts), the TypeScript declarations must
// compile (strict) with usage.ts, a CRM page's use of the client, and their CtiEvents, CtiMethods and CtiErrorCode must name exactly
// the document's events, methods and error codes.
// Exits 0 when all is well, 1 with the problems printed otherwise.
// Usage: node validate.mjs [path/to/asyncapi.yaml] [--frames FILE] [--dts FILE]
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Parser, DiagnosticSeverity } from "@asyncapi/parser";
import Ajv from "ajv";
import addFormats from "ajv-formats";
import ts from "typescript";

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const framesAt = args.indexOf("--frames");
const framesPath = framesAt >= 0 ? args.splice(framesAt, 2)[1] : undefined;
const dtsAt = args.indexOf("--dts");
const dtsPath = dtsAt >= 0 ? args.splice(dtsAt, 2)[1] : undefined;
const path = resolve(args[0] ?? resolve(here, "../../docs/asyncapi.yaml"));
const source = readFileSync(path, "utf8");

const parser = new Parser();
const { document, diagnostics } = await parser.parse(source, { source: path });

const name = (severity) =>
  ({ 0: "error", 1: "warning", 2: "information", 3: "hint" })[severity] ?? `severity ${severity}`;
const where = (d) => (d.range ? `${d.range.start.line + 1}:${d.range.start.character + 1}` : "?");
for (const d of diagnostics) {
  if (d.severity <= DiagnosticSeverity.Warning) {
    console.log(`${path}:${where(d)}: ${name(d.severity)}: ${d.message} [${d.code}] at ${d.path.join(".")}`);
  }
}
const errors = diagnostics.filter((d) => d.severity === DiagnosticSeverity.Error);
if (errors.length > 0 || document === undefined) {
  console.log(`${path}: ${errors.length} error(s); the document is not valid AsyncAPI`);
  process.exit(1);
}

// The payloads come back with every $ref resolved, so each is a whole JSON schema.
const ajv = new Ajv({ strict: false, allErrors: true });
addFormats(ajv);
let examples = 0;
const problems = [];
for (const message of document.allMessages()) {
  const payload = message.payload();
  if (!payload) {
    problems.push(`message ${message.id()} has no payload`);
    continue;
  }
  const validate = ajv.compile(payload.json());
  message.examples().all().forEach((example, i) => {
    examples += 1;
    if (!validate(example.payload())) {
      const why = validate.errors.map((e) => `${e.instancePath || "/"} ${e.message}`).join("; ");
      problems.push(`message ${message.id()} example ${i + 1}: ${why}`);
    }
  });
}

// Frames recorded from the daemon, each against the message the document gives it.
const checkedFrames = framesPath ? checkFrames(readFileSync(framesPath, "utf8")) : 0;

function checkFrames(text) {
  const props = (m) => m.payload()?.json()?.properties ?? {};
  const methodOf = (op) => op.messages().all().map((m) => props(m).method?.const).find(Boolean);
  const byMethod = new Map();
  for (const op of document.operations().all()) {
    const method = methodOf(op);
    if (method) byMethod.set(method, op);
  }
  const events = new Map();
  const byType = new Map();
  for (const m of document.allMessages()) {
    const p = props(m);
    if (p.type?.const === "evt" && p.name?.const) events.set(p.name.const, m);
    else if (p.type?.const === "welcome" || p.type?.const === "error" || p.type?.const === "hello")
      byType.set(p.type.const, m);
  }
  let count = 0;
  text.split("\n").forEach((line, i) => {
    if (!line.trim()) return;
    const at = `${framesPath}:${i + 1}`;
    const { frame, method } = JSON.parse(line);
    let message;
    if (frame.type === "evt") message = events.get(frame.name);
    else if (frame.type === "req") message = byMethod.get(frame.method)?.messages().all()[0];
    else if (frame.type === "res") {
      const key = "error" in frame ? "error" : "result";
      message = byMethod.get(method)?.reply()?.messages().all().find((m) => key in props(m));
    } else message = byType.get(frame.type);
    if (!message) {
      problems.push(`${at}: the document has no message for this ${frame.type} frame (${frame.name ?? frame.method ?? method ?? ""})`);
      return;
    }
    const validate = ajv.compile(message.payload().json());
    count += 1;
    if (!validate(frame)) {
      const why = validate.errors.map((e) => `${e.instancePath || "/"} ${e.message}`).join("; ");
      problems.push(`${at}: ${frame.type} ${frame.name ?? frame.method ?? method ?? ""} does not match message ${message.id()}: ${why}`);
    }
  });
  return count;
}

const checkedDts = dtsPath ? checkDts(dtsPath) : 0;

// The names a declaration file gives: members of an interface, literals of a union.
function checkDts(file) {
  const program = ts.createProgram([file, resolve(here, "usage.ts")], {
    noEmit: true,
    strict: true,
    target: ts.ScriptTarget.ES2020,
    lib: ["lib.es2020.d.ts", "lib.dom.d.ts"],
    types: [],
  });
  for (const d of ts.getPreEmitDiagnostics(program)) {
    const where = d.file ? `${d.file.fileName}:${d.file.getLineAndCharacterOfPosition(d.start).line + 1}` : file;
    problems.push(`${where}: ${ts.flattenDiagnosticMessageText(d.messageText, " ")}`);
  }
  const source = program.getSourceFile(file);
  const members = new Map();
  const unions = new Map();
  ts.forEachChild(source, (node) => {
    if (ts.isInterfaceDeclaration(node)) {
      members.set(node.name.text, node.members.map((m) => m.name && (m.name.text ?? m.name.getText(source))));
    } else if (ts.isTypeAliasDeclaration(node) && ts.isUnionTypeNode(node.type)) {
      unions.set(node.name.text, node.type.types.filter(ts.isLiteralTypeNode).map((t) => t.literal.text));
    }
  });
  const props = (m) => m.payload()?.json()?.properties ?? {};
  const inDoc = (type, key) =>
    document.allMessages().all().map((m) => props(m)).filter((p) => p.type?.const === type).map((p) => p[key]?.const);
  const codes = document.components().schemas().all().find((s) => s.id() === "ErrorCode")?.json().enum ?? [];
  const compare = (what, declared, documented) => {
    const a = [...new Set(declared ?? [])].sort();
    const b = [...new Set(documented)].sort();
    if (declared === undefined) problems.push(`${file}: declares no ${what}`);
    else if (JSON.stringify(a) !== JSON.stringify(b))
      problems.push(`${file}: ${what} names ${JSON.stringify(a)}, the document ${JSON.stringify(b)}`);
  };
  compare("CtiEvents", members.get("CtiEvents"), inDoc("evt", "name"));
  compare("CtiMethods", members.get("CtiMethods"), inDoc("req", "method"));
  compare("CtiErrorCode", unions.get("CtiErrorCode"), codes);
  return 1;
}

for (const p of problems) console.log(`${path}: ${p}`);
const counts = `${document.allMessages().length} messages, ${document.allOperations().length} operations, ${examples} examples, ${checkedFrames} frames${checkedDts ? ", declarations checked" : ""}`;
if (problems.length > 0) {
  console.log(`${path}: ${problems.length} problem(s) (${counts})`);
  process.exit(1);
}
console.log(`${path}: valid AsyncAPI ${document.version()} (${counts})`);
