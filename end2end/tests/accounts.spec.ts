import { expect, test } from "@playwright/test";
import { DEMO_CUSTOMER, hydrated, logIn, signUp, uniqueEmail } from "./helpers";

test("a visitor signs up and lands on their account page", async ({ page }) => {
  const email = uniqueEmail("signup");
  await signUp(page, email);
  await expect(page.getByTestId("account-email")).toHaveText(email);
  await expect(page.getByTestId("signed-in-as")).toHaveText(email);
});

test("the demo customer logs in and out", async ({ page }) => {
  await logIn(page, DEMO_CUSTOMER);
  await expect(page.getByTestId("account-email")).toHaveText(DEMO_CUSTOMER.email);
  await hydrated(page);
  await page.getByRole("button", { name: "Log out" }).click();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByRole("navigation").getByRole("link", { name: "Log in" })).toBeVisible();
  await page.goto("/account");
  await expect(page).toHaveURL(/\/login\?next=\/account$/);
});

test("a wrong password shows an error and keeps the visitor on the log-in page", async ({ page }) => {
  await page.goto("/login");
  await hydrated(page);
  await page.getByLabel("E-mail").fill(DEMO_CUSTOMER.email);
  await page.locator("#password").fill("not the password");
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page.getByTestId("form-error")).toHaveText("Wrong e-mail address or password.");
  await expect(page).toHaveURL(/\/login/);
});

test("hydration makes the password toggle respond", async ({ page }) => {
  await page.goto("/login");
  await hydrated(page);
  const password = page.locator("#password");
  await expect(password).toHaveAttribute("type", "password");
  await page.getByTestId("toggle-password").click();
  await expect(password).toHaveAttribute("type", "text");
  await expect(page.getByTestId("toggle-password")).toHaveText("Hide");
});
