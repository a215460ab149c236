// Mixed fleet: the real Better Auth 1.7.25 and Portcullis serve ONE database at the same time,
// with the same secret and the same public origin, as during a rolling switch (run by
// run-mixed.mjs, which starts both). Every step below crosses from one server to the other
// with real HTTP: passwords, session cookies, TOTP, backup codes, OTP, trusted devices, sign-in
// challenges, attempt counters and the account lockout. One "browser" (a cookie jar) talks to
// both servers, as a browser behind a load balancer would.
//
// Portcullis runs with PORTCULLIS_PASSWORD_HASH=scrypt and Better Auth with
// otpOptions.storeOTP "hashed" (README.md, "Migrating from Better Auth").
//
// TOTP replay: Portcullis accepts each time step once per user (Better Auth does not track
// steps), so codes sent to Portcullis use strictly increasing steps (`pcCode`).

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { twoFactorClient } from "better-auth/client/plugins";

import { ok } from "./lib/client-assert.mjs";
import { CookieJar, jarClient, unsigned } from "./lib/jar.mjs";
import { base32Decode, hotp, totpStep } from "./lib/totp.mjs";

const env = (name) => {
	const v = process.env[name];
	if (!v) throw new Error(`${name} is not set; run this suite with run-mixed.mjs`);
	return v;
};
const ORIGIN = env("ORIGIN");
const SERVERS = {
	ba: { name: "Better Auth", base: env("REFERENCE_URL"), otpSource: env("REFERENCE_OTP_SOURCE") },
	pc: { name: "Portcullis", base: env("PORTCULLIS_URL"), otpSource: env("PORTCULLIS_OTP_SOURCE") },
};
const PASSWORD = "password123";
const SESSION_COOKIE = "better-auth.session_token";
const TWO_FACTOR_COOKIE = "better-auth.two_factor";
const TRUST_COOKIE = "better-auth.trust_device";
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------- browser

/**
 * One browser: a cookie jar and, per server, an official client (`ba`, `pc`) whose requests
 * carry that jar and the fleet's shared Origin.
 */
function browser(jar = new CookieJar()) {
	const client = (key) =>
		jarClient({
			jar,
			baseURL: SERVERS[key].base,
			origin: ORIGIN,
			plugins: [twoFactorClient({ onTwoFactorRedirect: () => {} })],
		});
	return { jar, ba: client("ba"), pc: client("pc") };
}

/** A second browser holding a copy of `b`'s cookies (the same cookie replayed elsewhere). */
function cloneBrowser(b) {
	const jar = new CookieJar();
	for (const [k, v] of b.jar.cookies) jar.set(k, v);
	return browser(jar);
}

let seq = 0;
function uniqueEmail(tag) {
	seq += 1;
	return `mixed-${tag}-${process.pid}-${Date.now().toString(36)}-${seq}@example.com`;
}

function fails({ error }, status, code, what) {
	assert.ok(error, `${what}: expected ${status} ${code}, got success`);
	assert.equal(error.status, status, `${what}: ${JSON.stringify(error)}`);
	assert.equal(error.code, code, `${what}: ${JSON.stringify(error)}`);
}

// ---------------------------------------------------------------- TOTP

const nowStep = () => totpStep();

/** The authenticator of an otpauth:// URI, remembering the last step Portcullis accepted. */
function authenticator(totpURI) {
	const key = base32Decode(new URL(totpURI).searchParams.get("secret"));
	return {
		lastPc: -1,
		/** A current code (Better Auth accepts any code of the window, again and again). */
		code: () => hotp(key, nowStep()),
		/** A code of a step Portcullis has not accepted yet for this user. */
		async pcCode() {
			let step = Math.max(this.lastPc + 1, nowStep());
			while (step > nowStep() + 1) await sleep(500);
			step = Math.max(step, nowStep());
			this.lastPc = step;
			return hotp(key, step);
		},
		/** A well-formed code that is wrong now. */
		wrong: () => hotp(key, nowStep() + 7),
	};
}

// ---------------------------------------------------------------- OTP

async function readOtp(server, email) {
	const res = await fetch(`${SERVERS[server].otpSource}?email=${encodeURIComponent(email)}`);
	const body = await res.json();
	return { otp: body.otp ?? null, count: typeof body.count === "number" ? body.count : null };
}

/** send-otp on `server` (challenge or session of `b`), then the code it delivered. */
async function sendOtp(b, server, email) {
	const before = await readOtp(server, email);
	assert.deepEqual(ok(await b[server].twoFactor.sendOtp(), `send-otp on ${server}`), { status: true });
	const deadline = Date.now() + 10_000;
	for (;;) {
		const now = await readOtp(server, email);
		if (now.otp !== null && (now.count === null || now.count > (before.count ?? 0))) return now.otp;
		if (Date.now() > deadline) throw new Error(`no OTP delivered for ${email} by ${server}`);
		await sleep(25);
	}
}

// ---------------------------------------------------------------- users

/** Signs a new user up on `server` in a fresh browser. */
async function signUp(server, tag) {
	const b = browser();
	const email = uniqueEmail(tag);
	const data = ok(await b[server].signUp.email({ email, password: PASSWORD, name: `Mixed ${tag}` }), "sign-up");
	return { ...b, email, user: data.user };
}

/** A new user, signed up and TOTP-enrolled (enable + verify-totp) on `server`. */
async function totpUser(server, tag) {
	const u = await signUp(server, tag);
	const enabled = ok(await u[server].twoFactor.enable({ password: PASSWORD }), `enable on ${server}`);
	const auth = authenticator(enabled.totpURI);
	const code = server === "pc" ? await auth.pcCode() : auth.code();
	ok(await u[server].twoFactor.verifyTotp({ code }), `verify-totp (enrolment) on ${server}`);
	assert.equal(ok(await u[server].getSession(), "get-session").user.twoFactorEnabled, true);
	return { ...u, auth, backupCodes: enabled.backupCodes };
}

/** Signs in on `server` from a fresh browser (or `b`) and expects the 2FA challenge. */
async function challenged(server, email, b = browser()) {
	const data = ok(await b[server].signIn.email({ email, password: PASSWORD }), `sign-in on ${server}`);
	assert.equal(data.twoFactorRedirect, true, `expected a challenge from ${server}, got ${JSON.stringify(data)}`);
	assert.ok(b.jar.has(TWO_FACTOR_COOKIE));
	assert.equal(b.jar.has(SESSION_COOKIE), false);
	return { ...b, methods: data.twoFactorMethods };
}

/** Both servers answer get-session for `b`'s cookie with the same session and user. */
async function sameSessionOnBoth(b, what) {
	const fromBa = ok(await b.ba.getSession({ query: { disableRefresh: true } }), `${what}: get-session on ba`);
	const fromPc = ok(await b.pc.getSession({ query: { disableRefresh: true } }), `${what}: get-session on pc`);
	assert.ok(fromBa, `${what}: Better Auth sees no session`);
	assert.ok(fromPc, `${what}: Portcullis sees no session`);
	// Dates, booleans and ids as each server reads them back from the other's rows.
	assert.deepEqual(fromPc, fromBa, `${what}: the two servers read the session differently`);
	return fromBa;
}

// ---------------------------------------------------------------- tests

describe("passwords", () => {
	for (const [from, to] of [
		["ba", "pc"],
		["pc", "ba"],
	]) {
		test(`a user created on ${SERVERS[from].name} signs in on ${SERVERS[to].name}`, async () => {
			const u = await signUp(from, `pw-${from}`);
			const b = browser();
			const data = ok(await b[to].signIn.email({ email: u.email, password: PASSWORD }), `sign-in on ${to}`);
			assert.equal(data.user.id, u.user.id);
			fails(await browser()[to].signIn.email({ email: u.email, password: "wrong-password" }), 401, "INVALID_EMAIL_OR_PASSWORD", "wrong password");
			// The password still works where it was created (no rewrite into a format it cannot read).
			ok(await browser()[from].signIn.email({ email: u.email, password: PASSWORD }), `sign-in on ${from} again`);
			// A password changed on one server is the password on the other.
			ok(await b[to].changePassword({ currentPassword: PASSWORD, newPassword: "changed-pass-1" }), `change-password on ${to}`);
			ok(await browser()[from].signIn.email({ email: u.email, password: "changed-pass-1" }), `sign-in on ${from} after change`);
			fails(await browser()[from].signIn.email({ email: u.email, password: PASSWORD }), 401, "INVALID_EMAIL_OR_PASSWORD", "old password");
		});
	}
});

describe("sessions", () => {
	for (const [from, to] of [
		["ba", "pc"],
		["pc", "ba"],
	]) {
		test(`a session cookie issued by ${SERVERS[from].name} works on ${SERVERS[to].name}`, async () => {
			const u = await signUp(from, `sess-${from}`);
			const s = await sameSessionOnBoth(u, "after sign-up");
			assert.equal(s.user.id, u.user.id);
			assert.equal(s.user.emailVerified, false);
			assert.equal(s.user.twoFactorEnabled, false);
			assert.equal(s.session.token, unsigned(u.jar.get(SESSION_COOKIE)));

			// A second session from the other server; both list the same two.
			const other = browser();
			ok(await other[to].signIn.email({ email: u.email, password: PASSWORD }), `sign-in on ${to}`);
			const listed = {};
			for (const key of ["ba", "pc"]) {
				listed[key] = ok(await u[key].listSessions(), `list-sessions on ${key}`);
				assert.equal(listed[key].length, 2, `list-sessions on ${key}`);
			}
			const sortByToken = (l) => [...l].sort((a, b) => a.token.localeCompare(b.token));
			assert.deepEqual(sortByToken(listed.pc), sortByToken(listed.ba));

			// update-user on one server is seen by the other.
			ok(await u[to].updateUser({ name: `Renamed on ${to}` }), `update-user on ${to}`);
			assert.equal((await sameSessionOnBoth(u, "after update-user")).user.name, `Renamed on ${to}`);

			// Revoking on one server ends the session on both.
			const otherToken = unsigned(other.jar.get(SESSION_COOKIE));
			ok(await u[from].revokeSession({ token: otherToken }), `revoke-session on ${from}`);
			for (const key of ["ba", "pc"]) {
				assert.equal(ok(await cloneBrowser(other)[key].getSession(), "get-session"), null, `revoked, on ${key}`);
			}
			const cookie = u.jar.get(SESSION_COOKIE);
			ok(await u[to].signOut(), `sign-out on ${to}`);
			for (const key of ["ba", "pc"]) {
				const replay = browser();
				replay.jar.cookies.set(SESSION_COOKIE, cookie);
				assert.equal(ok(await replay[key].getSession(), "get-session"), null, `signed out, on ${key}`);
			}
		});
	}
});

describe("two-factor", () => {
	test("TOTP enrolled on Better Auth verifies on Portcullis, and the session is good on both", async () => {
		const u = await totpUser("ba", "totp-ba");
		const c = await challenged("pc", u.email);
		assert.deepEqual(c.methods, ["totp", "otp"]);
		const done = ok(await c.pc.twoFactor.verifyTotp({ code: await u.auth.pcCode() }), "verify-totp on pc");
		assert.equal(done.user.id, u.user.id);
		assert.equal((await sameSessionOnBoth(c, "after the challenge")).user.twoFactorEnabled, true);
	});

	test("a user who enrolled on Portcullis signs in on Better Auth and passes its 2FA (rollback)", async () => {
		const u = await totpUser("pc", "totp-pc");
		const c = await challenged("ba", u.email);
		assert.deepEqual(c.methods, ["totp", "otp"]);
		ok(await c.ba.twoFactor.verifyTotp({ code: u.auth.code() }), "verify-totp on ba");
		await sameSessionOnBoth(c, "after the challenge");
		// Portcullis's backup codes are Better Auth's too, once.
		const code = u.backupCodes[0];
		ok(await (await challenged("ba", u.email)).ba.twoFactor.verifyBackupCode({ code }), "backup code on ba");
		fails(await (await challenged("pc", u.email)).pc.twoFactor.verifyBackupCode({ code }), 401, "INVALID_BACKUP_CODE", "spent on ba, on pc");
		// New codes generated on Portcullis work on Better Auth.
		const fresh = ok(await c.pc.twoFactor.generateBackupCodes({ password: PASSWORD }), "generate on pc").backupCodes;
		fails(await (await challenged("ba", u.email)).ba.twoFactor.verifyBackupCode({ code: u.backupCodes[1] }), 401, "INVALID_BACKUP_CODE", "replaced code on ba");
		ok(await (await challenged("ba", u.email)).ba.twoFactor.verifyBackupCode({ code: fresh[0] }), "fresh code on ba");
		// Disabled on Portcullis: Better Auth signs the user in without a challenge.
		ok(await c.pc.twoFactor.disable({ password: PASSWORD }), "disable on pc");
		const plain = ok(await browser().ba.signIn.email({ email: u.email, password: PASSWORD }), "sign-in on ba");
		assert.equal(plain.twoFactorRedirect, undefined);
		assert.equal(plain.user.twoFactorEnabled, false);
	});

	for (const [first, second] of [
		["ba", "pc"],
		["pc", "ba"],
	]) {
		test(`backup codes: generated on ${SERVERS[first].name}, spent on ${SERVERS[second].name} once, refused by both after`, async () => {
			const u = await totpUser(first, `codes-${first}`);
			const [a, b] = u.backupCodes;
			ok(await (await challenged(second, u.email))[second].twoFactor.verifyBackupCode({ code: a }), `code a on ${second}`);
			for (const key of ["ba", "pc"]) {
				fails(await (await challenged(key, u.email))[key].twoFactor.verifyBackupCode({ code: a }), 401, "INVALID_BACKUP_CODE", `code a again, on ${key}`);
			}
			ok(await (await challenged(first, u.email))[first].twoFactor.verifyBackupCode({ code: b }), `code b on ${first}`);
			for (const key of ["ba", "pc"]) {
				fails(await (await challenged(key, u.email))[key].twoFactor.verifyBackupCode({ code: b }), 401, "INVALID_BACKUP_CODE", `code b again, on ${key}`);
			}
			// The other eight still work, on either server.
			ok(await (await challenged(second, u.email))[second].twoFactor.verifyBackupCode({ code: u.backupCodes[9] }), `code 9 on ${second}`);
		});
	}

	for (const [from, to] of [
		["ba", "pc"],
		["pc", "ba"],
	]) {
		test(`a sign-in challenge started on ${SERVERS[from].name} completes on ${SERVERS[to].name} (TOTP, OTP)`, async () => {
			const u = await totpUser("ba", `cross-${from}`);
			const c = await challenged(from, u.email);
			const code = to === "pc" ? await u.auth.pcCode() : u.auth.code();
			ok(await c[to].twoFactor.verifyTotp({ code }), `verify-totp on ${to}`);
			await sameSessionOnBoth(c, "after a crossed TOTP challenge");

			// OTP sent by one server (stored hashed), verified by the other.
			const o = await challenged(from, u.email);
			const otp = await sendOtp(o, from, u.email);
			fails(await o[to].twoFactor.verifyOtp({ code: otp === "000000" ? "000001" : "000000" }), 401, "INVALID_CODE", `wrong OTP on ${to}`);
			ok(await o[to].twoFactor.verifyOtp({ code: otp }), `verify-otp on ${to}`);
			await sameSessionOnBoth(o, "after a crossed OTP challenge");
		});

		test(`a trust-device cookie issued by ${SERVERS[from].name} skips the challenge on ${SERVERS[to].name}`, async () => {
			const u = await totpUser("ba", `trust-${from}`);
			const c = await challenged(from, u.email);
			const code = from === "pc" ? await u.auth.pcCode() : u.auth.code();
			ok(await c[from].twoFactor.verifyTotp({ code, trustDevice: true }), `verify-totp trustDevice on ${from}`);
			const issued = c.jar.get(TRUST_COOKIE);
			assert.ok(issued, "trust_device cookie issued");
			ok(await c[from].signOut(), "sign-out");

			const data = ok(await c[to].signIn.email({ email: u.email, password: PASSWORD }), `sign-in on ${to}`);
			assert.equal(data.twoFactorRedirect, undefined, `${to} challenged a trusted device: ${JSON.stringify(data)}`);
			assert.equal(data.user.id, u.user.id);
			const rotated = c.jar.get(TRUST_COOKIE);
			assert.ok(rotated && rotated !== issued, "trust cookie rotated");
			await sameSessionOnBoth(c, "trusted sign-in");
			// The rotated cookie works back on the first server; the old one is dead on both.
			ok(await c[from].signOut(), "sign-out");
			const back = ok(await c[from].signIn.email({ email: u.email, password: PASSWORD }), `sign-in on ${from}`);
			assert.equal(back.twoFactorRedirect, undefined);
			for (const key of ["ba", "pc"]) {
				const stale = browser();
				stale.jar.cookies.set(TRUST_COOKIE, issued);
				await challenged(key, u.email, stale);
			}
		});
	}

	for (const [first, second] of [
		["ba", "pc"],
		["pc", "ba"],
	]) {
		test(`attempt counter: failures on ${SERVERS[first].name} count on ${SERVERS[second].name}`, async () => {
			const u = await totpUser("ba", `attempts-${first}`);
			const c = await challenged(first, u.email);
			for (let i = 0; i < 3; i++) {
				fails(await c[first].twoFactor.verifyTotp({ code: u.auth.wrong() }), 401, "INVALID_CODE", `wrong #${i + 1} on ${first}`);
			}
			for (let i = 3; i < 5; i++) {
				fails(await c[second].twoFactor.verifyBackupCode({ code: "wrong-code1" }), 401, "INVALID_BACKUP_CODE", `wrong #${i + 1} on ${second}`);
			}
			const kept = cloneBrowser(c);
			const code = second === "pc" ? await u.auth.pcCode() : u.auth.code();
			fails(await c[second].twoFactor.verifyTotp({ code }), 400, "TOO_MANY_ATTEMPTS_REQUEST_NEW_CODE", `6th attempt on ${second}`);
			// The challenge is gone for the first server too.
			fails(await kept[first].twoFactor.verifyTotp({ code: u.auth.code() }), 401, "INVALID_TWO_FACTOR_COOKIE", `revoked challenge on ${first}`);
		});
	}

	test("account lockout: failures on both servers add up, and both refuse the locked account", async () => {
		const u = await totpUser("ba", "lockout");
		const one = await challenged("ba", u.email);
		for (let i = 0; i < 5; i++) {
			fails(await one.ba.twoFactor.verifyTotp({ code: u.auth.wrong() }), 401, "INVALID_CODE", `failure ${i + 1} on ba`);
		}
		const two = await challenged("pc", u.email);
		for (let i = 5; i < 9; i++) {
			fails(await two.pc.twoFactor.verifyTotp({ code: u.auth.wrong() }), 401, "INVALID_CODE", `failure ${i + 1} on pc`);
		}
		fails(await two.ba.twoFactor.verifyBackupCode({ code: "wrong-code1" }), 401, "INVALID_BACKUP_CODE", "failure 10 on ba");
		for (const key of ["pc", "ba"]) {
			const c = await challenged(key, u.email);
			const code = key === "pc" ? await u.auth.pcCode() : u.auth.code();
			fails(await c[key].twoFactor.verifyTotp({ code }), 429, "ACCOUNT_TEMPORARILY_LOCKED", `locked, on ${key}`);
			fails(await c[key].twoFactor.verifyBackupCode({ code: u.backupCodes[0] }), 429, "ACCOUNT_TEMPORARILY_LOCKED", `locked (backup code), on ${key}`);
		}
	});

	test("a success on one server resets the failures counted by the other", async () => {
		const u = await totpUser("pc", "reset");
		const one = await challenged("pc", u.email);
		for (let i = 0; i < 4; i++) {
			fails(await one.pc.twoFactor.verifyTotp({ code: u.auth.wrong() }), 401, "INVALID_CODE", `failure ${i + 1} on pc`);
		}
		ok(await one.ba.twoFactor.verifyTotp({ code: u.auth.code() }), "success on ba");
		// 4 + 4 more would lock if the success had not reset the count; 9 is still fine.
		for (const key of ["ba", "pc"]) {
			const c = await challenged(key, u.email);
			for (let i = 0; i < 4; i++) {
				fails(await c[key].twoFactor.verifyTotp({ code: u.auth.wrong() }), 401, "INVALID_CODE", `failure on ${key}`);
			}
		}
		const last = await challenged("ba", u.email);
		fails(await last.ba.twoFactor.verifyTotp({ code: u.auth.wrong() }), 401, "INVALID_CODE", "failure 9");
		ok(await last.pc.twoFactor.verifyTotp({ code: await u.auth.pcCode() }), "not locked, on pc");
	});

	test("OTP-only 2FA enabled on one server is enforced by the other", async () => {
		for (const [from, to] of [
			["ba", "pc"],
			["pc", "ba"],
		]) {
			const u = await signUp(from, `otp-${from}`);
			assert.deepEqual(ok(await u[from].twoFactor.enable({ password: PASSWORD, method: "otp" }), "enable otp"), { method: "otp" });
			const c = await challenged(to, u.email);
			assert.deepEqual(c.methods, ["otp"]);
			const otp = await sendOtp(c, to, u.email);
			ok(await c[from].twoFactor.verifyOtp({ code: otp }), `verify-otp on ${from}`);
			assert.equal((await sameSessionOnBoth(c, "otp sign-in")).user.twoFactorEnabled, true);
		}
	});
});
