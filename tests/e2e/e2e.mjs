// End-to-end test of renmai's pages in real headless Chromium (Debian's
// /usr/bin/chromium, driven by playwright-core; no browser download).
//
//   node tests/e2e/e2e.mjs                  the test: starts renmai --demo on
//                                           a free port with a fresh db
//   node tests/e2e/e2e.mjs --bench URL ACC  time the map of account ACC on a
//                                           running server (see README)
//
// RENMAI_BIN picks the binary (default: $CARGO_TARGET_DIR or target, debug).
// RENMAI_SKIP_BROWSER=1 skips (local runs only); a missing Chromium fails.
// Screenshots go to test-output/.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const out = join(root, "test-output");
const CHROMIUM = process.env.RENMAI_CHROMIUM || "/usr/bin/chromium";
const FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync"];

if (process.env.RENMAI_SKIP_BROWSER === "1") {
  console.log("e2e: skipped (RENMAI_SKIP_BROWSER=1)");
  process.exit(0);
}
if (!existsSync(CHROMIUM)) {
  console.error(`e2e: FAILED: no Chromium at ${CHROMIUM}; tests/all.sh installs Debian's chromium and chromium-driver`);
  process.exit(1);
}
const { chromium } = await import("playwright-core");
mkdirSync(out, { recursive: true });

function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.on("error", fail);
    s.listen(0, "127.0.0.1", () => { const p = s.address().port; s.close(() => ok(p)); });
  });
}

async function waitFor(url, ms) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    try { if ((await fetch(url)).ok) return; } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not answer within ${ms} ms`);
}

async function launch() {
  return chromium.launch({ executablePath: CHROMIUM, args: FLAGS.slice(1), headless: true });
}

/** Opens a map page and waits until the graph is drawn and clickable. */
async function openMap(page, url) {
  await page.goto(url);
  await page.waitForSelector("#map[data-ready='1']", { timeout: 30000 });
  return page.$eval("#map", (m) => ({
    ready: Number(m.dataset.readyMs), rendered: Number(m.dataset.rendered), nodes: Number(m.dataset.nodes),
    fetched: Number(m.dataset.fetchedMs), drawn: Number(m.dataset.drawnMs),
    dcl: Math.round(performance.getEntriesByType("navigation")[0].domContentLoadedEventEnd),
  }));
}

if (process.argv[2] === "--bench") {
  const [base, acc] = process.argv.slice(3);
  const browser = await launch();
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const runs = [];
  for (let i = 0; i < 5; i++) {
    const r = await openMap(page, `${base}/accounts/${encodeURIComponent(acc)}`);
    // Interactive: a click on a node fills the panel.
    await clickNode(page, null);
    runs.push(r.ready);
    console.log(`bench: run ${i + 1}: DOMContentLoaded ${r.dcl} ms, JSON ${r.fetched} ms, drawn ${r.drawn} ms, interactive ${r.ready} ms`);
    if (i === 0) console.log(`bench: ${r.rendered} stakeholders drawn`);
  }
  await page.screenshot({ path: join(out, "bench-map.png") });
  await browser.close();
  runs.sort((a, b) => a - b);
  console.log(`bench: map interactive after ${runs.join(", ")} ms (median ${runs[2]} ms)`);
  process.exit(0);
}

/** Clicks a node (by id, or the first stakeholder) where it is drawn. */
async function clickNode(page, id) {
  const at = await page.evaluate((id) => {
    const cy = window.renmaiMap;
    const n = id ? cy.getElementById(id) : cy.nodes(".them").first();
    cy.center(n);
    const p = n.renderedPosition();
    const box = cy.container().getBoundingClientRect();
    return { x: box.left + p.x, y: box.top + p.y, id: n.id() };
  }, id);
  await page.mouse.click(at.x, at.y);
  await page.waitForFunction((id) => document.querySelector("#panel h2")?.textContent.length > 0, at.id, { timeout: 5000 });
  return at.id;
}

const bin = process.env.RENMAI_BIN || join(process.env.CARGO_TARGET_DIR || join(root, "target"), "debug", "renmai");
if (!existsSync(bin)) {
  console.error(`e2e: FAILED: no renmai binary at ${bin} (cargo build first)`);
  process.exit(1);
}
const dir = mkdtempSync(join(tmpdir(), "renmai-e2e-"));
const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const server = spawn(bin, ["--db", join(dir, "e2e.db"), "serve", "--demo", "--addr", `127.0.0.1:${port}`], { stdio: ["ignore", "inherit", "inherit"] });
let browser;
let failed = false;
try {
  await waitFor(`${base}/healthz`, 30000);
  browser = await launch();
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  page.on("response", (r) => { if (r.status() >= 400 && !r.url().includes("/people/hm-001/")) errors.push(`${r.status()} ${r.url()}`); });

  // Overview.
  await page.goto(`${base}/`);
  assert.equal(await page.locator("#accounts tbody tr").count(), 4);
  await page.locator("#accounts th", { hasText: "Relationship index" }).click();
  await page.screenshot({ path: join(out, "e2e-index.png"), fullPage: true });

  // The map: every stakeholder of the JSON is drawn.
  const json = await (await fetch(`${base}/accounts/acc-hartmann/map.json`)).json();
  const expected = json.nodes.filter((n) => !n.ours).length;
  const m = await openMap(page, `${base}/accounts/acc-hartmann`);
  assert.equal(m.rendered, expected, "rendered nodes match map.json");
  assert.equal(await page.locator("#stakeholder-table tbody tr").count(), Math.min(expected, 200), "the table lists them too");
  console.log(`e2e: map drew ${m.rendered} stakeholders, interactive after ${m.ready} ms`);
  await page.screenshot({ path: join(out, "e2e-map.png") });

  // Our sellers toggle on.
  const hiddenOurs = await page.evaluate(() => window.renmaiMap.nodes(".ours:visible").length);
  await page.locator("#show-ours").check();
  const shownOurs = await page.evaluate(() => window.renmaiMap.nodes(".ours:visible").length);
  assert.equal(hiddenOurs, 0);
  assert.ok(shownOurs > 0, "our sellers show when toggled");

  // Click Birgit Schulz: the side panel explains our closeness.
  await clickNode(page, "hm-001");
  const panel = await page.locator("#panel").innerText();
  assert.match(panel, /Birgit Schulz/);
  assert.match(panel, /Best connector\s+Daniel Okafor/);
  assert.match(panel, /interaction/);
  await page.screenshot({ path: join(out, "e2e-map-panel.png") });

  // Log a meeting on her page: the tie's score rises.
  await page.goto(`${base}/people/hm-001`);
  const score = async () => parseFloat(await page.locator("#ties tbody tr", { hasText: "Daniel Okafor" }).locator(".score").innerText());
  const before = await score();
  await page.locator("#kind").selectOption("meeting");
  await page.locator("input[name=ours][value=nw-02]").check();
  await page.locator("#log-interaction button[type=submit]").click();
  await page.waitForURL(/saved=interaction/);
  const after = await score();
  console.log(`e2e: Daniel Okafor's tie to Birgit Schulz ${before}% -> ${after}%`);
  assert.ok(after > before, `the tie rose (${before} -> ${after})`);
  await page.screenshot({ path: join(out, "e2e-person.png"), fullPage: true });

  // Path explorer: choose the target, see the paths highlighted on the map.
  await page.goto(`${base}/accounts/acc-hartmann/paths`);
  await page.locator("select[name=to]").selectOption("hm-001");
  await page.locator("input[name=k]").fill("3");
  await page.locator("form.filters button[type=submit]").click();
  await page.waitForSelector("#path-list");
  const paths = await page.locator("#path-list > li").count();
  assert.ok(paths >= 1 && paths <= 3, `1..3 paths, got ${paths}`);
  assert.match(await page.locator("#path-list").innerText(), /Best path/);
  await page.waitForSelector("#map[data-ready='1']", { timeout: 30000 });
  const lit = await page.evaluate(() => window.renmaiMap.nodes(".onpath:visible").length);
  assert.ok(lit >= 2, `path nodes highlighted (${lit})`);
  await page.screenshot({ path: join(out, "e2e-paths.png"), fullPage: true });

  for (const [path, name] of [["/accounts/acc-lumen/coverage", "coverage"], ["/coach", "coach"]]) {
    await page.goto(base + path);
    await page.screenshot({ path: join(out, `e2e-${name}.png`), fullPage: true });
  }
  assert.deepEqual(errors, [], "no script errors");
  console.log("e2e: ok");
} catch (e) {
  failed = true;
  console.error("e2e: FAILED:", e);
} finally {
  if (browser) await browser.close();
  server.kill();
  rmSync(dir, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
