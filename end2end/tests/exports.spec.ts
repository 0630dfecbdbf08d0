import { expect, test } from "@playwright/test";
import { hydrated, signUp, uniqueEmail } from "./helpers";

test("a customer asks for a data export, sees it become ready and downloads it", async ({ page }) => {
  const email = uniqueEmail("export");
  await signUp(page, email);

  await hydrated(page);
  await page.getByTestId("request-export").click();
  await expect(page.getByTestId("export-status")).toHaveCount(1);
  // The worker builds it in the background; the page shows the progress on each visit.
  await expect(async () => {
    await page.reload();
    await expect(page.getByTestId("export-status")).toHaveText("Ready", { timeout: 1000 });
  }).toPass({ timeout: 20_000 });

  const download = page.waitForEvent("download");
  await page.getByRole("link", { name: "Download" }).click();
  const file = await download;
  expect(file.suggestedFilename()).toMatch(/^billhook-export-.*\.json$/);
  const body = JSON.parse(require("fs").readFileSync(await file.path(), "utf8"));
  expect(body.account.email).toBe(email);
});
