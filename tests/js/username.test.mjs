// The username plugin through the official Better Auth JS client (better-auth@1.7.25,
// `createAuthClient` + `usernameClient` + `twoFactorClient`). Every expectation was checked
// against the real Better Auth 1.7.25 server with `username()` (better-auth:
// dist/plugins/username/index.mjs).
//
// Run with the plugin on:
//   node run.mjs --server reference --plugins two-factor,username username.test.mjs
//   node run.mjs --server portcullis --bin PATH --plugins two-factor,username username.test.mjs
// Without `username` in PLUGINS (the default is `two-factor`) only the "plugin off" checks run:
// the routes 404 and users carry no username keys.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { twoFactorClient, usernameClient } from "better-auth/client/plugins";

import { assertClientError, ok } from "./lib/client-assert.mjs";
import { CookieJar, jarClient } from "./lib/jar.mjs";
import { hotp, parseOtpauth, totpStep } from "./lib/totp.mjs";

const BASE = process.env.PORTCULLIS_URL;
if (!BASE) {
	throw new Error(
		"PORTCULLIS_URL is not set. Use `node run.mjs --server reference --plugins two-factor,username username.test.mjs`.",
	);
}
const PLUGINS = (process.env.PLUGINS ?? "two-factor")
	.split(",")
	.map((p) => p.trim())
	.filter(Boolean);
const USERNAME_ON = PLUGINS.includes("username");
const ORIGIN = new URL(BASE).origin;
const API = `${ORIGIN}/api/auth`;
const PASSWORD = "password123";
const SESSION_COOKIE = "better-auth.session_token";
const TWO_FACTOR_COOKIE = "better-auth.two_factor";

const USER_KEYS = ["createdAt", "email", "emailVerified", "id", "image", "name", "twoFactorEnabled", "updatedAt"];
const USERNAME_USER_KEYS = [...USER_KEYS, "displayUsername", "username"].sort();

const TAKEN = [400, "USERNAME_IS_ALREADY_TAKEN", "Username is already taken. Please try another."];
const BAD_LOGIN = [401, "INVALID_USERNAME_OR_PASSWORD", "Invalid username or password"];

// ---------------------------------------------------------------- browser

/** A fresh "browser": a cookie jar (lib/jar.mjs) plus the official client with the plugins' client halves. */
function browser() {
	const jar = new CookieJar();
	const redirects = [];
	const client = jarClient({
		jar,
		baseURL: ORIGIN,
		plugins: [
			usernameClient(),
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
function unique(tag) {
	seq += 1;
	return `${tag}${process.pid.toString(36)}${Date.now().toString(36)}${seq}`.toLowerCase().slice(-24);
}
const uniqueEmail = (tag) => `${unique(tag)}@example.com`;

/** Signs a new user up (extra fields such as username) in a fresh browser. */
async function signedUp(extra = {}, tag = "u") {
	const b = browser();
	const email = uniqueEmail(tag);
	const data = ok(await b.client.signUp.email({ email, password: PASSWORD, name: "Username User", ...extra }), "sign-up");
	return { ...b, email, user: data.user, token: data.token };
}

async function raw(path, body) {
	const res = await fetch(`${API}${path}`, {
		method: "POST",
		headers: { "content-type": "application/json", origin: ORIGIN },
		body: JSON.stringify(body),
		redirect: "manual",
	});
	const text = await res.text();
	return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) };
}

// ---------------------------------------------------------------- TOTP (RFC 6238, SHA-1)

function totpNow(totpURI) {
	const { key, digits, period } = parseOtpauth(totpURI);
	return hotp(key, totpStep(period), digits);
}

// ---------------------------------------------------------------- plugin off

describe("username plugin off", { skip: USERNAME_ON && "the username plugin is on" }, () => {
	test("no username routes and no username keys", async () => {
		const { user, client } = await signedUp({ username: "ignored_name" });
		assert.deepEqual(Object.keys(user).sort(), USER_KEYS);
		for (const path of ["/sign-in/username", "/is-username-available"]) {
			const res = await raw(path, { username: "ignored_name", password: PASSWORD });
			assert.equal(res.status, 404, path);
			assert.equal(res.text, "", path);
		}
		const { error } = await client.updateUser({ username: "other_name" });
		assert.equal(error?.status, 400);
		assert.equal(error?.message, "No fields to update");
	});
});

// ---------------------------------------------------------------- plugin on

describe("username plugin on", { skip: !USERNAME_ON && "PLUGINS lacks username" }, () => {
	test("sign-up normalizes the username and keeps it as typed in displayUsername", async () => {
		const name = `Al_${unique("a")}`;
		const { user, client } = await signedUp({ username: name });
		assert.deepEqual(Object.keys(user).sort(), USERNAME_USER_KEYS);
		assert.equal(user.username, name.toLowerCase());
		assert.equal(user.displayUsername, name);
		const session = ok(await client.getSession(), "get-session");
		assert.equal(session.user.username, name.toLowerCase());

		const other = await signedUp({ username: `Dn${unique("d")}`, displayUsername: "Danny Boy" });
		assert.equal(other.user.displayUsername, "Danny Boy");

		const plain = await signedUp();
		assert.deepEqual(Object.keys(plain.user).sort(), USERNAME_USER_KEYS);
		assert.equal(plain.user.username, null);
		assert.equal(plain.user.displayUsername, null);
	});

	test("a valid displayUsername alone becomes the username; an invalid one does not", async () => {
		const display = `Bob.${unique("b")}`;
		const { user } = await signedUp({ displayUsername: display });
		assert.equal(user.username, display.toLowerCase());
		assert.equal(user.displayUsername, display);

		const spaced = await signedUp({ displayUsername: "Bo b" });
		assert.equal(spaced.user.username, null);
		assert.equal(spaced.user.displayUsername, "Bo b");
	});

	test("a taken username is refused on sign-up, case-insensitively", async () => {
		const name = unique("t");
		await signedUp({ username: name });
		const b = browser();
		const { error } = await b.client.signUp.email({
			email: uniqueEmail("t2"),
			password: PASSWORD,
			name: "Dup",
			username: name.toUpperCase(),
		});
		assertClientError(error, ...TAKEN);
		// Also when it would come from displayUsername.
		const r = await b.client.signUp.email({
			email: uniqueEmail("t3"),
			password: PASSWORD,
			name: "Dup",
			displayUsername: name.toUpperCase(),
		});
		assertClientError(r.error, ...TAKEN);
	});

	test("malformed usernames: 400 on sign-up and update, 422 on sign-in and availability", async () => {
		const me = await signedUp({ username: unique("m") });
		const cases = [
			["ab", "USERNAME_TOO_SHORT", "Username is too short"],
			["a".repeat(31), "USERNAME_TOO_LONG", "Username is too long"],
			["ab-c", "INVALID_USERNAME", "Username is invalid"],
		];
		for (const [name, code, message] of cases) {
			const b = browser();
			const up = await b.client.signUp.email({ email: uniqueEmail("m"), password: PASSWORD, name: "M", username: name });
			assertClientError(up.error, 400, code, message);
			assertClientError((await me.client.updateUser({ username: name })).error, 400, code, message);
			assertClientError(
				(await b.client.signIn.username({ username: name, password: PASSWORD })).error,
				422,
				code,
				message,
			);
			assertClientError((await b.client.isUsernameAvailable({ username: name })).error, 422, code, message);
		}
		const { error } = await browser().client.isUsernameAvailable({ username: "" });
		assertClientError(error, 422, "INVALID_USERNAME", "Username is invalid");
		const empty = await browser().client.signIn.username({ username: "", password: PASSWORD });
		assertClientError(empty.error, ...BAD_LOGIN);
	});

	test("signIn.username signs in, with the same error for unknown users and wrong passwords", async () => {
		const name = `Si_${unique("s")}`;
		const { user } = await signedUp({ username: name });

		const b = browser();
		const data = ok(await b.client.signIn.username({ username: name.toUpperCase(), password: PASSWORD }), "sign-in");
		assert.deepEqual(Object.keys(data).sort(), ["redirect", "token", "user"]);
		assert.equal(data.redirect, false);
		assert.equal(data.user.id, user.id);
		assert.equal(data.user.username, name.toLowerCase());
		assert.equal(data.user.displayUsername, name);
		assert.ok(b.jar.has(SESSION_COOKIE));
		const session = ok(await b.client.getSession(), "get-session");
		assert.equal(session.user.id, user.id);

		const withCallback = ok(
			await browser().client.signIn.username({ username: name, password: PASSWORD, callbackURL: "/dash" }),
			"sign-in with callbackURL",
		);
		assert.equal(withCallback.redirect, true);
		assert.equal(withCallback.url, "/dash");

		const wrong = await raw("/sign-in/username", { username: name, password: "wrong-password" });
		const unknown = await raw("/sign-in/username", { username: unique("nobody"), password: PASSWORD });
		for (const res of [wrong, unknown]) {
			assert.equal(res.status, 401);
			assert.deepEqual(res.json(), { message: BAD_LOGIN[2], code: BAD_LOGIN[1] });
			assert.equal(res.headers.getSetCookie().length, 0);
		}
		assert.equal(wrong.text, unknown.text);
	});

	test("isUsernameAvailable", async () => {
		const name = unique("av");
		assert.deepEqual(ok(await browser().client.isUsernameAvailable({ username: name })), { available: true });
		await signedUp({ username: name });
		assert.deepEqual(ok(await browser().client.isUsernameAvailable({ username: name.toUpperCase() })), {
			available: false,
		});
	});

	test("updateUser changes the username; a taken one is refused", async () => {
		const taken = unique("own");
		await signedUp({ username: taken });
		const me = await signedUp();
		const next = `Nx_${unique("n")}`;
		assert.deepEqual(ok(await me.client.updateUser({ username: next }), "update-user"), { status: true });
		let session = ok(await me.client.getSession());
		assert.equal(session.user.username, next.toLowerCase());
		assert.equal(session.user.displayUsername, null, "not derived on update");
		// One's own username again is fine.
		ok(await me.client.updateUser({ username: next.toUpperCase() }), "update-user (own)");
		assertClientError((await me.client.updateUser({ username: taken })).error, ...TAKEN);

		ok(await me.client.updateUser({ displayUsername: "Shown Name" }), "update-user (display)");
		session = ok(await me.client.getSession());
		assert.equal(session.user.displayUsername, "Shown Name");
		assert.equal(session.user.username, next.toLowerCase());
	});

	test(
		"the two-factor gate covers signIn.username",
		{ skip: !PLUGINS.includes("two-factor") && "PLUGINS lacks two-factor" },
		async () => {
			const name = unique("tf");
			const me = await signedUp({ username: name });
			const enabled = ok(await me.client.twoFactor.enable({ password: PASSWORD }), "enable");
			ok(await me.client.twoFactor.verifyTotp({ code: totpNow(enabled.totpURI) }), "verify-totp");

			const b = browser();
			const data = ok(await b.client.signIn.username({ username: name, password: PASSWORD }), "sign-in");
			// "otp" joins "totp" when OTP delivery is configured (run.mjs configures it on both servers).
			assert.deepEqual(Object.keys(data).sort(), ["twoFactorMethods", "twoFactorRedirect"]);
			assert.equal(data.twoFactorRedirect, true);
			assert.ok(data.twoFactorMethods.includes("totp"), JSON.stringify(data));
			assert.deepEqual(b.redirects, [{ twoFactorMethods: data.twoFactorMethods }]);
			assert.ok(b.jar.has(TWO_FACTOR_COOKIE), "two_factor cookie set");
			assert.equal(b.jar.has(SESSION_COOKIE), false, "no session cookie while challenged");
			assert.equal(ok(await b.client.getSession()), null);
		},
	);
});
