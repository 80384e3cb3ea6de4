// End-to-end test of renmai's pages in real headless Chromium (Debian's
// /usr/bin/chromium, driven by playwright-core; no browser download).
//
//   node tests/e2e/e2e.mjs                  the test: starts renmai --demo on
//                                           a free port with a fresh db
//   node tests/e2e/e2e.mjs --bench URL ACC  time the map of account ACC on a
//                                           running server (see README)
//
// RENMAI_BIN picks the binary (default: $CARGO_TARGET_DIR or target, debug).
// The pages need a sign-in: the test reads the demo users' passwords from
// the server's stderr; --bench signs in as RENMAI_USER / RENMAI_PASSWORD.
// RENMAI_SKIP_BROWSER=1 skips (local runs only); a missing Chromium fails.
// Screenshots go to test-output/.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
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

/** Signs in through the login form; the page keeps the session cookie. */
async function login(page, base, name, password) {
  await page.goto(`${base}/login`);
  await page.locator("#name").fill(name);
  await page.locator("#password").fill(password);
  await page.locator("#login button[type=submit]").click();
  await page.waitForURL((u) => !u.pathname.startsWith("/login"));
}

/** Starts renmai with stderr copied through and kept, to read what it prints. */
function start(args, env = {}) {
  const child = spawn(bin, args, { stdio: ["ignore", "inherit", "pipe"], env: { ...process.env, ...env } });
  child.log = "";
  child.stderr.on("data", (d) => { child.log += d; process.stderr.write(d); });
  return child;
}

/** A demo user's password as `serve --demo` printed it. */
async function demoPassword(server, name, ms = 30000) {
  const until = Date.now() + ms;
  const re = new RegExp(`^\\s+${name}\\s+\\S+\\s+password (\\S+)`, "m");
  while (Date.now() < until) {
    const m = server.log.match(re);
    if (m) return m[1];
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the server printed no password for ${name}`);
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
  await login(page, base, process.env.RENMAI_USER || "admin", process.env.RENMAI_PASSWORD || "");
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

/** Clicks a node (by id, or the first stakeholder) where it is drawn; works
 *  with either renderer (map.js's renmaiMapLocate centres it first). */
async function clickNode(page, id) {
  const at = await page.evaluate((id) => window.renmaiMapLocate(id), id);
  await page.mouse.click(at.x, at.y);
  await page.waitForFunction(() => document.querySelector("#panel h2")?.textContent.length > 0, null, { timeout: 5000 });
  return at.id;
}

/** Writes a CSV bundle with one large account (517 people in a five-level
 *  org chart, influences, three of our sellers with meetings) so the map's
 *  canvas renderer, used above 300 people, runs here too. */
function largeBundle(dir) {
  const first = ["Ana", "Ben", "Chen", "Dana", "Emre", "Fatima", "Goran", "Hana", "Ivo", "Jia", "Kofi", "Lena"];
  const last = ["Berg", "Costa", "Dahl", "Eze", "Fox", "Gupta", "Holm", "Ito", "Jung", "Kaya", "Lund", "Mora"];
  const people = [["person_id", "org_id", "name", "title", "level", "department", "role", "reports_to"]];
  const add = (id, title, level, dept, mgr) => {
    const k = people.length - 1;
    people.push([id, "big", `${first[k % 12]} ${last[Math.floor(k / 12) % 12]} ${k}`, title, level, dept, "none", mgr]);
  };
  add("bg-0", "Chief Executive Officer", 1, "Executive", "");
  let n = 1;
  const depts = ["Finance", "IT", "Operations", "Sales", "R&D", "HR"];
  depts.forEach((d, v) => {
    const vp = `bg-${n++}`; add(vp, `VP ${d}`, 2, d, "bg-0");
    for (let i = 0; i < 5; i++) {
      const dir = `bg-${n++}`; add(dir, `Director ${d} ${i + 1}`, 3, d, vp);
      for (let j = 0; j < 4; j++) {
        const mgr = `bg-${n++}`; add(mgr, `Manager ${d}`, 4, d, dir);
        for (let s = 0; s < 3; s++) add(`bg-${n++}`, `Analyst ${d}`, 5, d, mgr);
      }
    }
    void v;
  });
  for (const [id, name] of [["bs-1", "Sam Seller"], ["bs-2", "Pia Presales"], ["bs-3", "Eli Exec"]]) people.push([id, "ours", name, "Account Executive", 3, "Sales", "none", ""]);
  const inf = [["influencer_id", "influenced_id", "kind", "strength"]];
  for (let i = 0; i < 80; i++) inf.push([`bg-${(i * 37) % n}`, `bg-${(i * 53 + 11) % n}`, "former_colleague", ((i % 9) + 1) / 10]);
  const ix = [["interaction_id", "from_person", "to_person", "kind", "timestamp", "direction"]];
  const day = 86400000;
  for (let i = 0; i < 60; i++) {
    const when = new Date(Date.now() - (i % 20 + 1) * day).toISOString().slice(0, 19) + "Z";
    ix.push([i + 1, `bs-${(i % 3) + 1}`, `bg-${(i * 7) % 40}`, "meeting", when, "outbound"]);
  }
  const csv = (rows) => rows.map((r) => r.join(",")).join("\n") + "\n";
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "organizations.csv"), csv([["org_id", "name", "industry", "region", "is_ours"], ["ours", "Our Company", "Software", "EMEA", 1], ["big", "Grossfeld Industries", "Manufacturing", "EMEA", 0]]));
  writeFileSync(join(dir, "people.csv"), csv(people));
  writeFileSync(join(dir, "account_team.csv"), csv([["org_id", "person_id", "team_role"], ["big", "bs-1", "account_executive"], ["big", "bs-2", "solutions_engineer"], ["big", "bs-3", "executive_sponsor"]]));
  writeFileSync(join(dir, "influences.csv"), csv(inf));
  writeFileSync(join(dir, "interactions.csv"), csv(ix));
  return n;
}

const bin = process.env.RENMAI_BIN || join(process.env.CARGO_TARGET_DIR || join(root, "target"), "debug", "renmai");
if (!existsSync(bin)) {
  console.error(`e2e: FAILED: no renmai binary at ${bin} (cargo build first)`);
  process.exit(1);
}
const dir = mkdtempSync(join(tmpdir(), "renmai-e2e-"));
const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const server = start(["--db", join(dir, "e2e.db"), "serve", "--demo", "--addr", `127.0.0.1:${port}`]);
// A second server with one large account, for the canvas renderer.
const bigPeople = largeBundle(join(dir, "big"));
const imported = spawnSync(bin, ["--quiet", "--db", join(dir, "big.db"), "import", join(dir, "big")], { encoding: "utf8" });
if (imported.status !== 0) {
  console.error(`e2e: FAILED: importing the large account: ${imported.stderr}`);
  server.kill();
  process.exit(1);
}
const bigPort = await freePort();
const bigBase = `http://127.0.0.1:${bigPort}`;
// Without --demo the first start creates the admin with this password.
const bigPassword = "e2e-admin-password";
const bigServer = start(["--db", join(dir, "big.db"), "serve", "--addr", `127.0.0.1:${bigPort}`], { RENMAI_ADMIN_PASSWORD: bigPassword });
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

  // Signed out, every page leads to the login form; a seller sees only
  // their accounts; then the admin signs in for the rest.
  await page.goto(`${base}/accounts/acc-hartmann`);
  assert.match(new URL(page.url()).pathname, /^\/login$/);
  await login(page, base, "sofia", await demoPassword(server, "sofia"));
  await page.goto(`${base}/`);
  assert.equal(await page.locator("#accounts tbody tr").count(), 2, "sofia sees her two accounts");
  await page.goto(`${base}/logout`);
  await page.locator("#logout button[type=submit]").click();
  await page.waitForURL(/\/login$/);
  await login(page, base, "admin", await demoPassword(server, "admin"));

  // Overview.
  await page.goto(`${base}/`);
  assert.equal(await page.locator("#accounts tbody tr").count(), 4);
  await page.locator("#accounts th", { hasText: "Relationship index" }).click();
  await page.screenshot({ path: join(out, "e2e-index.png"), fullPage: true });

  // The map: every stakeholder of the JSON is drawn.
  const json = await (await page.request.get(`${base}/accounts/acc-hartmann/map.json`)).json();
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

  // A large account: drawn on the canvas (no Cytoscape on the page), every
  // stakeholder of the JSON drawn, clicks fill the panel, our sellers are
  // hidden (not clickable) until shown, the wheel zooms, paths light up.
  await waitFor(`${bigBase}/healthz`, 30000);
  await login(page, bigBase, "admin", bigPassword);
  const bigJson = await (await page.request.get(`${bigBase}/accounts/big/map.json`)).json();
  assert.equal(bigJson.nodes.filter((n) => !n.ours).length, bigPeople);
  const big = await openMap(page, `${bigBase}/accounts/big`);
  assert.equal(big.rendered, bigPeople, "rendered nodes match map.json (canvas)");
  assert.equal(await page.evaluate(() => typeof window.cytoscape), "undefined", "no Cytoscape on a large account's page");
  assert.ok(await page.evaluate(() => window.renmaiMap.inked()) > 2000, "the canvas shows the map");
  console.log(`e2e: large map drew ${big.rendered} stakeholders on the canvas, interactive after ${big.ready} ms`);
  await page.screenshot({ path: join(out, "e2e-bigmap.png") });
  await clickNode(page, "bg-1");
  assert.match(await page.locator("#panel").innerText(), /VP Finance/);
  await clickNode(page, "bg-40");
  assert.match(await page.locator("#panel h2").innerText(), /\b40$/);
  const seller = await page.evaluate(() => window.renmaiMapLocate("bs-1"));
  await page.mouse.click(seller.x, seller.y);
  await page.waitForTimeout(200);
  assert.doesNotMatch(await page.locator("#panel").innerText(), /Sam Seller/, "a hidden seller is not clickable");
  await page.locator("#show-ours").check();
  await clickNode(page, "bs-1");
  assert.match(await page.locator("#panel").innerText(), /Sam Seller[\s\S]*Our team/);
  const z0 = await page.evaluate(() => window.renmaiMap.zoom());
  const mb = await page.locator("#map").boundingBox();
  await page.mouse.move(mb.x + mb.width / 2, mb.y + mb.height / 2);
  await page.mouse.wheel(0, -400);
  await page.waitForFunction((z0) => window.renmaiMap.zoom() > z0, z0, { timeout: 5000 });
  await page.screenshot({ path: join(out, "e2e-bigmap-zoomed.png") });
  await page.goto(`${bigBase}/accounts/big/paths?to=bg-0&k=2`);
  await page.waitForSelector("#map[data-ready='1']", { timeout: 30000 });
  const bigLit = await page.evaluate(() => window.renmaiMap.lit());
  assert.ok(bigLit >= 2, `path nodes highlighted on the canvas (${bigLit})`);
  assert.ok(await page.evaluate(() => window.renmaiMap.inked()) > 2000, "the canvas shows the path");
  await page.screenshot({ path: join(out, "e2e-bigmap-paths.png"), fullPage: true });

  // Cookies are per host, not per port: the big server's session replaced
  // the demo server's one.
  await login(page, base, "admin", await demoPassword(server, "admin"));
  for (const [path, name] of [["/accounts/acc-lumen/coverage", "coverage"], ["/coach", "coach"]]) {
    await page.goto(base + path);
    await page.screenshot({ path: join(out, `e2e-${name}.png`), fullPage: true });
  }
  // Deals, reports, service leads, sales support and patterns (issue 9):
  // each page renders what it names, and the deal's chain can be moved
  // back in time from its stage timeline.
  for (const [path, name, text] of [
    ["/deals", "deals", /Meridian/],
    ["/deals/opp-mb-3", "deal", /Stage timeline[\s\S]*Decision chain as of/],
    ["/reports", "reports", /Reports/],
    ["/leads", "leads", /Leads from service[\s\S]*Lumen Health Group/],
    ["/support", "support", /Sales support load[\s\S]*presales/i],
    ["/accounts/acc-meridian/patterns", "patterns", /Time per stage/],
  ]) {
    await page.goto(base + path);
    assert.match(await page.locator("main").innerText(), text, `${path} shows ${text}`);
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
  bigServer.kill();
  rmSync(dir, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
