import { expect, type Page } from "@playwright/test";

export const DEMO_ADMIN = { email: "admin@example.com", password: "admin-demo-password" };
export const DEMO_CUSTOMER = { email: "customer@example.com", password: "customer-demo-password" };
export const DEMO_VIEWER = { email: "viewer@example.com", password: "viewer-demo-password" };

/** Waits until the WASM has hydrated the page (the app marks <body> then). */
export async function hydrated(page: Page) {
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
}

export async function logIn(page: Page, who: { email: string; password: string }) {
  await page.goto("/login");
  await hydrated(page);
  await page.getByLabel("E-mail").fill(who.email);
  await page.locator("#password").fill(who.password);
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page).toHaveURL(/\/account$/);
}

/** Signs a new customer up and waits for their account page. */
export async function signUp(page: Page, email: string) {
  await page.goto("/signup");
  await hydrated(page);
  await page.getByLabel("E-mail").fill(email);
  await page.locator("#password").fill("a good password");
  await page.getByRole("button", { name: "Sign up" }).click();
  await expect(page).toHaveURL(/\/account$/);
}

export function uniqueEmail(prefix: string) {
  return `${prefix}-${Date.now()}-${Math.floor(Math.random() * 1e6)}@example.com`;
}

/** Types a test card into the Payment Element (the sandbox's Stripe.js stand-in). */
export async function fillCard(page: Page, number: string) {
  await expect(page.getByPlaceholder("1234 1234 1234 1234")).toBeVisible();
  await page.getByPlaceholder("1234 1234 1234 1234").fill(number);
  await page.getByPlaceholder("MM / YY").fill("12 / 34");
  await page.getByPlaceholder("CVC").fill("123");
}

/**
 * Waits until every worker node has paused `queue`: the overview (reloaded until then) marks the
 * pause complete once each live worker node wrote that it paused its workers of the queue.
 */
export async function pauseApplied(page: Page, queue: string) {
  const row = page.getByTestId("queue").and(page.locator(`[data-queue="${queue}"]`));
  await expect(async () => {
    await page.goto("/admin");
    await expect(row.getByTestId("paused")).toBeVisible({ timeout: 1_000 });
    await expect(row.getByTestId("pause-spread")).toHaveAttribute("data-complete", "true", { timeout: 1_000 });
  }).toPass({ timeout: 20_000 });
}
