import { expect, test, type APIRequestContext, type Page } from "@playwright/test";
import { DEMO_ADMIN, fillCard, logIn } from "./helpers";

// The sandbox's Stripe.js stand-in, driven as a customer would: the Payment Element's fields and
// inline messages, a payment with 4242 4242 4242 4242, and 3-D Secure completed and failed.

async function sandboxKey(page: Page): Promise<string> {
  await logIn(page, DEMO_ADMIN);
  await page.goto("/admin");
  return ((await page.getByTestId("sandbox-secret-key").textContent()) ?? "").trim();
}

async function paymentIntent(request: APIRequestContext, secretKey: string): Promise<string> {
  const response = await request.post("/sandbox/stripe/v1/payment_intents", {
    headers: { Authorization: `Bearer ${secretKey}` },
    form: { amount: "1000", currency: "eur" },
  });
  expect(response.status()).toBe(200);
  return (await response.json()).client_secret;
}

test("the Payment Element checks the card inline and pays with 4242 4242 4242 4242", async ({ page, request }) => {
  const key = await sandboxKey(page);
  await page.goto(`/sandbox/stripe/js/try?client_secret=${await paymentIntent(request, key)}`);
  await expect(page.getByPlaceholder("1234 1234 1234 1234")).toBeVisible();
  await page.getByRole("button", { name: "Pay" }).click();
  await expect(page.getByTestId("result")).toHaveText("Your card number is incomplete.");
  await fillCard(page, "4242 4242 4242 4241");
  await page.getByRole("button", { name: "Pay" }).click();
  await expect(page.getByTestId("result")).toHaveText("Your card number is invalid.");
  await fillCard(page, "4242424242424242");
  await expect(page.getByPlaceholder("1234 1234 1234 1234")).toHaveValue("4242 4242 4242 4242");
  await page.getByRole("button", { name: "Pay" }).click();
  await expect(page.getByTestId("result")).toHaveText("succeeded");
});

for (const [answer, outcome] of [
  ["Complete authentication", "succeeded"],
  ["Fail authentication", /unable to authenticate/],
] as const) {
  test(`3-D Secure: ${answer}`, async ({ page, request }) => {
    const key = await sandboxKey(page);
    await page.goto(`/sandbox/stripe/js/try?client_secret=${await paymentIntent(request, key)}`);
    await fillCard(page, "4000 0027 6000 3184");
    await page.getByRole("button", { name: "Pay" }).click();
    const dialog = page.getByRole("dialog", { name: "3D Secure 2 Test Page" });
    await expect(dialog).toBeVisible();
    await dialog.getByRole("button", { name: answer }).click();
    await expect(page.getByTestId("result")).toHaveText(outcome);
    await expect(dialog).toHaveCount(0);
  });
}

test("a declined card is reported with Stripe's message", async ({ page, request }) => {
  const key = await sandboxKey(page);
  await page.goto(`/sandbox/stripe/js/try?client_secret=${await paymentIntent(request, key)}`);
  await fillCard(page, "4000 0000 0000 9995");
  await page.getByRole("button", { name: "Pay" }).click();
  await expect(page.getByTestId("result")).toHaveText("Your card has insufficient funds.");
});
