// Boot UI browser test: Debian's Chromium driven by playwright-core (no browser download).
// Env: CAIRN_URL (a fresh, unprovisioned `provision serve --activator none`),
//      ARTIFACTS (screenshots), CHROMIUM (default /usr/bin/chromium).
import { chromium } from "playwright-core";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import assert from "node:assert/strict";

const base = process.env.CAIRN_URL;
if (!base) throw new Error("CAIRN_URL is not set");
const artifacts = process.env.ARTIFACTS || "artifacts/browser";
mkdirSync(artifacts, { recursive: true });

const VALID = `# Boot UI test config
version = 1

[users.admin]
isAdmin = true
ssh_key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINMeyLr+EOiFUGkNDE86YOpdLvmMSDdge2ci2auycMLj ed25519@fixture"

[activation]
required = ["web"]

[containers.container.web]
privileged = false

[containers.container.web.Container]
Image = "docker.io/library/nginx:1.27"
PublishPort = "8080:80"
`;
// Line 10 has an unknown key: the diagnostic must sit right under it.
const INVALID = VALID.replace('required = ["web"]', 'required = ["web"]\nrequird = ["typo"]');

const results = [];
async function step(name, fn) {
  try {
    await fn();
    results.push([name, true]);
    console.log(`ok   ${name}`);
  } catch (e) {
    results.push([name, false]);
    console.log(`FAIL ${name}\n     ${String(e && e.stack || e).split("\n").join("\n     ")}`);
  }
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run"],
});
const offline = []; // any request leaving the device would be recorded here
try {
  const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
  const desktop = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  for (const ctx of [phone, desktop]) {
    ctx.on("request", (r) => { if (!r.url().startsWith(base)) offline.push(r.url()); });
  }
  const page = await desktop.newPage();
  const sse = []; // event-stream requests the job page makes
  page.on("request", (r) => { if (/\/api\/jobs\/[0-9a-f]{32}\/events$/.test(r.url())) sse.push(r.url()); });
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  // Responses with the 4xx statuses this test provokes on purpose are logged by Chromium
  // as "Failed to load resource"; anything else on the console is a real error.
  page.on("console", (m) => {
    if (m.type() === "error" && !/^Failed to load resource: the server responded with a status of (403|404|422)/.test(m.text())) errors.push(m.text());
  });

  await step("setup page renders on a phone and is responsive", async () => {
    const p = await phone.newPage();
    const r = await p.goto(base + "/");
    assert.equal(r.status(), 200);
    await p.screenshot({ path: join(artifacts, "01-phone-form.png"), fullPage: true });
    const overflow = await p.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `horizontal overflow of ${overflow}px on a phone`);
    const token = await p.getAttribute("input[name=token]", "value");
    assert.match(token, /^[0-9a-f]{64}$/);
    await p.close();
  });

  await step("an invalid config shows its diagnostic under the offending line", async () => {
    await page.goto(base + "/");
    await page.screenshot({ path: join(artifacts, "02-desktop-form.png"), fullPage: true });
    await page.fill("#config", INVALID);
    await Promise.all([page.waitForNavigation(), page.click("#apply")]);
    const diag = page.locator(".diag.error").first();
    await diag.waitFor();
    const text = await diag.textContent();
    assert.match(text, /requird/);
    assert.equal(await diag.getAttribute("data-line"), "10");
    // The diagnostic comes right after line 10 of the source view.
    const prev = await diag.evaluate((el) => el.previousElementSibling && el.previousElementSibling.id);
    assert.equal(prev, "L10");
    assert.match(await page.textContent("#banner"), /error/);
    // The pasted text is kept for fixing.
    assert.equal(await page.inputValue("#config"), INVALID);
    await page.screenshot({ path: join(artifacts, "03-invalid-diagnostics.png"), fullPage: true });
  });

  await step("a form POST without the bootstrap token is refused", async () => {
    const status = await page.evaluate(async () => {
      const fd = new FormData();
      fd.append("token", "0".repeat(64));
      fd.append("action", "validate");
      fd.append("config", "version = 1\n");
      return (await fetch("/ui/apply", { method: "POST", body: fd })).status;
    });
    assert.equal(status, 403);
  });

  await step("uploading a valid config applies it with live progress to success", async () => {
    await page.goto(base + "/");
    await page.setInputFiles("#file", { name: "config.toml", mimeType: "application/toml", buffer: Buffer.from(VALID) });
    await Promise.all([page.waitForURL(/\/ui\/jobs\/[0-9a-f]{32}$/), page.click("#apply")]);
    await page.screenshot({ path: join(artifacts, "04-progress.png"), fullPage: true });
    const result = page.locator("#result-ok, #result-failed");
    await result.waitFor({ timeout: 60000 });
    await page.screenshot({ path: join(artifacts, "05-result.png"), fullPage: true });
    assert.equal(await result.getAttribute("id"), "result-ok", await result.textContent());
    assert.equal(await page.textContent("#state"), "succeeded");
    const steps = await page.locator("#steps li").count();
    assert.ok(steps >= 2, `only ${steps} progress steps shown`);
    assert.match(await result.textContent(), /Generation \d+ is active/);
    assert.match(await result.locator("a").getAttribute("href"), /^http:\/\//);
    assert.equal(sse.length, 1, "the job page follows the job over SSE");
  });

  await step("the setup page is gone once provisioned", async () => {
    const r = await page.goto(base + "/");
    assert.equal(r.status(), 404);
    const p = await phone.newPage();
    const r2 = await p.goto(base + "/ui/assets/style.css");
    assert.equal(r2.status(), 404);
    await p.close();
  });

  await step("no page errors and no request left the device", async () => {
    assert.deepEqual(errors, []);
    assert.deepEqual(offline, []);
  });
} finally {
  await browser.close();
}

const failed = results.filter(([, ok]) => !ok).length;
writeFileSync(join(artifacts, "results.json"), JSON.stringify(results, null, 2));
console.log(`browser: ${results.length - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
