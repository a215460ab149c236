// The example app in headless Chromium against a fresh Portcullis: the journeys of a user of an
// app built on the Better Auth React client with two-factor. One user, one story, in order: each
// test starts where the previous one left the browser. Screenshots of the key screens go to
// e2e/artifacts/ (git-ignored).

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import jsQR from "jsqr";
import { PNG } from "pngjs";
import { hotp, parseOtpauth, sleep, totpStep } from "./helpers.mjs";
import { artifactsDir, startStack } from "./stack.mjs";

const user = {
	name: "Ada Lovelace",
	email: `ada.${Date.now()}@example.com`,
	password: "correct horse battery staple",
};
let stack;
let context; // the user's own browser profile
let page;
let totp; // { key, digits, period } decoded from the QR code
let lastStep = 0;
let backupCodes = [];
let failed = false;
let shots = 0;

before(async () => {
	stack = await startStack();
	context = await stack.newContext();
	page = await context.newPage();
});

after(async () => {
	await stack?.shutdown({ failed });
});

/** A test whose failure leaves a screenshot of the page it failed on. */
function journey(name, fn) {
	test(name, async () => {
		try {
			await fn();
		} catch (err) {
			failed = true;
			await shot(page, `FAILED-${name.replace(/\W+/g, "-")}`).catch(() => {});
			throw err;
		}
	});
}

async function shot(p, name) {
	shots += 1;
	await p.screenshot({ path: join(artifactsDir, `${String(shots).padStart(2, "0")}-${name}.png`), fullPage: true });
}

/**
 * The authenticator app: a code for a time step not used yet (Portcullis refuses a replayed
 * step; Better Auth's window accepts the next step, so that one is used rather than waiting).
 */
async function nextTotpCode() {
	let step = Math.max(totpStep(totp.period), lastStep + 1);
	while (step > totpStep(totp.period) + 1) {
		await sleep(1000);
	}
	lastStep = step;
	return hotp(totp.key, step, totp.digits);
}

async function signIn(p, { then }) {
	await p.goto("/sign-in");
	await p.getByLabel("Email").fill(user.email);
	await p.getByLabel("Password").fill(user.password);
	await p.getByRole("button", { name: "Sign in" }).click();
	await p.waitForURL(then === "challenge" ? "**/two-factor" : "**/dashboard");
}

async function signOut(p) {
	await p.goto("/dashboard");
	await p.getByRole("button", { name: "Sign out" }).click();
	await p.waitForURL("**/sign-in");
}

/** Runs `fn(page)` in a separate browser profile (its own cookies), closed afterwards. */
async function inOtherBrowser(fn) {
	const other = await stack.newContext();
	try {
		return await fn(await other.newPage());
	} finally {
		await other.close();
	}
}

async function sessionOf(p) {
	const res = await p.request.get("/api/auth/get-session");
	return res.json();
}

async function verifyOnChallenge(p, { method = "totp", code, trustDevice = false }) {
	if (method === "backup") await p.getByRole("button", { name: "Use a backup code" }).click();
	const label = { totp: "Authentication code", backup: "Backup code", otp: "Emailed code" }[method];
	await p.getByLabel(label).fill(code);
	if (trustDevice) await p.getByLabel("Trust this device for 30 days").check();
	await p.getByRole("button", { name: "Verify" }).click();
}

journey("sign up lands on the server-rendered dashboard", async () => {
	await page.goto("/sign-up");
	await page.getByLabel("Name").fill(user.name);
	await page.getByLabel("Email").fill(user.email);
	await page.getByLabel("Password").fill(user.password);
	await page.getByRole("button", { name: "Create account" }).click();
	await page.waitForURL("**/dashboard");
	await assertText(page.getByTestId("welcome"), user.email);
	await assertText(page.getByTestId("two-factor-status"), "off");
	await shot(page, "dashboard");
});

journey("enable two-factor: QR code, confirm with a code, backup codes shown once", async () => {
	await page.goto("/settings/security");
	await page.getByTestId("enable-password").fill(user.password);
	await page.getByRole("button", { name: "Set up two-factor authentication" }).click();
	const qr = page.getByTestId("totp-qr");
	await qr.waitFor();
	await shot(page, "enable-qr-code");

	// Scan the QR code as a phone would: decode the pixels on screen.
	const png = PNG.sync.read(await qr.screenshot());
	const scanned = jsQR(new Uint8ClampedArray(png.data), png.width, png.height);
	assert.ok(scanned, "the QR code on the page decodes");
	const uri = new URL(scanned.data);
	assert.equal(uri.protocol, "otpauth:");
	assert.equal(uri.host, "totp");
	assert.equal(uri.searchParams.get("issuer"), "Acme");
	assert.match(decodeURIComponent(uri.pathname), new RegExp(`${user.email.replace(/\./g, "\\.")}$`));
	// The key for manual entry is the same secret.
	const manual = (await page.getByTestId("totp-secret").textContent()).replace(/\s+/g, "");
	assert.equal(manual, uri.searchParams.get("secret"));
	totp = parseOtpauth(scanned.data);

	await page.getByLabel("Code from the app").fill(await nextTotpCode());
	await page.getByRole("button", { name: "Confirm and turn on" }).click();
	const list = page.getByTestId("backup-codes");
	await list.waitFor();
	backupCodes = await list.locator("li").allTextContents();
	assert.equal(backupCodes.length, 10);
	assert.equal(new Set(backupCodes).size, 10);

	await page.getByRole("button", { name: "Copy" }).click();
	await page.getByRole("button", { name: "Copied" }).waitFor();
	assert.equal(await page.evaluate(() => navigator.clipboard.readText()), `${backupCodes.join("\n")}\n`);
	const [download] = await Promise.all([
		page.waitForEvent("download"),
		page.getByRole("button", { name: "Download" }).click(),
	]);
	assert.equal(download.suggestedFilename(), "acme-backup-codes.txt");
	assert.equal(readFileSync(await download.path(), "utf8"), `${backupCodes.join("\n")}\n`);
	await shot(page, "backup-codes");

	await page.getByRole("button", { name: "I have saved my backup codes" }).click();
	await assertText(page.getByTestId("two-factor-status"), "on");
	// Shown once: a reload offers management, never the codes again.
	assert.equal(await page.getByTestId("backup-codes").count(), 0);
});

journey("sign in again: the challenge withholds the session until the TOTP code", async () => {
	await signOut(page);
	await signIn(page, { then: "challenge" });
	assert.equal(await sessionOf(page), null, "no session before the second factor");
	await shot(page, "challenge");
	await verifyOnChallenge(page, { code: await nextTotpCode() });
	await page.waitForURL("**/dashboard");
	await assertText(page.getByTestId("two-factor-status"), "on");
	assert.equal((await sessionOf(page)).user.email, user.email);
});

journey("a backup code signs in, and only once", async () => {
	await signOut(page);
	await signIn(page, { then: "challenge" });
	await verifyOnChallenge(page, { method: "backup", code: backupCodes[0] });
	await page.waitForURL("**/dashboard");

	await signOut(page);
	await signIn(page, { then: "challenge" });
	await verifyOnChallenge(page, { method: "backup", code: backupCodes[0] });
	await page.locator("p.error[role=alert]").waitFor();
	assert.equal(page.url().endsWith("/two-factor"), true);
	await shot(page, "backup-code-spent");
	// The same pending sign-in still completes with an unused code.
	await page.getByLabel("Backup code").fill(backupCodes[1]);
	await page.getByRole("button", { name: "Verify" }).click();
	await page.waitForURL("**/dashboard");
});

journey("an emailed code signs in (read from the webhook Portcullis calls)", async () => {
	await signOut(page);
	await signIn(page, { then: "challenge" });
	const before = (await stack.deliveredOtp(user.email)).count;
	await page.getByRole("button", { name: "Email me a code" }).click();
	await page.getByRole("status").waitFor();
	let delivered;
	for (let i = 0; i < 50; i++) {
		delivered = await stack.deliveredOtp(user.email);
		if (delivered.count > before) break;
		await sleep(100);
	}
	assert.ok(delivered.count > before, "Portcullis delivered a code to the webhook");
	await shot(page, "email-code");
	await verifyOnChallenge(page, { method: "otp", code: delivered.otp });
	await page.waitForURL("**/dashboard");
});

journey("trust this device: no challenge in this browser, still one in a fresh browser", async () => {
	await signOut(page);
	await signIn(page, { then: "challenge" });
	await verifyOnChallenge(page, { code: await nextTotpCode(), trustDevice: true });
	await page.waitForURL("**/dashboard");

	await signOut(page);
	await signIn(page, { then: "dashboard" });

	await inOtherBrowser(async (other) => {
		await signIn(other, { then: "challenge" });
		assert.equal(await sessionOf(other), null);
	});
});

journey("sessions: listed with this device marked, another one revoked", async () => {
	// A second browser signs in (with a backup code) so there is a session to revoke.
	await inOtherBrowser(async (other) => {
		await signIn(other, { then: "challenge" });
		await verifyOnChallenge(other, { method: "backup", code: backupCodes[2] });
		await other.waitForURL("**/dashboard");

		await page.goto("/settings/security");
		const rows = page.getByTestId("sessions").locator("tbody tr");
		await page.getByRole("button", { name: "Revoke" }).first().waitFor();
		const count = await rows.count();
		assert.ok(count >= 2, `at least two sessions listed, got ${count}`);
		assert.equal(await rows.filter({ hasText: "this device" }).count(), 1);
		await shot(page, "sessions");

		const otherToken = (await sessionOf(other)).session.token;
		const { sessions } = await page.evaluate(async () => ({
			sessions: await (await fetch("/api/auth/list-sessions")).json(),
		}));
		const index = sessions.findIndex((s) => s.token === otherToken);
		assert.ok(index >= 0, "the other browser's session is listed");
		await rows.nth(index).getByRole("button", { name: "Revoke" }).click();
		await assertCount(rows, count - 1);

		await other.goto("/dashboard");
		await other.waitForURL("**/sign-in");
		assert.equal(await sessionOf(other), null);
	});
});

journey("regenerate backup codes: the old ones stop working", async () => {
	await page.goto("/settings/security");
	await page.getByTestId("regenerate-password").fill(user.password);
	await page.getByRole("button", { name: "Generate new backup codes" }).click();
	const list = page.getByTestId("backup-codes");
	await list.waitFor();
	const fresh = await list.locator("li").allTextContents();
	assert.equal(fresh.length, 10);
	assert.ok(!fresh.some((c) => backupCodes.includes(c)), "all codes are new");
	await page.getByRole("button", { name: "I have saved my backup codes" }).click();
	await assertText(page.getByTestId("two-factor-status"), "on");

	await inOtherBrowser(async (other) => {
		await signIn(other, { then: "challenge" });
		await verifyOnChallenge(other, { method: "backup", code: backupCodes[3] });
		await other.locator("p.error[role=alert]").waitFor();
		await other.getByLabel("Backup code").fill(fresh[0]);
		await other.getByRole("button", { name: "Verify" }).click();
		await other.waitForURL("**/dashboard");
	});
	backupCodes = fresh.slice(1);
});

journey("disable two-factor: the password alone signs in again", async () => {
	await page.goto("/settings/security");
	await page.getByTestId("disable-password").fill("not the password");
	await page.getByRole("button", { name: "Turn off two-factor authentication" }).click();
	await page.locator("p.error[role=alert]").waitFor();
	await assertText(page.getByTestId("two-factor-status"), "on");

	await page.getByTestId("disable-password").fill(user.password);
	await page.getByRole("button", { name: "Turn off two-factor authentication" }).click();
	await assertText(page.getByTestId("two-factor-status"), "off");
	await shot(page, "two-factor-off");

	await inOtherBrowser((other) => signIn(other, { then: "dashboard" }));
});

journey("protected pages send a visitor without a session to sign in", async () => {
	await inOtherBrowser(async (visitor) => {
		for (const path of ["/dashboard", "/settings/security"]) {
			await visitor.goto(path);
			await visitor.waitForURL("**/sign-in");
		}
	});
});

/** Playwright-core has no `expect`: poll a locator until its text contains `text`. */
async function assertText(locator, text, timeoutMs = 10_000) {
	const deadline = Date.now() + timeoutMs;
	let seen;
	while (Date.now() < deadline) {
		seen = await locator.textContent({ timeout: timeoutMs }).catch(() => null);
		if (seen?.includes(text)) return;
		await sleep(100);
	}
	assert.fail(`expected text containing ${JSON.stringify(text)}, saw ${JSON.stringify(seen)}`);
}

async function assertCount(locator, n, timeoutMs = 10_000) {
	const deadline = Date.now() + timeoutMs;
	let seen;
	while (Date.now() < deadline) {
		seen = await locator.count();
		if (seen === n) return;
		await sleep(100);
	}
	assert.fail(`expected ${n} elements, saw ${seen}`);
}
