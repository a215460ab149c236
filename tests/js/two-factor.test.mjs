// Two-factor flows driven through the official Better Auth JS client
// (better-auth@1.7.25, `createAuthClient` + `twoFactorClient({ onTwoFactorRedirect })`):
// TOTP enrolment and sign-in, email OTP, backup codes, trusted devices,
// `rememberMe:false` across the challenge, disable, and the error bodies of the
// two-factor routes. Every expectation was checked against the real Better Auth
// 1.7.25 server (`node run.mjs --server reference core.test.mjs two-factor.test.mjs`).
//
// OTPs are read from OTP_SOURCE_URL (GET ?email=… → {"otp", "count"?}): run.mjs points it
// at the reference server's own GET /__test/otp, or, for Portcullis, at a listener in the
// runner that receives Portcullis's OTP webhook (PORTCULLIS_OTP_WEBHOOK_URL).
//
// TOTP replay: Better Auth 1.7.25 accepts a TOTP code again within its window;
// Portcullis refuses a time step it has already accepted for the user. So every TOTP
// submitted here is fresh: step t for enrolment, step t+1 for the next sign-in (both
// servers accept ±1 step), and a user never needs a third TOTP.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { twoFactorClient } from "better-auth/client/plugins";

import { assertClientError, ok } from "./lib/client-assert.mjs";
import { CookieJar, jarClient, unsigned } from "./lib/jar.mjs";
import { base32Decode, hotp, parseOtpauth, totpStep } from "./lib/totp.mjs";

const BASE = process.env.PORTCULLIS_URL;
if (!BASE) {
	throw new Error(
		"PORTCULLIS_URL is not set. Use `node run.mjs --server reference two-factor.test.mjs` " +
			"(or --server portcullis --bin PATH), or point PORTCULLIS_URL (and OTP_SOURCE_URL) at a running server.",
	);
}
const ORIGIN = new URL(BASE).origin;
const API = `${ORIGIN}/api/auth`;
// The reference server serves GET /__test/otp itself; run.mjs overrides this for Portcullis.
const OTP_SOURCE = process.env.OTP_SOURCE_URL ?? `${ORIGIN}/__test/otp`;
const PASSWORD = "password123";
const SESSION_COOKIE = "better-auth.session_token";
const TWO_FACTOR_COOKIE = "better-auth.two_factor";
const TRUST_COOKIE = "better-auth.trust_device";
const DONT_REMEMBER_COOKIE = "better-auth.dont_remember";
const DAY = 24 * 60 * 60;
const TRUST_MAX_AGE = 30 * DAY;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------- browser

/** The Set-Cookie line for `name` in `lines` (the last one, as a browser applies them in order). */
function line(lines, name) {
	return lines.findLast((c) => c.name === name);
}

function assertExpired(lines, name) {
	const c = line(lines, name);
	assert.ok(c, `${name} should be expired in this response (got ${lines.map((l) => l.line).join(" | ")})`);
	assert.equal(c.value, "", c.line);
	assert.equal(c.attrs.get("max-age"), "0", c.line);
}

/**
 * A fresh "browser": a cookie jar plus an official client wired to it, whose
 * `onTwoFactorRedirect` records the methods it was called with.
 */
function browser() {
	const jar = new CookieJar();
	const redirects = [];
	const client = jarClient({
		jar,
		baseURL: ORIGIN,
		plugins: [
			twoFactorClient({
				onTwoFactorRedirect: (ctx) => {
					redirects.push(ctx);
				},
			}),
		],
	});
	return { jar, client, redirects };
}

let seq = 0;
function uniqueEmail(tag = "user") {
	seq += 1;
	return `${tag}-${process.pid}-${Date.now().toString(36)}-${seq}@example.com`;
}

/** Signs a new user up in a fresh browser. */
async function signedUpUser(tag) {
	const b = browser();
	const email = uniqueEmail(tag);
	const data = ok(await b.client.signUp.email({ email, password: PASSWORD, name: "Two Factor" }), "sign-up");
	return { ...b, email, user: data.user, token: data.token };
}

/** Signs in from a fresh browser (or the given one) and expects the 2FA challenge. */
async function challenged(email, b = browser(), extra = {}) {
	const data = ok(await b.client.signIn.email({ email, password: PASSWORD, ...extra }), "sign-in");
	assert.equal(data.twoFactorRedirect, true, `expected a 2FA challenge, got ${JSON.stringify(data)}`);
	assert.ok(b.jar.has(TWO_FACTOR_COOKIE), "two_factor cookie set");
	assert.equal(b.jar.has(SESSION_COOKIE), false, "no session cookie while challenged");
	return { ...b, data };
}

// ---------------------------------------------------------------- TOTP (RFC 6238, SHA-1)

/** The authenticator side of an otpauth:// URI: `code(step)` and the current step. */
function authenticator(totpURI) {
	const { key, digits, period } = parseOtpauth(totpURI);
	return {
		key,
		step: () => totpStep(period),
		code: (step) => hotp(key, step, digits),
	};
}

test("TOTP helper matches the RFC 6238 SHA-1 vectors (6 digits)", () => {
	const key = Buffer.from("12345678901234567890");
	assert.equal(hotp(key, 1, 6), "287082");
	assert.equal(hotp(key, 37037036, 6), "081804");
	assert.equal(hotp(key, 41152263, 6), "005924");
	assert.equal(base32Decode("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ").toString(), "12345678901234567890");
});

// ---------------------------------------------------------------- OTP source

async function readOtp(email) {
	const res = await fetch(`${OTP_SOURCE}?email=${encodeURIComponent(email)}`);
	const body = await res.json();
	return { otp: body.otp ?? null, count: typeof body.count === "number" ? body.count : null };
}

/**
 * Calls send-otp and returns the code delivered for `email`. With a `count` (the runner's
 * webhook listener) waits until a new delivery arrived; the reference server records the
 * code before send-otp answers, so its current value is the new one.
 */
async function sendOtp(client, email) {
	const before = await readOtp(email);
	assert.deepEqual(ok(await client.twoFactor.sendOtp(), "send-otp"), { status: true });
	const deadline = Date.now() + 10_000;
	for (;;) {
		const now = await readOtp(email);
		if (now.otp !== null && (now.count === null || now.count > (before.count ?? 0))) return now.otp;
		if (Date.now() > deadline) throw new Error(`no OTP delivered for ${email} via ${OTP_SOURCE}`);
		await sleep(25);
	}
}

// ---------------------------------------------------------------- enrolment helpers

const URI_RE = /^otpauth:\/\/totp\/[^:/?]+:([^?]+)\?secret=([A-Z2-7]{52})&issuer=[^&]+&digits=6&period=30$/;
const BACKUP_CODE_RE = /^[A-Za-z0-9]{5}-[A-Za-z0-9]{5}$/;

/** New user with TOTP enabled and verified (uses step t); returns the authenticator and t. */
async function totpUser(tag) {
	const u = await signedUpUser(tag);
	const enabled = ok(await u.client.twoFactor.enable({ password: PASSWORD }), "enable");
	const auth = authenticator(enabled.totpURI);
	const t = auth.step();
	ok(await u.client.twoFactor.verifyTotp({ code: auth.code(t) }), "verify-totp (enrolment)");
	return { ...u, auth, t, backupCodes: enabled.backupCodes };
}

/** New user with OTP 2FA enabled (`method: "otp"`). */
async function otpUser(tag) {
	const u = await signedUpUser(tag);
	assert.deepEqual(ok(await u.client.twoFactor.enable({ password: PASSWORD, method: "otp" }), "enable otp"), {
		method: "otp",
	});
	return u;
}

// ---------------------------------------------------------------- tests

describe("TOTP", () => {
	test("enable → verify-totp → sign-out → sign-in redirects → verify-totp", async () => {
		const { client, jar, email, user, token: signUpToken } = await signedUpUser("totp");

		const enabled = ok(await client.twoFactor.enable({ password: PASSWORD }), "enable");
		assert.deepEqual(Object.keys(enabled).sort(), ["backupCodes", "method", "totpURI"]);
		assert.equal(enabled.method, "totp");
		const m = URI_RE.exec(enabled.totpURI);
		assert.ok(m, `unexpected totpURI ${enabled.totpURI}`);
		assert.equal(m[1], encodeURIComponent(email));
		assert.equal(enabled.backupCodes.length, 10);
		for (const c of enabled.backupCodes) assert.match(c, BACKUP_CODE_RE);
		// Pending until verified: no rotation, flag still off.
		assert.equal(unsigned(jar.get(SESSION_COOKIE)), signUpToken);
		assert.equal(ok(await client.getSession()).user.twoFactorEnabled, false);

		const auth = authenticator(enabled.totpURI);
		const t = auth.step();
		const wrong = await client.twoFactor.verifyTotp({ code: auth.code(t + 5) });
		assertClientError(wrong.error, 401, "INVALID_CODE", "Invalid code");

		const verified = ok(await client.twoFactor.verifyTotp({ code: auth.code(t) }), "verify-totp");
		assert.deepEqual(Object.keys(verified).sort(), ["token", "user"]);
		// Session mode answers with the request's own session token and the user as loaded
		// before the update; the rotated session arrives in Set-Cookie.
		assert.equal(verified.token, signUpToken);
		assert.equal(verified.user.twoFactorEnabled, false);
		const rotated = line(jar.lastSetCookies("/two-factor/verify-totp"), SESSION_COOKIE);
		assert.ok(rotated?.value, "session rotated on enrolment");
		assert.notEqual(unsigned(jar.get(SESSION_COOKIE)), signUpToken);
		const session = ok(await client.getSession());
		assert.equal(session.user.twoFactorEnabled, true);
		assert.notEqual(session.session.token, signUpToken);

		ok(await client.signOut(), "sign-out");

		const b = browser();
		const signIn = ok(await b.client.signIn.email({ email, password: PASSWORD }), "sign-in");
		assert.deepEqual(signIn, { twoFactorRedirect: true, twoFactorMethods: ["totp", "otp"] });
		assert.deepEqual(b.redirects, [{ twoFactorMethods: ["totp", "otp"] }]);
		const lines = b.jar.lastSetCookies("/sign-in/email");
		assertExpired(lines, SESSION_COOKIE);
		assertExpired(lines, "better-auth.session_data");
		const challenge = line(lines, TWO_FACTOR_COOKIE);
		assert.equal(challenge.attrs.get("max-age"), "600");
		assert.match(unsigned(challenge.value), /^2fa-[A-Za-z0-9_-]{20}$/);
		assert.equal(ok(await b.client.getSession()), null);

		const done = ok(await b.client.twoFactor.verifyTotp({ code: auth.code(t + 1) }), "verify-totp (sign-in)");
		assert.match(done.token, /^[A-Za-z0-9]{32}$/);
		assert.equal(done.user.id, user.id);
		assert.equal(done.user.twoFactorEnabled, true);
		const after = b.jar.lastSetCookies("/two-factor/verify-totp");
		assertExpired(after, TWO_FACTOR_COOKIE);
		assert.equal(line(after, SESSION_COOKIE).attrs.get("max-age"), String(7 * DAY));
		assert.equal(unsigned(b.jar.get(SESSION_COOKIE)), done.token);
		assert.equal(b.jar.has(TWO_FACTOR_COOKIE), false);
		const s = ok(await b.client.getSession());
		assert.equal(s.session.token, done.token);
		assert.equal(s.user.id, user.id);

		// The challenge is single-use.
		const again = await fetch(`${API}/two-factor/verify-totp`, {
			method: "POST",
			headers: { "content-type": "application/json", origin: ORIGIN, cookie: `${TWO_FACTOR_COOKIE}=${challenge.value}` },
			body: JSON.stringify({ code: auth.code(t + 1) }),
		});
		assert.equal(again.status, 401);
		assert.deepEqual(await again.json(), { message: "Invalid two factor cookie", code: "INVALID_TWO_FACTOR_COOKIE" });
	});

	test("getTotpUri needs the password and returns the enrolled secret", async () => {
		const { client, auth } = await totpUser("totp-uri");
		const wrong = await client.twoFactor.getTotpUri({ password: "not-the-password" });
		assertClientError(wrong.error, 400, "INVALID_PASSWORD", "Invalid password");
		const { totpURI } = ok(await client.twoFactor.getTotpUri({ password: PASSWORD }), "get-totp-uri");
		assert.match(totpURI, URI_RE);
		assert.deepEqual(authenticator(totpURI).key, auth.key);
		const again = await client.twoFactor.enable({ password: PASSWORD });
		assertClientError(again.error, 400, "TOTP_ALREADY_ENABLED", "TOTP is already enabled");
	});

	test("rememberMe:false survives the challenge: session cookie without Max-Age", async () => {
		const { email, auth, t } = await totpUser("totp-nomem");
		const b = await challenged(email, browser(), { rememberMe: false });
		const lines = b.jar.lastSetCookies("/sign-in/email");
		const dontRemember = line(lines, DONT_REMEMBER_COOKIE);
		assert.ok(dontRemember?.value, "dont_remember kept on the challenge response");
		assert.match(decodeURIComponent(dontRemember.value), /^true\.[A-Za-z0-9+/]{43}=$/);
		const before = Date.now();
		ok(await b.client.twoFactor.verifyTotp({ code: auth.code(t + 1) }), "verify-totp");
		const sessionLine = line(b.jar.lastSetCookies("/two-factor/verify-totp"), SESSION_COOKIE);
		assert.ok(sessionLine.value);
		assert.equal(sessionLine.attrs.has("max-age"), false, sessionLine.line);
		const s = ok(await b.client.getSession());
		assert.ok(Math.abs(s.session.expiresAt.getTime() - (before + DAY * 1000)) < 60_000, "1-day session");
	});
});

describe("email OTP", () => {
	test("enable method otp → sign-in offers otp → send-otp → verify-otp", async () => {
		const { client, jar, email, user, token } = await signedUpUser("otp");
		assert.deepEqual(ok(await client.twoFactor.enable({ password: PASSWORD, method: "otp" })), { method: "otp" });
		// Enabled at once, with a rotated session.
		assert.notEqual(unsigned(jar.get(SESSION_COOKIE)), token);
		assert.equal(ok(await client.getSession()).user.twoFactorEnabled, true);
		ok(await client.signOut());

		const b = await challenged(email);
		assert.deepEqual(b.data, { twoFactorRedirect: true, twoFactorMethods: ["otp"] });
		assert.deepEqual(b.redirects, [{ twoFactorMethods: ["otp"] }]);

		const code = await sendOtp(b.client, email);
		assert.match(code, /^[0-9]{6}$/);
		const wrongCode = code === "000000" ? "111111" : "000000";
		const wrong = await b.client.twoFactor.verifyOtp({ code: wrongCode });
		assertClientError(wrong.error, 401, "INVALID_CODE", "Invalid code");
		const done = ok(await b.client.twoFactor.verifyOtp({ code }), "verify-otp");
		assert.equal(done.user.id, user.id);
		assert.equal(unsigned(b.jar.get(SESSION_COOKIE)), done.token);
		assert.equal(b.jar.has(TWO_FACTOR_COOKIE), false);
		assert.equal(ok(await b.client.getSession()).user.id, user.id);
	});

	test("five wrong OTPs → even the right one is refused with TOO_MANY_ATTEMPTS_REQUEST_NEW_CODE", async () => {
		const { email } = await otpUser("otp-cap");
		const b = await challenged(email);
		const code = await sendOtp(b.client, email);
		const wrongCode = code === "000000" ? "111111" : "000000";
		for (let i = 0; i < 5; i++) {
			const r = await b.client.twoFactor.verifyOtp({ code: wrongCode });
			assertClientError(r.error, 401, "INVALID_CODE", "Invalid code");
		}
		const r = await b.client.twoFactor.verifyOtp({ code });
		assertClientError(r.error, 400, "TOO_MANY_ATTEMPTS_REQUEST_NEW_CODE", "Too many attempts. Please request a new code.");
		const gone = await b.client.twoFactor.verifyOtp({ code });
		assertClientError(gone.error, 400, "OTP_HAS_EXPIRED", "OTP has expired");
		// A new code on the same challenge works.
		const fresh = await sendOtp(b.client, email);
		ok(await b.client.twoFactor.verifyOtp({ code: fresh }), "verify-otp with a new code");
	});
});

describe("backup codes", () => {
	test("sign in with a backup code; single use; regenerating invalidates the old set", async () => {
		const { email, user, backupCodes } = await totpUser("backup");
		const a = await challenged(email);
		assert.deepEqual(a.data.twoFactorMethods, ["totp", "otp"]);
		const done = ok(await a.client.twoFactor.verifyBackupCode({ code: backupCodes[0] }), "verify-backup-code");
		assert.equal(done.user.id, user.id);
		assert.equal(unsigned(a.jar.get(SESSION_COOKIE)), done.token);
		assert.equal(a.jar.has(TWO_FACTOR_COOKIE), false);

		const b = await challenged(email);
		const reused = await b.client.twoFactor.verifyBackupCode({ code: backupCodes[0] });
		assertClientError(reused.error, 401, "INVALID_BACKUP_CODE", "Invalid backup code");

		const wrongPw = await a.client.twoFactor.generateBackupCodes({ password: "not-the-password" });
		assertClientError(wrongPw.error, 400, "INVALID_PASSWORD", "Invalid password");
		const regenerated = ok(await a.client.twoFactor.generateBackupCodes({ password: PASSWORD }), "generate");
		assert.deepEqual(Object.keys(regenerated).sort(), ["backupCodes", "status"]);
		assert.equal(regenerated.status, true);
		assert.equal(regenerated.backupCodes.length, 10);
		for (const c of regenerated.backupCodes) assert.match(c, BACKUP_CODE_RE);
		assert.equal(
			regenerated.backupCodes.some((c) => backupCodes.includes(c)),
			false,
		);

		const old = await b.client.twoFactor.verifyBackupCode({ code: backupCodes[1] });
		assertClientError(old.error, 401, "INVALID_BACKUP_CODE", "Invalid backup code");
		const fresh = ok(await b.client.twoFactor.verifyBackupCode({ code: regenerated.backupCodes[0] }));
		assert.equal(fresh.user.id, user.id);
		assert.equal(ok(await b.client.getSession()).session.token, fresh.token);
	});
});

describe("trusted device", () => {
	test("trustDevice → later sign-ins skip the challenge and rotate the cookie; disable revokes", async () => {
		const { email, user } = await otpUser("trust");
		const a = await challenged(email);
		const code = await sendOtp(a.client, email);
		ok(await a.client.twoFactor.verifyOtp({ code, trustDevice: true }), "verify-otp trustDevice");
		const trust = line(a.jar.lastSetCookies("/two-factor/verify-otp"), TRUST_COOKIE);
		assert.ok(trust?.value, "trust_device cookie set");
		assert.equal(trust.attrs.get("max-age"), String(TRUST_MAX_AGE));
		assert.match(unsigned(trust.value), /^[A-Za-z0-9_-]{43}!trust-device-[A-Za-z0-9_-]{32}$/);
		const firstTrust = a.jar.get(TRUST_COOKIE);

		// Sign-out keeps the trust cookie.
		ok(await a.client.signOut());
		assert.equal(a.jar.get(TRUST_COOKIE), firstTrust);

		const again = ok(await a.client.signIn.email({ email, password: PASSWORD }), "trusted sign-in");
		assert.equal(again.twoFactorRedirect, undefined);
		assert.equal(again.user.id, user.id);
		assert.deepEqual(a.redirects, [{ twoFactorMethods: ["otp"] }], "no redirect on the trusted sign-in");
		assert.equal(unsigned(a.jar.get(SESSION_COOKIE)), again.token);
		const rotated = line(a.jar.lastSetCookies("/sign-in/email"), TRUST_COOKIE);
		assert.ok(rotated?.value, "trust cookie rotated");
		assert.equal(rotated.attrs.get("max-age"), String(TRUST_MAX_AGE));
		assert.notEqual(a.jar.get(TRUST_COOKIE), firstTrust);

		// Another browser without the cookie is challenged …
		await challenged(email);
		// … and so is one replaying the pre-rotation cookie, which gets expired.
		const replay = browser();
		replay.jar.set(TRUST_COOKIE, firstTrust);
		await challenged(email, replay);
		assertExpired(replay.jar.lastSetCookies("/sign-in/email"), TRUST_COOKIE);

		// Disabling 2FA revokes the device and expires its cookie.
		const currentTrust = a.jar.get(TRUST_COOKIE);
		assert.deepEqual(ok(await a.client.twoFactor.disable({ password: PASSWORD }), "disable"), { status: true });
		assertExpired(a.jar.lastSetCookies("/two-factor/disable"), TRUST_COOKIE);
		// Re-enable OTP 2FA: the revoked device no longer skips the challenge.
		ok(await a.client.twoFactor.enable({ password: PASSWORD, method: "otp" }));
		const revoked = browser();
		revoked.jar.set(TRUST_COOKIE, currentTrust);
		await challenged(email, revoked);
	});
});

describe("disable", () => {
	test("needs the password, turns the gate off and rotates the session", async () => {
		const { email, auth, t, user } = await totpUser("disable");
		const b = await challenged(email);
		ok(await b.client.twoFactor.verifyTotp({ code: auth.code(t + 1) }));
		const token = unsigned(b.jar.get(SESSION_COOKIE));

		const wrong = await b.client.twoFactor.disable({ password: "not-the-password" });
		assertClientError(wrong.error, 400, "INVALID_PASSWORD", "Invalid password");
		assert.deepEqual(ok(await b.client.twoFactor.disable({ password: PASSWORD })), { status: true });
		assert.notEqual(unsigned(b.jar.get(SESSION_COOKIE)), token);
		assert.equal(ok(await b.client.getSession()).user.twoFactorEnabled, false);

		const c = browser();
		const signIn = ok(await c.client.signIn.email({ email, password: PASSWORD }));
		assert.equal(signIn.twoFactorRedirect, undefined);
		assert.equal(signIn.user.id, user.id);
		assert.deepEqual(c.redirects, []);
		const gone = await c.client.twoFactor.getTotpUri({ password: PASSWORD });
		assertClientError(gone.error, 400, "TOTP_NOT_ENABLED", "TOTP not enabled");
	});
});

describe("errors", () => {
	/** Raw POST to /api/auth with Origin and optional cookies. */
	async function post(path, body, cookie) {
		const headers = { "content-type": "application/json", origin: ORIGIN };
		if (cookie) headers.cookie = cookie;
		const res = await fetch(`${API}${path}`, { method: "POST", headers, body: JSON.stringify(body) });
		return { status: res.status, body: await res.json().catch(() => null), res };
	}

	test("dual-mode routes without session or challenge → 401 INVALID_TWO_FACTOR_COOKIE", async () => {
		for (const [path, body] of [
			["/two-factor/verify-totp", { code: "123456" }],
			["/two-factor/verify-otp", { code: "123456" }],
			["/two-factor/verify-backup-code", { code: "abcde-fghij" }],
			["/two-factor/send-otp", {}],
		]) {
			const r = await post(path, body);
			assert.equal(r.status, 401, path);
			assert.deepEqual(r.body, { message: "Invalid two factor cookie", code: "INVALID_TWO_FACTOR_COOKIE" }, path);
		}
	});

	test("session routes without a session → 401 UNAUTHORIZED", async () => {
		for (const path of [
			"/two-factor/enable",
			"/two-factor/disable",
			"/two-factor/get-totp-uri",
			"/two-factor/generate-backup-codes",
		]) {
			const r = await post(path, { password: PASSWORD });
			assert.equal(r.status, 401, path);
			assert.deepEqual(r.body, { message: "Unauthorized", code: "UNAUTHORIZED" }, path);
		}
	});

	test("validation and state errors of a signed-in user without 2FA", async () => {
		const { client, jar } = await signedUpUser("errors");
		const missing = await post("/two-factor/enable", {}, jar.header());
		assert.equal(missing.status, 400);
		assert.deepEqual(missing.body, {
			message: "[body.password] Invalid input: expected string, received undefined",
			code: "VALIDATION_ERROR",
		});
		const badMethod = await post("/two-factor/enable", { password: PASSWORD, method: "sms" }, jar.header());
		assert.equal(badMethod.status, 400);
		assert.equal(badMethod.body.code, "VALIDATION_ERROR");
		const noCode = await post("/two-factor/verify-totp", {}, jar.header());
		assert.equal(noCode.status, 400);
		assert.equal(noCode.body.code, "VALIDATION_ERROR");

		const wrongPw = await client.twoFactor.enable({ password: "not-the-password" });
		assertClientError(wrongPw.error, 400, "INVALID_PASSWORD", "Invalid password");
		const uri = await client.twoFactor.getTotpUri({ password: PASSWORD });
		assertClientError(uri.error, 400, "TOTP_NOT_ENABLED", "TOTP not enabled");
		const totp = await client.twoFactor.verifyTotp({ code: "123456" });
		assertClientError(totp.error, 400, "TOTP_NOT_ENABLED", "TOTP not enabled");
		const gen = await client.twoFactor.generateBackupCodes({ password: PASSWORD });
		assertClientError(gen.error, 400, "TWO_FACTOR_NOT_ENABLED", "Two factor isn't enabled");
		const backup = await client.twoFactor.verifyBackupCode({ code: "abcde-fghij" });
		assertClientError(backup.error, 400, "BACKUP_CODES_NOT_ENABLED", "Backup codes aren't enabled");
		const otp = await client.twoFactor.verifyOtp({ code: "123456" });
		assertClientError(otp.error, 400, "OTP_HAS_EXPIRED", "OTP has expired");
		const wrongDisable = await client.twoFactor.disable({ password: "not-the-password" });
		assertClientError(wrongDisable.error, 400, "INVALID_PASSWORD", "Invalid password");
	});

	test("verify-otp on a challenge before any send-otp → 400 OTP_HAS_EXPIRED", async () => {
		const { email } = await otpUser("otp-none");
		const b = await challenged(email);
		const r = await b.client.twoFactor.verifyOtp({ code: "123456" });
		assertClientError(r.error, 400, "OTP_HAS_EXPIRED", "OTP has expired");
	});

	test("pending TOTP enrolment is not a sign-in factor: verify-totp → 400 TOTP_NOT_ENABLED", async () => {
		const { client, email } = await otpUser("pending");
		const enabled = ok(await client.twoFactor.enable({ password: PASSWORD }), "enable totp on top of otp");
		assert.equal(enabled.method, "totp");
		const b = await challenged(email);
		assert.deepEqual(b.data.twoFactorMethods, ["otp"]);
		const auth = authenticator(enabled.totpURI);
		const r = await b.client.twoFactor.verifyTotp({ code: auth.code(auth.step()) });
		assertClientError(r.error, 400, "TOTP_NOT_ENABLED", "TOTP not enabled");
		// Backup codes from the pending enrolment already work.
		ok(await b.client.twoFactor.verifyBackupCode({ code: enabled.backupCodes[0] }), "backup code");
		assert.ok(b.jar.has(SESSION_COOKIE));
	});

	test("five wrong TOTP codes on one challenge → 400 TOO_MANY_ATTEMPTS_REQUEST_NEW_CODE, challenge cancelled", async () => {
		const { email, auth, t } = await totpUser("totp-cap");
		const b = await challenged(email);
		for (let i = 0; i < 5; i++) {
			const r = await b.client.twoFactor.verifyTotp({ code: auth.code(t + 7) });
			assertClientError(r.error, 401, "INVALID_CODE", "Invalid code");
		}
		const r = await b.client.twoFactor.verifyTotp({ code: auth.code(t + 1) });
		assertClientError(r.error, 400, "TOO_MANY_ATTEMPTS_REQUEST_NEW_CODE", "Too many attempts. Please request a new code.");
		assertExpired(b.jar.lastSetCookies("/two-factor/verify-totp"), TWO_FACTOR_COOKIE);
		// A new challenge still accepts the (unused) fresh code.
		const c = await challenged(email);
		ok(await c.client.twoFactor.verifyTotp({ code: auth.code(t + 1) }), "fresh challenge");
	});
});
