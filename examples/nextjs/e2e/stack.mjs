// What the browser tests run against: a fresh Portcullis (the built binary, a new SQLite
// database, two-factor on, OTP webhook to a local listener) and the built example app
// (`next start`) in front of it, both on free 127.0.0.1 ports and stopped by PID; and headless
// Debian Chromium driven by playwright-core (never a downloaded browser).
//
// E2E_SERVER=reference puts the real Better Auth 1.7.25 (tests/js/reference-server.mjs) behind
// the app instead: the same journeys passing there shows the app is an ordinary Better Auth app.
//
// Environment: E2E_SERVER (portcullis | reference), PORTCULLIS_BIN (default:
// <repo>/target/debug/portcullis), CHROMIUM_PATH (default /usr/bin/chromium), E2E_ARTIFACTS
// (screenshots; default e2e/artifacts/<server>, git-ignored).

import { spawn } from "node:child_process";
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
// The JS compatibility suites' process helpers (node built-ins only).
import { freePort, startServer, stop, waitReady } from "../../../tests/js/servers.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const appDir = resolve(here, "..");
const repoRoot = resolve(appDir, "../..");

export const serverKind = process.env.E2E_SERVER ?? "portcullis";
if (!["portcullis", "reference"].includes(serverKind)) {
	throw new Error(`E2E_SERVER must be portcullis or reference, not ${serverKind}`);
}
export const artifactsDir = resolve(process.env.E2E_ARTIFACTS ?? join(here, "artifacts", serverKind));

export async function startStack() {
	const dir = mkdtempSync(join(tmpdir(), "portcullis-e2e-"));
	mkdirSync(artifactsDir, { recursive: true });
	const appPort = await freePort();
	const appOrigin = `http://127.0.0.1:${appPort}`;

	const auth = await startServer({
		server: serverKind,
		bin: process.env.PORTCULLIS_BIN ?? join(repoRoot, "target/debug/portcullis"),
		databaseUrl: `sqlite://${join(dir, "auth.db")}?mode=rwc`,
		dir,
		label: "e2e",
		// The browser sees the app's origin; the auth server must treat it as its own public URL.
		env: { BETTER_AUTH_URL: appOrigin, PORTCULLIS_APP_NAME: "Acme", APP_NAME: "Acme" },
	});
	await auth.ready();

	const appLog = join(dir, "next.log");
	const fd = openSync(appLog, "a");
	const app = spawn(
		process.execPath,
		[join(appDir, "node_modules/next/dist/bin/next"), "start", "--hostname", "127.0.0.1", "--port", String(appPort)],
		{
			cwd: appDir,
			env: { ...process.env, PORTCULLIS_URL: auth.origin, NEXT_TELEMETRY_DISABLED: "1", NODE_ENV: "production" },
			stdio: ["ignore", fd, fd],
		},
	);
	closeSync(fd);
	// Ready once the page server answers *and* its proxy reaches Portcullis.
	await waitReady(`${appOrigin}/api/auth/ok`, app, 60_000);

	const browser = await chromium.launch({
		executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
		headless: true,
		// Root in CI needs --no-sandbox; the rest keeps Chromium off the (closed) network.
		args: [
			"--no-sandbox",
			"--disable-gpu",
			"--disable-quic",
			"--no-first-run",
			"--disable-background-networking",
			"--disable-component-update",
			"--disable-sync",
		],
	});

	return {
		appOrigin,
		browser,
		/** A new browser profile (cookies, storage) on the app. */
		async newContext() {
			const context = await browser.newContext({ baseURL: appOrigin, acceptDownloads: true });
			await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: appOrigin });
			return context;
		},
		/** The latest two-factor code delivered to `email` ({ otp, count }): Portcullis's webhook, or the reference's sendOTP. */
		async deliveredOtp(email) {
			const res = await fetch(`${auth.otpSourceUrl}?email=${encodeURIComponent(email)}`);
			return res.json();
		},
		async shutdown({ failed = false } = {}) {
			await browser.close().catch(() => {});
			await stop(app);
			await auth.shutdown();
			if (failed) {
				auth.dumpLog();
				console.error(`----- next log -----\n${readFileSync(appLog, "utf8")}----- end next log -----`);
			}
		},
	};
}
