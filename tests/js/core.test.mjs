// Core email/password + session flows driven through the official Better Auth
// JS client (better-auth@1.7.25), plus a few raw-fetch checks of the error
// framing. Runs against whatever server PORTCULLIS_URL points at; every
// expectation here was checked against the real Better Auth 1.7.25 server
// (`node run.mjs --server reference`), so a failure against Portcullis is a
// compatibility bug.
//
// Run: node run.mjs --server reference | --server portcullis --bin PATH
//  or: PORTCULLIS_URL=http://127.0.0.1:8080 node --test core.test.mjs

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { twoFactorClient } from "better-auth/client/plugins";

import { assertClientError } from "./lib/client-assert.mjs";
import { CookieJar, jarClient, unsigned } from "./lib/jar.mjs";

const BASE = process.env.PORTCULLIS_URL;
if (!BASE) {
	throw new Error(
		"PORTCULLIS_URL is not set. Use `node run.mjs --server reference` (or --server portcullis --bin PATH), " +
			"or point PORTCULLIS_URL at a running server whose BETTER_AUTH_URL is that same origin.",
	);
}
const ORIGIN = new URL(BASE).origin;
const API = `${ORIGIN}/api/auth`;
const FOREIGN_ORIGIN = "https://evil.example";
const PASSWORD = "password123";
const SESSION_COOKIE = "better-auth.session_token";
const DONT_REMEMBER_COOKIE = "better-auth.dont_remember";
const WEEK = 7 * 24 * 60 * 60;
const DAY = 24 * 60 * 60;

// ---------------------------------------------------------------- browser

/**
 * A fresh "browser": a cookie jar (lib/jar.mjs: Max-Age<=0 / past Expires delete, every
 * response's Set-Cookie lines logged) plus an official client wired to it.
 */
function browser() {
	const jar = new CookieJar();
	const client = jarClient({ jar, baseURL: ORIGIN, plugins: [twoFactorClient()] });
	return { jar, client };
}

let seq = 0;
function uniqueEmail(tag = "user") {
	seq += 1;
	return `${tag}-${process.pid}-${Date.now().toString(36)}-${seq}@example.com`;
}

/** Signs a new user up in a fresh browser; returns {jar, client, email, user, token}. */
async function signedUpUser(tag, name = "Test User") {
	const b = browser();
	const email = uniqueEmail(tag);
	const { data, error } = await b.client.signUp.email({ email, password: PASSWORD, name });
	assert.equal(error, null, `sign-up failed: ${JSON.stringify(error)}`);
	return { ...b, email, user: data.user, token: data.token };
}

/** Signs an existing user in from a fresh browser. */
async function signedIn(email, password = PASSWORD, extra = {}) {
	const b = browser();
	const { data, error } = await b.client.signIn.email({ email, password, ...extra });
	assert.equal(error, null, `sign-in failed: ${JSON.stringify(error)}`);
	return { ...b, data };
}

function assertSessionCookieLine(c, { maxAge }) {
	assert.equal(c.attrs.get("path"), "/");
	assert.equal(c.attrs.get("httponly"), true);
	assert.equal(c.attrs.get("samesite"), "Lax");
	assert.equal(c.attrs.has("secure"), false, "no Secure on an http:// baseURL");
	if (maxAge === undefined) assert.equal(c.attrs.has("max-age"), false, `unexpected Max-Age in ${c.line}`);
	else assert.equal(c.attrs.get("max-age"), String(maxAge), c.line);
}

function assertAbout(date, expectedMs, toleranceMs, what) {
	assert.ok(date instanceof Date, `${what} should be a Date`);
	assert.ok(
		Math.abs(date.getTime() - expectedMs) <= toleranceMs,
		`${what} ${date.toISOString()} not within ${toleranceMs} ms of ${new Date(expectedMs).toISOString()}`,
	);
}

const USER_KEYS = ["createdAt", "email", "emailVerified", "id", "image", "name", "twoFactorEnabled", "updatedAt"];
const SESSION_KEYS = ["createdAt", "expiresAt", "id", "ipAddress", "token", "updatedAt", "userAgent", "userId"];

/** Raw fetch against /api/auth with explicit headers (no jar, no Origin unless given). */
async function raw(path, { method = "GET", headers = {}, body } = {}) {
	const res = await fetch(`${API}${path}`, { method, headers, body, redirect: "manual" });
	const text = await res.text();
	return { status: res.status, headers: res.headers, text };
}

// ---------------------------------------------------------------- tests

describe("sign-up", () => {
	test("creates the user, signs in and sets a 7-day session cookie", async () => {
		const { jar, client } = browser();
		const email = uniqueEmail("signup");
		const { data, error } = await client.signUp.email({ email, password: PASSWORD, name: "Sign Up" });
		assert.equal(error, null);
		assert.equal(typeof data.token, "string");
		assert.match(data.token, /^[A-Za-z0-9]{32}$/);
		assert.deepEqual(Object.keys(data).sort(), ["token", "user"]);
		assert.deepEqual(Object.keys(data.user).sort(), USER_KEYS);
		assert.equal(data.user.email, email);
		assert.equal(data.user.name, "Sign Up");
		assert.equal(data.user.emailVerified, false);
		assert.equal(data.user.image, null);
		assert.equal(data.user.twoFactorEnabled, false);
		assert.ok(data.user.createdAt instanceof Date);
		assert.ok(data.user.updatedAt instanceof Date);

		const lines = jar.lastSetCookies("/sign-up/email");
		assert.deepEqual(
			lines.map((c) => c.name),
			[SESSION_COOKIE],
		);
		assertSessionCookieLine(lines[0], { maxAge: WEEK });
		assert.equal(unsigned(jar.get(SESSION_COOKIE)), data.token);
		// Signature: "<token>.<44-char standard base64 HMAC>", URL-encoded.
		assert.match(decodeURIComponent(jar.get(SESSION_COOKIE)), /^[A-Za-z0-9]{32}\.[A-Za-z0-9+/]{43}=$/);
	});

	test("lower-cases the email", async () => {
		const { client } = browser();
		const email = uniqueEmail("MiXeD");
		const { data, error } = await client.signUp.email({ email: email.toUpperCase(), password: PASSWORD, name: "M" });
		assert.equal(error, null);
		assert.equal(data.user.email, email.toLowerCase());
	});

	test("duplicate email → 422 USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL", async () => {
		const { email } = await signedUpUser("dup");
		const { client, jar } = browser();
		const { data, error } = await client.signUp.email({ email, password: PASSWORD, name: "Again" });
		assert.equal(data, null);
		assertClientError(error, 422, "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL", "User already exists. Use another email.");
		assert.equal(jar.has(SESSION_COOKIE), false);
	});

	test("short password → 400 PASSWORD_TOO_SHORT", async () => {
		const { client } = browser();
		const { error } = await client.signUp.email({ email: uniqueEmail("short"), password: "1234567", name: "S" });
		assertClientError(error, 400, "PASSWORD_TOO_SHORT", "Password too short");
	});

	test("invalid email → 400 VALIDATION_ERROR", async () => {
		const { client } = browser();
		const { error } = await client.signUp.email({ email: "not-an-email", password: PASSWORD, name: "Bad" });
		assertClientError(error, 400, "VALIDATION_ERROR", "[body.email] Invalid email address");
	});
});

describe("sign-in", () => {
	test("email + password → token, user and a 7-day session cookie", async () => {
		const { email, user } = await signedUpUser("signin");
		const { jar, client } = browser();
		const { data, error } = await client.signIn.email({ email, password: PASSWORD });
		assert.equal(error, null);
		assert.deepEqual(Object.keys(data).sort(), ["redirect", "token", "user"]);
		assert.equal(data.redirect, false);
		assert.match(data.token, /^[A-Za-z0-9]{32}$/);
		assert.deepEqual(Object.keys(data.user).sort(), USER_KEYS);
		assert.equal(data.user.id, user.id);
		assert.equal(data.user.email, email);

		const lines = jar.lastSetCookies("/sign-in/email");
		assert.deepEqual(
			lines.map((c) => c.name),
			[SESSION_COOKIE],
		);
		assertSessionCookieLine(lines[0], { maxAge: WEEK });
		assert.equal(unsigned(jar.get(SESSION_COOKIE)), data.token);
	});

	test("email is matched case-insensitively", async () => {
		const { email, user } = await signedUpUser("case");
		const { data } = await signedIn(email.toUpperCase());
		assert.equal(data.user.id, user.id);
	});

	test("rememberMe:false → dont_remember cookie, session cookie without Max-Age, 1-day session", async () => {
		const { email } = await signedUpUser("nomem");
		const { jar, client } = browser();
		const before = Date.now();
		const { data, error } = await client.signIn.email({ email, password: PASSWORD, rememberMe: false });
		assert.equal(error, null);

		const lines = jar.lastSetCookies("/sign-in/email");
		assert.deepEqual(lines.map((c) => c.name).sort(), [DONT_REMEMBER_COOKIE, SESSION_COOKIE].sort());
		const sessionLine = lines.find((c) => c.name === SESSION_COOKIE);
		const dontRemember = lines.find((c) => c.name === DONT_REMEMBER_COOKIE);
		assertSessionCookieLine(sessionLine, { maxAge: undefined });
		assertSessionCookieLine(dontRemember, { maxAge: undefined });
		assert.match(decodeURIComponent(dontRemember.value), /^true\.[A-Za-z0-9+/]{43}=$/);

		const session = await client.getSession();
		assert.equal(session.error, null);
		assert.equal(session.data.session.token, data.token);
		assertAbout(session.data.session.expiresAt, before + DAY * 1000, 60_000, "expiresAt");
	});

	test("callbackURL → redirect:true and url echoed", async () => {
		const { email } = await signedUpUser("cb");
		const { jar, client } = browser();
		const { data, error } = await client.signIn.email({
			email,
			password: PASSWORD,
			callbackURL: "/dashboard",
			// The client's redirect plugin would navigate; there is no window in Node.
		});
		assert.equal(error, null);
		assert.equal(data.redirect, true);
		assert.equal(data.url, "/dashboard");
		assert.ok(jar.has(SESSION_COOKIE));
	});

	test("wrong password and unknown email → identical 401 INVALID_EMAIL_OR_PASSWORD", async () => {
		const { email } = await signedUpUser("wrongpw");
		const { client, jar } = browser();
		const wrong = await client.signIn.email({ email, password: "not-the-password" });
		const unknown = await client.signIn.email({ email: uniqueEmail("nobody"), password: PASSWORD });
		for (const r of [wrong, unknown]) {
			assert.equal(r.data, null);
			assertClientError(r.error, 401, "INVALID_EMAIL_OR_PASSWORD", "Invalid email or password");
		}
		assert.deepEqual(
			{ code: wrong.error.code, message: wrong.error.message },
			{ code: unknown.error.code, message: unknown.error.message },
		);
		assert.equal(jar.has(SESSION_COOKIE), false);
	});
});

describe("get-session", () => {
	test("returns {session, user} with the documented shape; dates are Date objects", async () => {
		const { email, user } = await signedUpUser("shape", "Shape User");
		const { client, data: signIn } = await signedIn(email);
		const before = Date.now();
		const { data, error } = await client.getSession();
		assert.equal(error, null);
		assert.deepEqual(Object.keys(data).sort(), ["session", "user"]);
		assert.deepEqual(Object.keys(data.session).sort(), SESSION_KEYS);
		assert.deepEqual(Object.keys(data.user).sort(), USER_KEYS);

		const s = data.session;
		assert.match(s.id, /^[A-Za-z0-9]{32}$/);
		assert.equal(s.token, signIn.token);
		assert.equal(s.userId, user.id);
		assert.equal(typeof s.ipAddress, "string");
		assert.equal(typeof s.userAgent, "string");
		for (const k of ["expiresAt", "createdAt", "updatedAt"]) assert.ok(s[k] instanceof Date, `session.${k} is a Date`);
		assertAbout(s.expiresAt, before + WEEK * 1000, 60_000, "expiresAt");

		const u = data.user;
		assert.equal(u.id, user.id);
		assert.equal(u.name, "Shape User");
		assert.equal(u.email, email);
		assert.equal(u.emailVerified, false);
		assert.equal(u.image, null);
		assert.equal(u.twoFactorEnabled, false);
		assert.ok(u.createdAt instanceof Date);
		assert.ok(u.updatedAt instanceof Date);
	});

	test("signed out → data null, error null", async () => {
		const { client } = browser();
		const { data, error } = await client.getSession();
		assert.equal(data, null);
		assert.equal(error, null);
	});

	test("raw: no-store caching headers and a literal null body", async () => {
		const r = await raw("/get-session");
		assert.equal(r.status, 200);
		assert.equal(r.text, "null");
		assert.match(r.headers.get("content-type") ?? "", /^application\/json/);
		assert.equal(r.headers.get("cache-control"), "no-store");
		assert.equal(r.headers.get("pragma"), "no-cache");
	});
});

describe("sessions", () => {
	test("listSessions: two sign-ins → two sessions", async () => {
		const { client: signup, email } = await signedUpUser("list");
		await signup.signOut();
		const a = await signedIn(email);
		const b = await signedIn(email);
		const { data, error } = await a.client.listSessions();
		assert.equal(error, null);
		assert.ok(Array.isArray(data));
		assert.equal(data.length, 2);
		assert.deepEqual(data.map((s) => s.token).sort(), [a.data.token, b.data.token].sort());
		for (const s of data) {
			assert.deepEqual(Object.keys(s).sort(), SESSION_KEYS);
			assert.ok(s.expiresAt instanceof Date);
		}
	});

	test("revokeSession by token ends that session only", async () => {
		const { client: signup, email } = await signedUpUser("revoke1");
		await signup.signOut();
		const a = await signedIn(email);
		const b = await signedIn(email);
		const { data, error } = await b.client.revokeSession({ token: a.data.token });
		assert.equal(error, null);
		assert.deepEqual(data, { status: true });

		const gone = await a.client.getSession();
		assert.equal(gone.data, null);
		assert.equal(gone.error, null);
		assert.equal(a.jar.has(SESSION_COOKIE), false, "stale session cookie is expired by get-session");

		const still = await b.client.getSession();
		assert.equal(still.data.session.token, b.data.token);
		const list = await b.client.listSessions();
		assert.deepEqual(
			list.data.map((s) => s.token),
			[b.data.token],
		);
	});

	test("revokeOtherSessions keeps only the current session", async () => {
		const { email } = await signedUpUser("revoke-others");
		const a = await signedIn(email);
		const b = await signedIn(email);
		const c = await signedIn(email);
		const { data, error } = await a.client.revokeOtherSessions();
		assert.equal(error, null);
		assert.deepEqual(data, { status: true });
		const list = await a.client.listSessions();
		assert.deepEqual(
			list.data.map((s) => s.token),
			[a.data.token],
		);
		for (const other of [b, c]) assert.equal((await other.client.getSession()).data, null);
		assert.equal((await a.client.getSession()).data.session.token, a.data.token);
	});

	test("revokeSessions ends every session and expires the cookies", async () => {
		const { email } = await signedUpUser("revoke-all");
		const a = await signedIn(email);
		const b = await signedIn(email);
		const { data, error } = await a.client.revokeSessions();
		assert.equal(error, null);
		assert.deepEqual(data, { status: true });
		const expired = a.jar.lastSetCookies("/revoke-sessions");
		assert.ok(
			expired.some((c) => c.name === SESSION_COOKIE && c.value === "" && c.attrs.get("max-age") === "0"),
			"session_token expired",
		);
		assert.equal(a.jar.has(SESSION_COOKIE), false);
		assert.equal((await a.client.getSession()).data, null);
		assert.equal((await b.client.getSession()).data, null);
	});
});

describe("update-user", () => {
	test("updateUser({name, image}) is reflected by getSession", async () => {
		const { client } = await signedUpUser("update");
		const { data, error } = await client.updateUser({ name: "New Name", image: "https://example.com/me.png" });
		assert.equal(error, null);
		assert.deepEqual(data, { status: true });
		const s = await client.getSession();
		assert.equal(s.data.user.name, "New Name");
		assert.equal(s.data.user.image, "https://example.com/me.png");
	});

	test("updateUser with email → 400 EMAIL_CAN_NOT_BE_UPDATED", async () => {
		const { client, email } = await signedUpUser("update-email");
		const { data, error } = await client.updateUser({ email: uniqueEmail("other") });
		assert.equal(data, null);
		assertClientError(error, 400, "EMAIL_CAN_NOT_BE_UPDATED", "Email can not be updated");
		assert.equal((await client.getSession()).data.user.email, email);
	});
});

describe("change-password", () => {
	test("wrong current password → 400 INVALID_PASSWORD", async () => {
		const { client } = await signedUpUser("chpw-wrong");
		const { data, error } = await client.changePassword({
			currentPassword: "not-the-password",
			newPassword: "another-password",
		});
		assert.equal(data, null);
		assertClientError(error, 400, "INVALID_PASSWORD", "Invalid password");
	});

	test("revokeOtherSessions:true → new token, old sessions gone, new password works", async () => {
		const { email, user, client, jar, token: oldToken } = await signedUpUser("chpw");
		const other = await signedIn(email);
		const newPassword = "brand-new-password";
		const { data, error } = await client.changePassword({
			currentPassword: PASSWORD,
			newPassword,
			revokeOtherSessions: true,
		});
		assert.equal(error, null);
		assert.deepEqual(Object.keys(data).sort(), ["token", "user"]);
		assert.match(data.token, /^[A-Za-z0-9]{32}$/);
		assert.notEqual(data.token, oldToken);
		assert.equal(data.user.id, user.id);
		const lines = jar.lastSetCookies("/change-password");
		assert.deepEqual(
			lines.map((c) => c.name),
			[SESSION_COOKIE],
		);
		assertSessionCookieLine(lines[0], { maxAge: WEEK });
		assert.equal(unsigned(jar.get(SESSION_COOKIE)), data.token);

		const mine = await client.getSession();
		assert.equal(mine.data.session.token, data.token);
		const list = await client.listSessions();
		assert.deepEqual(
			list.data.map((s) => s.token),
			[data.token],
		);
		assert.equal((await other.client.getSession()).data, null);

		const { client: fresh } = browser();
		const old = await fresh.signIn.email({ email, password: PASSWORD });
		assertClientError(old.error, 401, "INVALID_EMAIL_OR_PASSWORD", "Invalid email or password");
		const ok = await fresh.signIn.email({ email, password: newPassword });
		assert.equal(ok.error, null);
		assert.equal(ok.data.user.id, user.id);
	});

	test("without revokeOtherSessions → token null, sessions kept", async () => {
		const { email, client, token } = await signedUpUser("chpw-keep");
		const other = await signedIn(email);
		const { data, error } = await client.changePassword({ currentPassword: PASSWORD, newPassword: "second-password" });
		assert.equal(error, null);
		assert.equal(data.token, null);
		assert.equal((await client.getSession()).data.session.token, token);
		assert.equal((await other.client.getSession()).data.session.token, other.data.token);
	});
});

describe("sign-out", () => {
	test("signOut → {success:true}, cookies expired, getSession null", async () => {
		const { client, jar } = await signedUpUser("signout");
		const { data, error } = await client.signOut();
		assert.equal(error, null);
		assert.deepEqual(data, { success: true });
		const lines = jar.lastSetCookies("/sign-out");
		for (const name of [SESSION_COOKIE, "better-auth.session_data", DONT_REMEMBER_COOKIE]) {
			const c = lines.find((l) => l.name === name);
			assert.ok(c, `${name} expired`);
			assert.equal(c.value, "");
			assert.equal(c.attrs.get("max-age"), "0");
		}
		assert.equal(jar.has(SESSION_COOKIE), false);
		const s = await client.getSession();
		assert.equal(s.data, null);
		assert.equal(s.error, null);
	});
});

describe("raw protocol checks", () => {
	test("Cookie + foreign Origin → 403 INVALID_ORIGIN", async () => {
		const { jar } = await signedUpUser("origin-bad");
		const r = await raw("/update-user", {
			method: "POST",
			headers: { "content-type": "application/json", cookie: jar.header(), origin: FOREIGN_ORIGIN },
			body: JSON.stringify({ name: "Evil" }),
		});
		assert.equal(r.status, 403);
		assert.equal(r.text, '{"message":"Invalid origin","code":"INVALID_ORIGIN"}');
	});

	test("Cookie + no Origin → 403 MISSING_OR_NULL_ORIGIN", async () => {
		const { jar } = await signedUpUser("origin-missing");
		const r = await raw("/update-user", {
			method: "POST",
			headers: { "content-type": "application/json", cookie: jar.header() },
			body: JSON.stringify({ name: "Evil" }),
		});
		assert.equal(r.status, 403);
		assert.equal(r.text, '{"message":"Missing or null Origin","code":"MISSING_OR_NULL_ORIGIN"}');
	});

	test("unknown route → 404 with an empty body", async () => {
		const r = await raw("/definitely-not-a-route");
		assert.equal(r.status, 404);
		assert.equal(r.text, "");
	});

	test("malformed JSON → 400 BAD_REQUEST", async () => {
		const r = await raw("/sign-in/email", {
			method: "POST",
			headers: { "content-type": "application/json", origin: ORIGIN },
			body: '{"email": "x@example.com", "password": ',
		});
		assert.equal(r.status, 400);
		assert.equal(r.text, '{"message":"Invalid JSON in request body","code":"BAD_REQUEST"}');
	});
});
