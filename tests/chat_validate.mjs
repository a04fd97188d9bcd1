#!/usr/bin/env node
// Validates Slack and Teams webhook bodies against the vendors' own published packages.
//
//   node tests/chat_validate.mjs FILE.json
//
// FILE holds [{"kind": "slack" | "teams", "name"?: "...", "payload": {...}}, ...]. Every
// violation of every payload is listed; the exit status is 1 when there is any, 2 on a usage or
// set-up error. The packages come from scripts/ensure_chat_validators.sh (pinned versions);
// JITEA_CHAT_VALIDATORS names their node_modules folder (default
// ~/.cache/jitea/chat-validators/node_modules, where that script installs them).
//
// - Slack: a TypeScript file assigns each payload literal to a const typed with the incoming
//   webhook argument type of @slack/webhook (IncomingWebhookSendArguments, less the client-only
//   options fetch/timeout/retryConfig) whose `blocks` are @slack/types' KnownBlock (the
//   webhook type also admits the loose `Block`, `{type: string}`, which would let a misspelled
//   block through), and `tsc --noEmit --strict` checks it: a wrong block or element type, a
//   missing or misspelled property, an excess property or a wrong enum value fails. Then the
//   documented length and count limits the types cannot express are checked here.
// - Teams: the envelope (`type: "message"`, attachments with contentType
//   application/vnd.microsoft.card.adaptive) and the card are typed with Microsoft's
//   @microsoft/teams.cards interfaces (IAdaptiveCard; generated from the Adaptive Card schema)
//   in the same tsc run, and each card is parsed and validated by Microsoft's `adaptivecards`
//   renderer library (AdaptiveCard.parse with a SerializationContext, then validateProperties),
//   whose events report unknown element/action types, unsupported versions and invalid values.
//   Also checked: the Teams webhook size limit (28 KB) and that OpenUrl actions are absolute
//   http(s) URLs.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";

const file = process.argv[2];
if (!file) {
  console.error("usage: node tests/chat_validate.mjs FILE.json");
  process.exit(2);
}
const nm =
  process.env.JITEA_CHAT_VALIDATORS ||
  path.join(os.homedir(), ".cache", "jitea", "chat-validators", "node_modules");
for (const p of ["typescript", "@slack/types", "@slack/webhook", "@microsoft/teams.cards", "adaptivecards"]) {
  if (!fs.existsSync(path.join(nm, p, "package.json"))) {
    console.error(`${p} is not installed in ${nm}: run scripts/ensure_chat_validators.sh`);
    process.exit(2);
  }
}

let items;
try {
  items = JSON.parse(fs.readFileSync(file, "utf8"));
} catch (e) {
  console.error(`${file}: ${e.message}`);
  process.exit(2);
}
if (!Array.isArray(items)) {
  console.error(`${file}: expected a JSON array of {kind, payload}`);
  process.exit(2);
}

/** violations[i] lists what is wrong with items[i]. */
const violations = items.map(() => []);
const label = (i) => `#${i} ${items[i]?.kind ?? "?"}${items[i]?.name ? ` ${items[i].name}` : ""}`;

items.forEach((it, i) => {
  if (!it || typeof it !== "object" || !["slack", "teams"].includes(it.kind)) {
    violations[i].push(`kind must be "slack" or "teams"`);
  } else if (!it.payload || typeof it.payload !== "object" || Array.isArray(it.payload)) {
    violations[i].push("payload must be a JSON object");
  }
});
const valid = (i) => violations[i].length === 0;

// ---- Types (one tsc run for all payloads) ---------------------------------------------------

typecheck();

function typecheck() {
  const header = [
    `import type { KnownBlock } from "@slack/types";`,
    `import type { IncomingWebhookSendArguments } from "@slack/webhook";`,
    `import type { IAdaptiveCard } from "@microsoft/teams.cards";`,
    `type SlackBody = Omit<IncomingWebhookSendArguments, "blocks" | "fetch" | "timeout" | "retryConfig"> & { blocks?: KnownBlock[] };`,
    `type TeamsBody = { type: "message"; attachments: { contentType: "application/vnd.microsoft.card.adaptive"; contentUrl?: string | null; content: IAdaptiveCard }[] };`,
  ];
  const lineOf = new Map(); // 1-based line -> item index
  const lines = [...header];
  items.forEach((it, i) => {
    if (!valid(i)) return;
    const type = it.kind === "slack" ? "SlackBody" : "TeamsBody";
    lines.push(`export const p${i}: ${type} = ${JSON.stringify(it.payload)};`);
    lineOf.set(lines.length, i);
  });
  if (lineOf.size === 0) return;
  // Inside the validators folder, so that module resolution finds its node_modules.
  const dir = fs.mkdtempSync(path.join(path.dirname(nm), ".check-"));
  try {
    fs.writeFileSync(path.join(dir, "check.ts"), lines.join("\n") + "\n");
    fs.writeFileSync(
      path.join(dir, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          target: "es2022",
          lib: ["es2022"],
          module: "nodenext",
          moduleResolution: "nodenext",
          types: ["node"],
          typeRoots: [path.join(nm, "@types")],
        },
        files: ["check.ts"],
      }),
    );
    const tsc = path.join(nm, "typescript", "bin", "tsc");
    const r = spawnSync(process.execPath, [tsc, "-p", ".", "--pretty", "false"], {
      cwd: dir,
      encoding: "utf8",
      maxBuffer: 64 << 20,
    });
    if (r.error) throw r.error;
    const out = `${r.stdout}${r.stderr}`;
    if (r.status !== 0 && !/error TS\d+/.test(out)) {
      console.error(`tsc failed:\n${out}`);
      process.exit(2);
    }
    // "check.ts(LINE,COL): error TSnnnn: message" followed by indented continuation lines.
    let current = null;
    const unexplained = [];
    for (const line of out.split("\n")) {
      const m = /^check\.ts\((\d+),(\d+)\): error (TS\d+): (.*)$/.exec(line);
      if (m) {
        const i = lineOf.get(Number(m[1]));
        if (i === undefined) {
          console.error(`tsc reports a problem outside any payload:\n${out}`);
          process.exit(2);
        }
        current = { i, text: `type (${m[3]}, column ${m[2]}): ${m[4]}` };
        violations[i].push(current.text);
      } else if (current && /^\s+\S/.test(line)) {
        violations[current.i][violations[current.i].length - 1] += `\n      ${line.trim()}`;
      } else if (line.trim()) {
        current = null;
        unexplained.push(line);
      }
    }
    // Never pass on output that was not understood.
    if (unexplained.length || (r.status !== 0 && ![...lineOf.values()].some((i) => !valid(i)))) {
      console.error(`tsc (exit ${r.status}) said what this script cannot attribute:\n${unexplained.join("\n") || out}`);
      process.exit(2);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// ---- Slack limits the types cannot express ---------------------------------------------------
// From the Block Kit reference (blocks, block elements, composition objects) and the
// chat.postMessage guidance for `text`.

const len = (s) => (typeof s === "string" ? [...s].length : 0);

function checkSlack(p, bad) {
  if (typeof p.text !== "string" || p.text.trim() === "") {
    bad("text: missing; it is the notification and the fallback where blocks cannot be shown");
  } else if (len(p.text) > 4000) {
    bad(`text: ${len(p.text)} characters, at most 4,000 advised (Slack truncates long messages)`);
  }
  const blocks = Array.isArray(p.blocks) ? p.blocks : [];
  if (blocks.length > 50) bad(`blocks: ${blocks.length}, at most 50 in a message`);
  const textMax = (where, t, max) => {
    if (t && typeof t === "object" && len(t.text) > max) bad(`${where}: ${len(t.text)} characters, at most ${max}`);
    if (t && typeof t === "object" && typeof t.text === "string" && t.text.length === 0) bad(`${where}: empty text`);
  };
  const element = (where, e) => {
    if (!e || typeof e !== "object") return;
    if (len(e.action_id) > 255) bad(`${where}.action_id: at most 255 characters`);
    if (e.type === "button") {
      textMax(`${where}.text`, e.text, 75);
      if (len(e.url) > 3000) bad(`${where}.url: at most 3,000 characters`);
      if (len(e.value) > 2000) bad(`${where}.value: at most 2,000 characters`);
      if (e.url !== undefined && !/^https?:\/\//.test(e.url)) bad(`${where}.url: not an http(s) URL`);
    }
  };
  blocks.forEach((b, k) => {
    const w = `blocks[${k}]`;
    if (!b || typeof b !== "object") return;
    if (len(b.block_id) > 255) bad(`${w}.block_id: at most 255 characters`);
    switch (b.type) {
      case "header":
        textMax(`${w}.text`, b.text, 150);
        break;
      case "section":
        textMax(`${w}.text`, b.text, 3000);
        if (!b.text && !b.fields) bad(`${w}: a section needs text or fields`);
        if (Array.isArray(b.fields)) {
          if (b.fields.length > 10) bad(`${w}.fields: ${b.fields.length}, at most 10`);
          b.fields.forEach((f, j) => textMax(`${w}.fields[${j}]`, f, 2000));
        }
        if (b.accessory) element(`${w}.accessory`, b.accessory);
        break;
      case "context":
        if (Array.isArray(b.elements)) {
          if (b.elements.length > 10) bad(`${w}.elements: ${b.elements.length}, at most 10`);
          b.elements.forEach((e, j) => {
            if (e && (e.type === "plain_text" || e.type === "mrkdwn")) textMax(`${w}.elements[${j}]`, e, 3000);
          });
        }
        break;
      case "actions":
        if (Array.isArray(b.elements)) {
          if (b.elements.length > 25) bad(`${w}.elements: ${b.elements.length}, at most 25`);
          b.elements.forEach((e, j) => element(`${w}.elements[${j}]`, e));
        }
        break;
      default:
        break;
    }
  });
}

// ---- Teams -----------------------------------------------------------------------------------

const require = createRequire(path.join(nm, "noop.js"));
// The package's `lib` build is ES modules with extensionless imports, which node cannot load;
// its `dist` build (UMD) loads in node, and parsing and validating need no DOM.
const AC = require("adaptivecards/dist/adaptivecards.js");

function checkTeams(p, bad) {
  if (p.type !== "message") bad(`type: ${JSON.stringify(p.type)}, must be "message"`);
  if (!Array.isArray(p.attachments) || p.attachments.length === 0) {
    bad("attachments: must be a non-empty array");
    return;
  }
  const size = Buffer.byteLength(JSON.stringify(p), "utf8");
  if (size > 28 * 1024) bad(`${size} bytes, Teams webhooks take at most 28 KB`);
  p.attachments.forEach((a, k) => {
    const w = `attachments[${k}]`;
    if (!a || typeof a !== "object") return bad(`${w}: not an object`);
    if (a.contentType !== "application/vnd.microsoft.card.adaptive")
      bad(`${w}.contentType: ${JSON.stringify(a.contentType)}, must be application/vnd.microsoft.card.adaptive`);
    if (a.contentUrl !== undefined && a.contentUrl !== null) bad(`${w}.contentUrl: must be null or absent`);
    const c = a.content;
    if (!c || typeof c !== "object") return bad(`${w}.content: not an object`);
    if (c.type !== "AdaptiveCard") bad(`${w}.content.type: must be "AdaptiveCard"`);
    if (typeof c.version !== "string") bad(`${w}.content.version: required`);

    const card = new AC.AdaptiveCard();
    const ctx = new AC.SerializationContext();
    try {
      card.parse(c, ctx);
    } catch (e) {
      return bad(`${w}.content: adaptivecards could not parse it: ${e.message}`);
    }
    for (let n = 0; n < ctx.eventCount; n++) {
      const e = ctx.getEventAt(n);
      bad(`${w}.content: adaptivecards ${AC.ValidationPhase[e.phase]}: ${AC.ValidationEvent[e.event]}: ${e.message}`);
    }
    for (const e of card.validateProperties().validationEvents) {
      const src = e.source && typeof e.source.getJsonTypeName === "function" ? ` (${e.source.getJsonTypeName()})` : "";
      bad(`${w}.content: adaptivecards ${AC.ValidationPhase[e.phase]}: ${AC.ValidationEvent[e.event]}${src}: ${e.message}`);
    }
    const walk = (v, where) => {
      if (Array.isArray(v)) return v.forEach((x, j) => walk(x, `${where}[${j}]`));
      if (!v || typeof v !== "object") return;
      if (v.type === "Action.OpenUrl" && !/^https?:\/\/[^\s]+$/.test(v.url ?? ""))
        bad(`${where}.url: ${JSON.stringify(v.url)} is not an absolute http(s) URL`);
      for (const [k2, x] of Object.entries(v)) walk(x, `${where}.${k2}`);
    };
    walk(c, `${w}.content`);
  });
}

items.forEach((it, i) => {
  if (!it || !it.payload || typeof it.payload !== "object") return;
  const bad = (msg) => violations[i].push(msg);
  if (it.kind === "slack") checkSlack(it.payload, bad);
  if (it.kind === "teams") checkTeams(it.payload, bad);
});

// ---- Report ----------------------------------------------------------------------------------

let failed = 0;
violations.forEach((v, i) => {
  if (v.length === 0) return;
  failed += 1;
  console.log(`${label(i)}:`);
  for (const msg of v) console.log(`  - ${msg}`);
});
const counts = (k) => items.filter((it) => it?.kind === k).length;
console.log(
  `chat payloads (${counts("slack")} slack, ${counts("teams")} teams): ${items.length - failed} passed, ${failed} failed`,
);
process.exit(failed ? 1 : 0);
