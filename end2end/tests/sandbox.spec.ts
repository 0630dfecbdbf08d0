import { expect, test } from "@playwright/test";
import { DEMO_ADMIN, hydrated, logIn } from "./helpers";

// The end-to-end server runs without a Stripe key, so the offline Stripe sandbox is active.

test("every page carries the sandbox label, before and after hydration", async ({ page }) => {
  for (const path of ["/", "/login", "/signup"]) {
    await page.goto(path);
    await hydrated(page);
    await expect(page.getByTestId("sandbox-label")).toHaveText(/sandbox/i);
  }
});

test("the admin sees the sandbox's keys, and they open the sandbox's API", async ({ page, request }) => {
  await logIn(page, DEMO_ADMIN);
  await page.goto("/admin");
  await expect(page.getByTestId("sandbox-controls")).toBeVisible();
  const secret = (await page.getByTestId("sandbox-secret-key").textContent()) ?? "";
  expect(secret).toMatch(/^sk_test_/);
  await expect(page.getByTestId("sandbox-publishable-key")).toHaveText(/^pk_test_/);
  await expect(page.getByTestId("sandbox-clocks")).toBeVisible();
  await expect(page.getByTestId("sandbox-deliveries")).toBeVisible();

  const refused = await request.get("/sandbox/stripe/v1/customers");
  expect(refused.status()).toBe(401);
  const listed = await request.get("/sandbox/stripe/v1/customers", { headers: { Authorization: `Bearer ${secret}` } });
  expect(listed.status()).toBe(200);
  expect((await listed.json()).object).toBe("list");
});
