import { expect, test, type Page } from "@playwright/test";
import { DEMO_ADMIN, hydrated, logIn, pauseApplied, signUp, uniqueEmail } from "./helpers";

async function mailsTo(page: Page, email: string) {
  await page.goto(`/admin/outbox?to=${encodeURIComponent(email)}`);
  return page.getByTestId("mail");
}

test("an operator pauses a queue, sees a job wait, and resumes it", async ({ page, browser }) => {
  await logIn(page, DEMO_ADMIN);
  await page.goto("/admin");
  await hydrated(page);
  const email = page.getByTestId("queue").and(page.locator('[data-queue="email"]'));
  await email.getByTestId("queue-pause").click();
  await expect(email.getByTestId("paused")).toBeVisible();
  await expect(email.getByTestId("queue-resume")).toBeVisible();
  await pauseApplied(page, "email");

  try {
    // A sign-up queues a welcome mail: it waits on the paused queue.
    const newcomer = uniqueEmail("paused");
    const visitor = await (await browser.newContext()).newPage();
    await signUp(visitor, newcomer);
    await page.goto("/admin");
    await expect(email.getByTestId("waiting")).not.toHaveText("0");
    // A negative: the workers get two seconds in which they could wrongly send it.
    await page.waitForTimeout(2_000);
    await expect(await mailsTo(page, newcomer)).toHaveCount(0);

    await page.goto("/admin");
    await hydrated(page);
    await email.getByTestId("queue-resume").click();
    await expect(email.getByTestId("paused")).toHaveCount(0);
    await expect(async () => {
      await expect(await mailsTo(page, newcomer)).toHaveCount(1, { timeout: 1_000 });
    }).toPass({ timeout: 20_000 });
  } finally {
    // Whatever happened above, the queue runs again for the tests after this one.
    await page.request.post("/api/admin_queue_pause", {
      form: { queue: "email", action: "resume" },
      headers: { Origin: new URL(page.url()).origin },
    });
  }
  await page.goto("/admin/audit");
  await expect(page.getByTestId("audit").locator("tbody tr").first()).toContainText("queue.resume");
});

test("the overview charts render with data, without JavaScript too", async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto("/login");
  await page.getByLabel("E-mail").fill(DEMO_ADMIN.email);
  await page.locator("#password").fill(DEMO_ADMIN.password);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.goto("/admin?window=day");
  await expect(page.getByRole("heading", { name: "Operations" })).toBeVisible();
  // One chart per queue, and the webhooks'; the catalogue's sync at start-up sent events, and
  // the sign-ups of earlier tests sent mails.
  const charts = page.getByTestId("chart");
  expect(await charts.count()).toBeGreaterThan(5);
  await expect(charts.last().locator("rect:not([data-count='0'])").first()).toBeAttached();
  const email = page.getByTestId("queue").and(page.locator('[data-queue="email"]'));
  await expect(email.locator("rect.done:not([data-count='0'])").first()).toBeAttached();
  expect(await page.getByTestId("webhooks-received").textContent()).not.toBe("0");
  await expect(page.getByRole("combobox", { name: "Charts over the" })).toHaveValue("day");
});

test("live refresh shows a new account without a reload", async ({ page, browser }) => {
  await logIn(page, DEMO_ADMIN);
  await page.goto("/admin");
  await hydrated(page);
  await page.getByTestId("refresh").selectOption("5");
  await page.getByRole("button", { name: "Show" }).click();
  await expect(page).toHaveURL(/refresh=5/);
  await hydrated(page);
  const before = Number(await page.getByTestId("account-count").textContent());
  await signUp(await (await browser.newContext()).newPage(), uniqueEmail("refresh"));
  await expect(page.getByTestId("account-count")).toHaveText(String(before + 1), { timeout: 15_000 });
});

test("an admin runs a schedule now and reads how it ended", async ({ page }) => {
  await logIn(page, DEMO_ADMIN);
  await page.goto("/admin");
  await page.getByRole("navigation", { name: "Operations" }).getByRole("link", { name: "Schedules" }).click();
  await expect(page).toHaveURL(/\/admin\/schedules$/);
  await hydrated(page);
  const sweep = page.getByTestId("schedule").and(page.locator('[data-schedule="dispatch_sweep"]'));
  await expect(sweep.locator("code").nth(1)).toHaveText("*/30 * * * * *");
  await sweep.getByTestId("run-now").click();
  await expect(async () => {
    await page.goto("/admin/schedules");
    await expect(sweep.getByTestId("run").filter({ hasText: "run now by admin@example.com" })).toContainText("done in", {
      timeout: 1_000,
    });
  }).toPass({ timeout: 20_000 });
  await page.goto("/admin/nodes");
  await expect(page.getByTestId("node").first().getByTestId("liveness")).toHaveText("alive");
});
