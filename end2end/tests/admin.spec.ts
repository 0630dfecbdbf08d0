import { expect, test } from "@playwright/test";
import { DEMO_ADMIN, DEMO_CUSTOMER, DEMO_VIEWER, logIn } from "./helpers";

test("the admin area is refused to a customer with 403", async ({ page }) => {
  await logIn(page, DEMO_CUSTOMER);
  await expect(page.getByRole("link", { name: "Admin" })).toHaveCount(0);
  const response = await page.goto("/admin");
  expect(response?.status()).toBe(403);
  await expect(page.getByRole("heading", { name: "Not allowed" })).toBeVisible();
});

test("the admin area is shown to an admin", async ({ page }) => {
  await logIn(page, DEMO_ADMIN);
  await page.getByRole("link", { name: "Admin" }).click();
  await expect(page).toHaveURL(/\/admin$/);
  await expect(page.getByRole("heading", { name: "Operations" })).toBeVisible();
  await expect(page.getByRole("cell", { name: DEMO_CUSTOMER.email })).toBeVisible();
});

test("an unknown page is a 404", async ({ page }) => {
  const response = await page.goto("/no/such/page");
  expect(response?.status()).toBe(404);
  await expect(page.getByRole("heading", { name: "Page not found" })).toBeVisible();
});

test("a viewer reads the webhooks but has no action button, and a forged action is refused", async ({ page }) => {
  await logIn(page, DEMO_VIEWER);
  await page.getByRole("link", { name: "Admin" }).click();
  await expect(page.getByRole("heading", { name: "Operations" })).toBeVisible();
  await expect(page.getByTestId("sandbox-controls")).toHaveCount(0);
  await page.getByRole("navigation", { name: "Operations" }).getByRole("link", { name: "Webhooks" }).click();
  await expect(page).toHaveURL(/\/admin\/webhooks$/);
  await expect(page.getByRole("heading", { name: "Webhooks" })).toBeVisible();
  // The catalogue's sync at start-up sent product and price events (stored, no handler).
  const first = page.getByTestId("webhook-events").locator("tbody tr a").first();
  await expect(first).toBeVisible();
  await first.click();
  await expect(page.getByTestId("event-payload")).toContainText('"object": "event"');
  await expect(page.getByTestId("process-again")).toHaveCount(0);
  // The same request an admin's button sends, from the viewer's session: refused.
  const forged = await page.request.post("/api/admin_process_again", {
    form: { id: "evt_anything" },
    headers: { Origin: new URL(page.url()).origin },
  });
  expect(forged.status()).toBe(403);
});
