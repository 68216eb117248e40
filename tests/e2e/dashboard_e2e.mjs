// Drives the dashboard in headless Chromium (playwright-core, Debian's chromium).
//   node dashboard_e2e.mjs --url URL --chromium PATH --node-modules DIR
//        (--expect-empty | --stats stats.json --screenshot out.png)
// --expect-empty: the empty state is shown and the request count reads 0.
// Otherwise: waits for both traffic charts and the crossover, checks that the
// request count and the spend shown equal `switchyard ledger stats --json`'s
// total, that the charts have bars summing to the request count, that the
// tasks, latency and recent-request tables have rows, then saves a full-page
// screenshot. Exits 1 with one line per failed check.
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import path from "node:path";

const args = {};
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i];
  if (!a.startsWith("--")) continue;
  const next = process.argv[i + 1];
  if (next === undefined || next.startsWith("--")) args[a.slice(2)] = true;
  else { args[a.slice(2)] = next; i++; }
}
const require = createRequire(path.join(path.resolve(args["node-modules"]), "index.js"));
const { chromium } = require("playwright-core");

const failures = [];
function check(ok, what) { if (!ok) failures.push(what); }

const browser = await chromium.launch({
  executablePath: args.chromium,
  headless: true,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
});
try {
  const page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  const external = [];
  page.on("request", (r) => { if (!r.url().startsWith(args.url)) external.push(r.url()); });
  await page.goto(args.url, { waitUntil: "load" });
  await page.waitForSelector("body[data-loaded='1']", { timeout: 30000 });

  if (args["expect-empty"]) {
    check(await page.isVisible("#empty"), "the empty state is not shown before any traffic");
    const n = await page.getAttribute("#kpi-requests", "data-value");
    check(n === "0", `requests shown before any traffic: ${n}, want 0`);
  } else {
    await page.waitForSelector("#chart-requests[data-ready='1']", { timeout: 30000 });
    await page.waitForSelector("#chart-spend[data-ready='1']", { timeout: 30000 });
    await page.waitForSelector("#crossover-chart[data-ready='1']", { timeout: 30000 });
    const stats = JSON.parse(readFileSync(args.stats, "utf8")).total;

    const requests = Number(await page.getAttribute("#kpi-requests", "data-value"));
    const requestsText = (await page.textContent("#kpi-requests")).trim();
    check(requests === stats.requests,
          `requests shown ${requests}, ledger stats ${stats.requests}`);
    check(requestsText === stats.requests.toLocaleString("en-US"),
          `requests text "${requestsText}", ledger stats ${stats.requests}`);

    const spend = Number(await page.getAttribute("#kpi-spend", "data-value"));
    const spendText = (await page.textContent("#kpi-spend")).trim();
    check(Math.abs(spend - stats.cost_usd) <= 1e-9 * Math.max(1, stats.cost_usd),
          `spend shown ${spend}, ledger stats ${stats.cost_usd}`);
    // The page's own formatting of the figure it shows (equal to the ledger's
    // within float noise, checked above). Not of the ledger's figure itself:
    // the two can differ in the 18th digit, and a total that lands on a
    // rounding boundary (0.0012755) then reads $0.001275 against $0.001276.
    const expectedText = await page.evaluate((v) => usd(v), spend);
    check(spendText === expectedText, `spend text "${spendText}", want "${expectedText}"`);
    check(stats.cost_usd > 0, "the workload cost nothing: the spend check proves little");

    check(await page.isHidden("#empty"), "the empty state is shown although there is traffic");
    const bars = await page.locator("#chart-requests rect").count();
    check(bars > 0, "the requests chart has no bars");
    const total = Number(await page.getAttribute("#chart-requests", "data-total"));
    check(total === stats.requests, `requests chart sums to ${total}, ledger ${stats.requests}`);
    check(await page.locator("#chart-spend rect").count() > 0, "the spend chart has no bars");
    check(await page.locator("#crossover-chart svg #api-line").count() === 1,
          "the crossover chart has no API line");
    check(await page.locator("#crossover-chart svg #self-hosted-line").count() === 1,
          "the crossover chart has no self-hosting line");
    const taskRow = (await page.textContent("#tasks tbody")) || "";
    check(taskRow.includes("tickets"), "the tasks table does not list the task \"tickets\"");
    check(await page.locator("#latency tbody tr").count() >= 2, "the latency table is empty");
    check(await page.locator("#recent tbody tr").count() === 50,
          "the recent requests table does not show 50 rows");
    check((await page.textContent("#providers tbody")).includes("teacher"),
          "provider health does not list the teacher");
    await page.screenshot({ path: args.screenshot, fullPage: true });
  }
  check(errors.length === 0, `page errors: ${errors.join(" | ")}`);
  check(external.length === 0, `requests outside the gateway: ${external.join(", ")}`);
} finally {
  await browser.close();
}
if (failures.length) {
  for (const f of failures) console.error(`dashboard e2e: ${f}`);
  process.exit(1);
}
console.log(`dashboard e2e: ${args["expect-empty"] ? "empty state" : "figures"} ok`);
