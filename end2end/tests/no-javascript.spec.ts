import { expect, test } from "@playwright/test";
import { DEMO_CUSTOMER } from "./helpers";

test.use({ javaScriptEnabled: false });

test("log-in works with JavaScript disabled", async ({ page }) => {
  await page.goto("/login");
  await page.getByLabel("E-mail").fill(DEMO_CUSTOMER.email);
  await page.locator("#password").fill(DEMO_CUSTOMER.password);
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page).toHaveURL(/\/account$/);
  await expect(page.getByTestId("account-email")).toHaveText(DEMO_CUSTOMER.email);
});

test("a wrong password is reported with JavaScript disabled", async ({ page }) => {
  await page.goto("/login");
  await page.getByLabel("E-mail").fill(DEMO_CUSTOMER.email);
  await page.locator("#password").fill("not the password");
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page).toHaveURL(/error=wrong_credentials/);
  await expect(page.getByTestId("form-error")).toHaveText("Wrong e-mail address or password.");
});
