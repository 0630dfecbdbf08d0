import { expect, test, type Page } from "@playwright/test";
import { hydrated, signUp, uniqueEmail } from "./helpers";

// The customer's billing flow in Chromium, through the sandbox's Stripe.js stand-in: subscribe,
// 3-D Secure completed and failed, a declined card, cancel at period end and resume.

async function fillCard(page: Page, number: string) {
  await expect(page.getByPlaceholder("1234 1234 1234 1234")).toBeVisible();
  await page.getByPlaceholder("1234 1234 1234 1234").fill(number);
  await page.getByPlaceholder("MM / YY").fill("12 / 34");
  await page.getByPlaceholder("CVC").fill("123");
}

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
