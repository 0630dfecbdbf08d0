import { expect, test, type Browser, type Page } from "@playwright/test";
import { DEMO_ADMIN, fillCard, hydrated, logIn, pauseApplied, signUp, uniqueEmail } from "./helpers";

// An operator's day when Stripe had an outage: jobs that webhooks caused failed with Stripe's
// error; the operator finds them from the webhook, reads why, and retries them - one, or every
// job a filter matches after reading the dry-run count.
//
// The failures are real: the sandbox's simulated outage (switched on the overview, /admin) makes Stripe answer the
// server 503. A new card's `setup_intent.succeeded` event queues an `adopt_card` job on
// `billing.cards`, which calls Stripe; the queue is paused while the customer replaces the card
// and resumed once Stripe is down, so the job runs (and fails) only then.

const CARDS = "billing.cards";

async function queueAction(admin: Page, action: "pause" | "resume") {
  const answer = await admin.request.post("/api/admin_queue_pause", {
    form: { queue: CARDS, action },
    headers: { Origin: new URL(admin.url()).origin },
  });
  const text = await answer.text();
  // Already so (an earlier test stopped half-way) is fine.
  expect(answer.ok() || text.includes("WrongState"), text).toBeTruthy();
}

async function setOutage(admin: Page, on: boolean) {
  await admin.goto("/admin");
  await hydrated(admin);
  const isOn = admin.getByTestId("sandbox-outage-on");
  if ((await isOn.count()) > 0 !== on) {
    await admin.getByTestId("sandbox-outage").click();
  }
  await expect(isOn).toHaveCount(on ? 1 : 0);
}

/** A customer with Basic and a card, replacing that card `times` times; returns the SetupIntents. */
async function replaceCards(browser: Browser, times: number) {
  const customer = await (await browser.newContext()).newPage();
  await signUp(customer, uniqueEmail("outage"));
  await customer.goto("/account/plans");
  await hydrated(customer);
  await customer.getByTestId("subscribe-basic_monthly").click();
  await fillCard(customer, "4242 4242 4242 4242");
  await customer.getByTestId("pay").click();
  await expect(customer.getByTestId("payment-result")).toHaveAttribute("data-status", "active");
  const intents: string[] = [];
  for (let i = 0; i < times; i++) {
    await customer.goto("/account/payment-method");
    await hydrated(customer);
    await customer.getByTestId("replace-card").click();
    await fillCard(customer, i % 2 === 0 ? "5555 5555 5555 4444" : "4242 4242 4242 4242");
    await expect(customer.getByTestId("pay")).toBeEnabled();
    await customer.getByTestId("pay").click();
    await expect(customer).toHaveURL(/\/account\/payment-method\?setup_intent=seti_/);
    intents.push(new URL(customer.url()).searchParams.get("setup_intent")!);
  }
  await customer.context().close();
  return intents;
}

/**
 * Makes `times` adopt_card jobs fail on Stripe's outage: pauses their queue, has a customer
 * replace a card `times` times, takes Stripe down, resumes the queue and waits until the jobs
 * failed. Returns the SetupIntents; Stripe stays down.
 */
async function cardJobsFailDuringAnOutage(admin: Page, browser: Browser, times: number) {
  await queueAction(admin, "pause");
  await pauseApplied(admin, CARDS);
  const intents = await replaceCards(browser, times);
  await setOutage(admin, true);
  await queueAction(admin, "resume");
  await expect(async () => {
    await admin.goto(`/admin/jobs?queue=${CARDS}&state=Failed`);
    await expect(admin.getByTestId("jobs").locator("tbody tr")).toHaveCount(times, { timeout: 1_000 });
  }).toPass({ timeout: 20_000 });
  return intents;
}

/** Whatever happened, Stripe is back and the queue runs for the tests after this one. */
async function restore(admin: Page) {
  await queueAction(admin, "resume");
  await setOutage(admin, false);
}

test("an operator finds a job a webhook caused, reads why it failed, retries it and sees it succeed", async ({
  page,
  browser,
}) => {
  test.setTimeout(120_000);
  await logIn(page, DEMO_ADMIN);
  try {
    const [intent] = await cardJobsFailDuringAnOutage(page, browser, 1);

    // From the webhook Stripe sent for the new card to the job it caused.
    await page.goto("/admin/webhooks");
    await hydrated(page);
    const filters = page.getByTestId("webhook-filters");
    await filters.getByLabel("Type").fill("setup_intent.succeeded");
    await filters.getByLabel("Object").fill(intent);
    await filters.getByRole("button", { name: "Filter" }).click();
    await expect(page).toHaveURL(new RegExp(`object_id=${intent}`));
    const events = page.getByTestId("webhook-events").locator("tbody tr");
    await expect(events).toHaveCount(1);
    await expect(events).toContainText(/processed/i);
    await events.getByRole("link").click();
    await expect(page).toHaveURL(/\/admin\/webhooks\/evt_/);
    const event = await page.getByTestId("event-id").textContent();
    const caused = page.getByTestId("caused-job").filter({ hasText: CARDS });
    await expect(caused.getByTestId("caused-job-status")).toHaveText("Failed");
    await expect(caused.getByTestId("job-attempts")).toContainText("Stripe's API is unavailable");
    await caused.getByRole("link").first().click();

    // The job: why it failed, what caused it; Stripe is back, so "retry now".
    await expect(page).toHaveURL(/\/admin\/jobs\/.+/);
    const job = page.url();
    await expect(page.getByTestId("job-status")).toHaveText("Failed");
    await expect(page.getByTestId("job-cause")).toContainText(event!);
    await expect(page.getByTestId("job-arguments")).toContainText(intent);
    await expect(page.getByTestId("job-attempts").locator("tbody tr")).toHaveCount(1);
    await expect(page.getByTestId("job-attempts")).toContainText("Stripe's API is unavailable");

    await setOutage(page, false);
    await page.goto(job);
    await hydrated(page);
    await page.getByTestId("job-retry").click();
    await expect(async () => {
      await page.goto(job);
      await expect(page.getByTestId("job-status")).toHaveText("Done", { timeout: 1_000 });
    }).toPass({ timeout: 20_000 });
    // The failed attempt stays on record.
    await expect(page.getByTestId("job-attempts")).toContainText("Stripe's API is unavailable");

    await page.goto("/admin/audit");
    const audit = page.getByTestId("audit").locator("tbody tr");
    await expect(audit.nth(0)).toContainText("job.retry");
    await expect(audit.nth(1)).toContainText("sandbox.outage_off");
  } finally {
    await restore(page);
  }
});

test("an operator retries every failed job of a queue after reading the dry-run count", async ({ page, browser }) => {
  test.setTimeout(120_000);
  await logIn(page, DEMO_ADMIN);
  try {
    await cardJobsFailDuringAnOutage(page, browser, 2);
    await setOutage(page, false);

    await page.goto(`/admin/jobs?queue=${CARDS}&state=Failed`);
    await hydrated(page);
    await expect(page.getByTestId("jobs").locator("tbody tr")).toHaveCount(2);
    await page.getByTestId("bulk-retry").click();
    await expect(page).toHaveURL(/\/admin\/jobs\/bulk\?/);
    await expect(page.getByTestId("dry-run-count")).toContainText("This will retry 2 job(s) matching");
    await expect(page.getByTestId("dry-run-count")).toContainText(CARDS);
    await hydrated(page);
    await page.getByTestId("confirm-bulk").click();

    await expect(page).toHaveURL(/\/admin\/bulk\/[0-9A-Z]+$/);
    await expect(page.getByTestId("bulk-state")).toContainText("Finished", { timeout: 20_000 });
    await expect(page.getByTestId("bulk-done")).toHaveText("2");
    await expect(async () => {
      await page.goto(`/admin/jobs?queue=${CARDS}&state=Failed`);
      await expect(page.getByText("No jobs match.")).toBeVisible({ timeout: 1_000 });
    }).toPass({ timeout: 20_000 });
    await page.goto("/admin/audit");
    const entry = page.getByTestId("audit").locator("tbody tr").first();
    await expect(entry).toContainText("job.retry");
    await expect(entry).toContainText(CARDS);
  } finally {
    await restore(page);
  }
});
