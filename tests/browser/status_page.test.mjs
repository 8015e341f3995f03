// The live status page in a real browser: Debian's chromium, driven by
// playwright-core, against a real kafka-lite (ephemeral ports, a temporary
// data dir). Records are produced and a consumer group commits with the
// real `rustlog` CLI while the page stays open; the test sees the numbers
// on the page change without a reload, the lag highlighted while it grows,
// read-only partitions highlighted, and "broker unreachable" once the broker
// is gone. The page may request nothing but its own server.
//
//   RUSTLOG_BIN_DIR   where kafka-lite and rustlog are (default: build/release)
//   CHROMIUM          the browser (default: /usr/bin/chromium)
//   RUSTLOG_SCREENSHOT  also write a PNG of the page here (docs/status-page.png)
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFile } from "node:child_process";
import { mkdtempSync, readFileSync, existsSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
const binDir = resolve(process.env.RUSTLOG_BIN_DIR || join(here, "../../build/release"));
const chromiumPath = process.env.CHROMIUM || "/usr/bin/chromium";
const WAIT_MS = 30000;  // generous: the machine may be busy; every wait polls a condition

const tmp = mkdtempSync(join(tmpdir(), "rustlog-browser-"));
let broker;        // the kafka-lite child process
let brokerAddr;    // 127.0.0.1:PORT
let base;          // http://127.0.0.1:MPORT
let context;       // the browser (a persistent context: its own fresh user-data-dir)
let page;
const foreignRequests = [];
let mainFrameNavigations = 0;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitFor(what, fn, timeout = WAIT_MS) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${what} (last: ${last})`);
    await sleep(100);
  }
}

function rustlog(args, input) {
  return new Promise((resolvePromise, reject) => {
    const child = execFile(join(binDir, "rustlog"), [...args, "--broker", brokerAddr], { timeout: WAIT_MS },
      (err, stdout, stderr) => (err ? reject(new Error(`rustlog ${args.join(" ")}: ${err.message}\n${stderr}`)) : resolvePromise(stdout)));
    if (input !== undefined) child.stdin.end(input);
    else child.stdin.end();
  });
}
const lines = (n, prefix) => Array.from({ length: n }, (_, i) => `${prefix}-${i}`).join("\n") + "\n";

// The text of a cell of the partitions or groups table.
async function cell(selector, field) {
  const el = await page.$(`${selector} [data-field="${field}"]`);
  return el ? (await el.textContent()).trim() : null;
}
const partitionRow = (topic, p) => `#partitions tr[data-topic="${topic}"][data-partition="${p}"]`;
const groupRow = (group, topic, p) => `#groups tr[data-group="${group}"][data-topic="${topic}"][data-partition="${p}"]`;
const polls = async () => Number(await page.evaluate(() => document.body.dataset.polls || 0));

before(async () => {
  for (const bin of ["kafka-lite", "rustlog"])
    assert.ok(existsSync(join(binDir, bin)), `${join(binDir, bin)} is missing: build the release preset first`);
  assert.ok(existsSync(chromiumPath), `${chromiumPath} is missing: install the Debian package chromium (scripts/packages/browser.txt)`);

  const portFile = join(tmp, "port"), mportFile = join(tmp, "mport");
  broker = spawn(join(binDir, "kafka-lite"), [
    "--data-dir", join(tmp, "data"), "--listen", "127.0.0.1:0", "--port-file", portFile,
    "--metrics-listen", "127.0.0.1:0", "--metrics-port-file", mportFile, "--flush", "always",
  ], { stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  broker.stdout.on("data", (d) => { log += d; });
  broker.stderr.on("data", (d) => { log += d; });
  broker.on("exit", (code, sig) => { log += `\n(kafka-lite exited: ${code ?? sig})\n`; });
  await waitFor("kafka-lite to write its port file\n" + log, () => existsSync(portFile) && readFileSync(portFile, "utf8").trim());
  brokerAddr = `127.0.0.1:${readFileSync(portFile, "utf8").trim()}`;
  base = `http://127.0.0.1:${readFileSync(mportFile, "utf8").trim()}`;

  await rustlog(["topic", "create", "orders", "--partitions", "3"]);
  await rustlog(["topic", "create", "payments"]);

  context = await chromium.launchPersistentContext(join(tmp, "chromium-profile"), {
    executablePath: chromiumPath,
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    viewport: { width: 1280, height: 760 },
    colorScheme: "light",
  });
  page = context.pages()[0] || await context.newPage();
  page.on("request", (r) => { if (!r.url().startsWith(base + "/")) foreignRequests.push(r.url()); });
  page.on("framenavigated", (f) => { if (f === page.mainFrame()) ++mainFrameNavigations; });
  await page.goto(base + "/");
});

after(async () => {
  if (context) await context.close();
  if (broker && broker.exitCode === null) broker.kill("SIGTERM");
  rmSync(tmp, { recursive: true, force: true });
});

test("the page shows the broker and its topics as served", async () => {
  await waitFor("the first poll", async () => (await polls()) >= 1);
  assert.equal(await page.textContent("#listen"), brokerAddr);
  assert.equal(await page.textContent("#flush"), "always");
  assert.match(await page.textContent("#version"), /^\d+\.\d+\.\d+/);
  for (const p of [0, 1, 2]) assert.equal(await cell(partitionRow("orders", p), "high_watermark"), "0");
  assert.equal(await cell(partitionRow("payments", 0), "high_watermark"), "0");
  assert.match(await page.textContent("#recovery"), /partitions opened in/);
  assert.match(await page.textContent("#live"), /^live/);
});

test("counts and lag change on the page without a reload", async () => {
  await page.evaluate(() => { window.__sameDocument = "yes"; });
  const pollsBefore = await polls();

  // 50 records into orders/0 and 20 into payments: the high watermarks move.
  await rustlog(["produce", "orders", "--partition", "0"], lines(50, "order"));
  await rustlog(["produce", "payments"], lines(20, "payment"));
  await waitFor("orders/0 high watermark 50", async () => (await cell(partitionRow("orders", 0), "high_watermark")) === "50");
  await waitFor("payments/0 high watermark 20", async () => (await cell(partitionRow("payments", 0), "records")) === "20");
  await waitFor("a produce rate on orders/0", async () => {
    const v = await cell(partitionRow("orders", 0), "records_in_per_sec");
    return v !== null && v !== "0";
  });

  // The group billing reads 40 of them and commits: lag 10.
  await rustlog(["consume", "orders", "--partition", "0", "--group", "billing", "--count", "40"]);
  await waitFor("billing's committed offset 40", async () => (await cell(groupRow("billing", "orders", 0), "committed")) === "40");
  assert.equal(await cell(groupRow("billing", "orders", 0), "lag"), "10");
  await waitFor("the lag highlight to clear", async () =>
    (await page.getAttribute(`${groupRow("billing", "orders", 0)} [data-field="lag"]`, "data-grew")) === "false");

  // New records while the group stands still: the lag grows and is highlighted.
  await rustlog(["produce", "orders", "--partition", "0"], lines(25, "more"));
  await waitFor("billing's lag 35", async () => (await cell(groupRow("billing", "orders", 0), "lag")) === "35");
  const lagCell = `${groupRow("billing", "orders", 0)} [data-field="lag"]`;
  assert.equal(await page.getAttribute(lagCell, "data-grew"), "true");
  assert.match(await page.getAttribute(lagCell, "class"), /\bgrew\b/);
  assert.equal(await cell(partitionRow("orders", 0), "high_watermark"), "75");

  if (process.env.RUSTLOG_SCREENSHOT) {
    await rustlog(["consume", "payments", "--group", "audit", "--count", "12"]);
    await waitFor("audit's commit", async () => (await cell(groupRow("audit", "payments", 0), "committed")) === "12");
    await rustlog(["produce", "orders", "--partition", "0"], lines(5, "late"));
    await waitFor("billing's lag 40", async () => (await cell(groupRow("billing", "orders", 0), "lag")) === "40");
    await page.screenshot({ path: process.env.RUSTLOG_SCREENSHOT, fullPage: true });
  }

  // The group catches up: lag 0, no highlight.
  await rustlog(["consume", "orders", "--partition", "0", "--group", "billing"]);
  await waitFor("billing's lag 0", async () => (await cell(groupRow("billing", "orders", 0), "lag")) === "0");

  // All of it in the same document: no navigation, no reload, and it kept polling.
  assert.equal(await page.evaluate(() => window.__sameDocument), "yes");
  assert.equal(mainFrameNavigations, 1);
  assert.ok((await polls()) > pollsBefore + 2, "the page polled /api/status repeatedly");
  assert.deepEqual(foreignRequests, []);
});

test("a read-only partition is highlighted", async () => {
  // No real broker can be made to hit a fatal I/O error on demand here, so
  // the test marks orders/1 read-only in the broker's real answer, on its way
  // to the page, and checks how the page shows it.
  await page.route(base + "/api/status", async (route) => {
    const res = await route.fetch();
    const doc = await res.json();
    const t = doc.topics.find((x) => x.name === "orders");
    t.partitions[1].read_only = true;
    doc.totals.read_only_partitions = 1;
    await route.fulfill({ response: res, json: doc });
  });
  await waitFor("orders/1 marked read-only", async () =>
    (await page.getAttribute(partitionRow("orders", 1), "data-read-only")) === "true");
  assert.match(await page.getAttribute(partitionRow("orders", 1), "class"), /\bro\b/);
  assert.match(await page.textContent(partitionRow("orders", 1)), /read-only/);
  assert.match(await page.getAttribute("#card-ro", "class"), /\bbad\b/);
  assert.equal(await page.textContent("#c-ro"), "1");
  assert.equal(await page.getAttribute(partitionRow("orders", 0), "data-read-only"), null);
  await page.unroute(base + "/api/status");
  await waitFor("the real state again", async () => (await page.getAttribute(partitionRow("orders", 1), "data-read-only")) === null);
  assert.doesNotMatch(await page.getAttribute("#card-ro", "class"), /\bbad\b/);
});

test("the page says so when the broker is gone, keeping the last numbers", async () => {
  const hwm = await cell(partitionRow("orders", 0), "high_watermark");
  assert.match(hwm, /^\d+$/);
  const exited = new Promise((r) => broker.once("exit", r));
  broker.kill("SIGTERM");
  await exited;
  await waitFor("'broker unreachable'", async () => /broker unreachable/.test(await page.textContent("#live")));
  assert.match(await page.getAttribute("#live", "class"), /\bdown\b/);
  assert.equal(await cell(partitionRow("orders", 0), "high_watermark"), hwm);
  assert.equal(mainFrameNavigations, 1);
});
