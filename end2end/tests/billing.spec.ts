import { expect, test, type Page } from "@playwright/test";
import { DEMO_ADMIN, fillCard, hydrated, logIn, signUp, uniqueEmail } from "./helpers";

// The customer's billing flow in Chromium, through the sandbox's Stripe.js stand-in: subscribe,
// 3-D Secure completed and failed, a declined card, a custom domain with the add-on, monthly to
// yearly after the preview, cancel at period end and resume, a new card, and a renewal whose
// bank asks for the customer (the operator moves the sandbox clock; the mail's link completes it).

/** Opens the plans and starts `lookupKey`; the Payment Element is then on the page. */
async function startPlan(page: Page, lookupKey: string) {
  await page.goto("/account/plans");
  await hydrated(page);
  await page.getByTestId(`subscribe-${lookupKey}`).click();
  await expect(page.getByTestId("checkout")).toBeVisible();
}

async function pay(page: Page) {
  await expect(page.getByTestId("pay")).toBeEnabled();
  await page.getByTestId("pay").click();
}

async function subscribeToBasic(page: Page) {
  await startPlan(page, "basic_monthly");
  await fillCard(page, "4242 4242 4242 4242");
  await pay(page);
  await expect(page).toHaveURL(/\/account\/billing\/result\?/);
  await expect(page.getByTestId("payment-result")).toHaveAttribute("data-status", "active");
  await expect(page.getByTestId("payment-result")).toContainText("Basic is active");
}

test("subscribe to Basic with 4242 4242 4242 4242: active", async ({ page }) => {
  await signUp(page, uniqueEmail("basic"));
  await page.goto("/account/plans");
  await expect(page.getByTestId("plan-ssl")).toContainText("Needs an active Basic subscription.");
  await subscribeToBasic(page);
  await page.goto("/account/billing");
  const row = page.getByTestId("subscriptions").locator("tbody tr");
  await expect(row).toHaveCount(1);
  await expect(row).toContainText("Basic");
  await expect(row).toContainText("Active");
  await expect(row).toContainText("5.00 EUR monthly");
  await page.goto("/account/invoices");
  const invoice = page.getByTestId("invoices").locator("tbody tr");
  await expect(invoice).toHaveCount(1);
  await expect(invoice).toContainText("5.00 EUR");
  await expect(invoice).toContainText("Paid");
});

test("the SSL add-on with 4000 0025 0000 3155 after 3-D Secure: active", async ({ page }) => {
  await signUp(page, uniqueEmail("ssl"));
  await subscribeToBasic(page);
  await startPlan(page, "ssl_monthly");
  await fillCard(page, "4000 0025 0000 3155");
  await pay(page);
  const dialog = page.getByRole("dialog", { name: "3D Secure 2 Test Page" });
  await expect(dialog).toBeVisible();
  await dialog.getByRole("button", { name: "Complete authentication" }).click();
  await expect(page.getByTestId("payment-result")).toHaveAttribute("data-status", "active");
  await expect(page.getByTestId("payment-result")).toContainText("SSL for custom domains is active");

  // The add-on brings custom domains.
  const domain = `shop-${Date.now()}.example.com`;
  await page.goto("/account/domains");
  await hydrated(page);
  await page.getByTestId("add-domain").getByLabel("Domain").fill(domain);
  await page.getByTestId("add-domain").getByRole("button", { name: "Add" }).click();
  await expect(page.getByTestId(`domain-${domain}`)).toBeVisible();
  await expect(page.getByTestId(`domain-${domain}`).getByTestId("domain-status")).not.toBeEmpty();
});

test("custom domains are refused without the add-on, with the reason", async ({ page }) => {
  await signUp(page, uniqueEmail("nodomains"));
  await page.goto("/account/domains");
  await expect(page.getByTestId("domains-not-included")).toContainText("Custom domains come with SSL for custom domains");
  await expect(page.getByTestId("add-domain")).toHaveCount(0);
});

test("failing 3-D Secure: not active, said plainly, and paying again works", async ({ page }) => {
  await signUp(page, uniqueEmail("fail3ds"));
  await startPlan(page, "basic_monthly");
  await fillCard(page, "4000 0025 0000 3155");
  await pay(page);
  const dialog = page.getByRole("dialog", { name: "3D Secure 2 Test Page" });
  await dialog.getByRole("button", { name: "Fail authentication" }).click();
  await expect(page.getByTestId("payment-error")).toContainText(/unable to authenticate/i);
  await page.goto("/account/plans");
  await expect(page.getByTestId("plan-basic")).toContainText("Awaiting payment");
  // Again, with a card that needs no authentication.
  await startPlan(page, "basic_monthly");
  await fillCard(page, "4242 4242 4242 4242");
  await pay(page);
  await expect(page.getByTestId("payment-result")).toHaveAttribute("data-status", "active");
});

test("4000 0000 0000 0002 is declined in plain words and nothing is active", async ({ page }) => {
  await signUp(page, uniqueEmail("declined"));
  await startPlan(page, "basic_monthly");
  await fillCard(page, "4000 0000 0000 0002");
  await pay(page);
  await expect(page.getByTestId("payment-error")).toHaveText("Your card was declined.");
  await page.goto("/account/billing");
  await expect(page.getByTestId("subscriptions")).not.toContainText("Active");
});

test("cancel at period end, then resume", async ({ page }) => {
  await signUp(page, uniqueEmail("cancel"));
  await subscribeToBasic(page);
  await page.goto("/account/billing");
  await hydrated(page);
  await page.getByTestId("cancel").click();
  await expect(page.getByTestId("ends")).toBeVisible();
  await page.getByTestId("resume").click();
  await expect(page.getByTestId("ends")).toHaveCount(0);
  await expect(page.getByTestId("cancel")).toBeVisible();
});

test("replace the card: the new one is shown and used from now on", async ({ page }) => {
  await signUp(page, uniqueEmail("card"));
  await subscribeToBasic(page);
  await page.goto("/account/payment-method");
  await hydrated(page);
  await expect(page.getByTestId("saved-card")).toHaveText("visa ending in 4242, expires 12/2034");
  await page.getByTestId("replace-card").click();
  await fillCard(page, "5555 5555 5555 4444");
  await pay(page);
  await expect(page).toHaveURL(/\/account\/payment-method\?setup_intent=seti_/);
  await expect(page.getByTestId("saved-card")).toHaveText("mastercard ending in 4444, expires 12/2034");
});

test("switch Basic to yearly after reading the proration preview", async ({ page }) => {
  await signUp(page, uniqueEmail("yearly"));
  await subscribeToBasic(page);
  await page.goto("/account/billing");
  await hydrated(page);
  await page.getByTestId("change-basic_yearly").click();
  await expect(page).toHaveURL(/\/account\/billing\/change\?/);
  const preview = page.getByTestId("plan-change-preview");
  await expect(preview).toContainText("You are charged this now");
  await expect(preview.getByTestId("preview-lines")).toContainText("50.00 EUR");
  await expect(preview.getByTestId("preview-lines")).toContainText("-");
  const total = (await preview.getByTestId("preview-total").textContent()) ?? "";
  expect(total).toMatch(/^4\d\.\d\d EUR$/);
  await hydrated(page);
  await page.getByTestId("confirm-change").click();
  await expect(page).toHaveURL(/\/account\/billing$/);
  const row = page.getByTestId("subscriptions").locator("tbody tr");
  await expect(row).toContainText("50.00 EUR yearly");
  await expect(row).toContainText("Active");
  await page.goto("/account/invoices");
  await expect(page.getByTestId("invoices").locator("tbody tr").first()).toContainText(total);
});

test("a renewal with 4000 0027 6000 3184: the mail's link, the bank's check, active again", async ({ page, browser }) => {
  const email = uniqueEmail("renewal");
  await signUp(page, email);
  await startPlan(page, "basic_monthly");
  await fillCard(page, "4000 0027 6000 3184");
  await pay(page);
  await page.getByRole("dialog", { name: "3D Secure 2 Test Page" }).getByRole("button", { name: "Complete authentication" }).click();
  await expect(page.getByTestId("payment-result")).toHaveAttribute("data-status", "active");

  // The operator moves the customer's sandbox clock to the renewal, then reads the outbox.
  const operator = await (await browser.newContext()).newPage();
  await logIn(operator, DEMO_ADMIN);
  await operator.goto("/admin");
  await hydrated(operator);
  const clock = operator.getByTestId("sandbox-clock").filter({ hasText: email });
  const before = (await clock.getByTestId("clock-time").textContent()) ?? "";
  await clock.getByTestId("advance-renewal").click();
  // The row shows the clock's new time once the advance (and the renewal) is done.
  await expect(clock.getByTestId("clock-time")).not.toHaveText(before, { timeout: 15_000 });
  let link = "";
  await expect(async () => {
    await operator.goto(`/admin/outbox?to=${encodeURIComponent(email)}`);
    const mail = operator.getByTestId("mail").filter({ hasText: "Please confirm your payment" });
    const body = (await mail.getByTestId("mail-body").textContent({ timeout: 1000 })) ?? "";
    link = body.match(/https?:\/\/\S+\/pay/)?.[0] ?? "";
    expect(link).not.toBe("");
  }).toPass({ timeout: 30_000 });

  // Every account page says a payment waits; the mail's link completes it.
  await page.goto("/account/billing");
  await expect(page.getByTestId("payment-waiting")).toContainText("5.00 EUR");
  await page.goto(link);
  await hydrated(page);
  await page.getByTestId("authenticate").click();
  await page.getByRole("dialog", { name: "3D Secure 2 Test Page" }).getByRole("button", { name: "Complete authentication" }).click();
  await expect(page.getByTestId("invoice-paid")).toBeVisible();
  await page.goto("/account/billing");
  await expect(page.getByTestId("subscriptions").locator("tbody tr")).toContainText("Active");
  await expect(page.getByTestId("payment-waiting")).toHaveCount(0);
});

