import { expect, test } from "@playwright/test";
import { DEMO_ADMIN, DEMO_CUSTOMER, logIn } from "./helpers";

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
