// Cookie cache interop: the real Better Auth 1.7.25 (session.cookieCache, strategy compact) and
// Portcullis (PORTCULLIS_COOKIE_CACHE=on) on one database with one secret, run by
// `node run-mixed.mjs --bin PATH --cookie-cache cookie-cache.test.mjs`.
//
// The proof that a server answered from the cookie and not from the database: the session row
// is revoked first (from another browser), so only the cookie can still say "signed in". Each
// server must accept the other's session_data cookie that way, answer with the same bytes, and
// refuse a tampered one. The two-factor gate of either server must not let a live cache cookie
// out (better-auth: dist/cookies/index.mjs removeSetCookieEntries).

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { twoFactorClient } from "better-auth/client/plugins";

import { ok } from "./lib/client-assert.mjs";
import { CookieJar, jarClient, jarFetch, unsigned } from "./lib/jar.mjs";
import { base32Decode, hotp, totpStep } from "./lib/totp.mjs";

const env = (name) => {
	const v = process.env[name];
	if (!v) throw new Error(`${name} is not set; run this suite with run-mixed.mjs --cookie-cache`);
	return v;
};
const ORIGIN = env("ORIGIN");
const BASES = { ba: env("REFERENCE_URL"), pc: env("PORTCULLIS_URL") };
const PASSWORD = "password123";
const DATA = "better-auth.session_data";
const SESSION = "better-auth.session_token";
const OTHER = { ba: "pc", pc: "ba" };

function browser(jar = new CookieJar()) {
	const client = (key) =>
		jarClient({
			jar,
			baseURL: BASES[key],
			origin: ORIGIN,
			plugins: [twoFactorClient({ onTwoFactorRedirect: () => {} })],
		});
	return { jar, ba: client("ba"), pc: client("pc") };
}

/** The raw /get-session body text from `server` with `jar`'s cookies (the jar is updated). */
async function rawSession(jar, server, query = "") {
	const res = await jarFetch(jar, ORIGIN)(`${BASES[server]}/api/auth/get-session${query}`, { method: "GET" });
	assert.equal(res.status, 200);
	return res.text();
}

let seq = 0;
const uniqueEmail = (tag) => `cc-${tag}-${process.pid}-${Date.now().toString(36)}-${++seq}@example.com`;

/** Signs up on `server` and returns the browser, holding that server's cache cookie. */
async function signedUp(server, tag) {
	const b = browser();
	const email = uniqueEmail(tag);
	ok(await b[server].signUp.email({ email, password: PASSWORD, name: `Cache ${tag}` }), "sign-up");
	assert.ok(b.jar.get(DATA), `${server} issued a session_data cookie`);
	return { b, email };
}

/** Revokes `b`'s session from a second browser signed in on `server`. */
async function revokeElsewhere(b, email, server) {
	const other = browser();
	ok(await other[server].signIn.email({ email, password: PASSWORD }), "second sign-in");
	ok(await other[server].revokeSession({ token: unsigned(b.jar.get(SESSION)) }), "revoke-session");
}

describe("cookie cache, Better Auth ⇄ Portcullis", () => {
	for (const issuer of ["ba", "pc"]) {
		const reader = OTHER[issuer];
		test(`a cache cookie issued by ${issuer} answers on ${reader}, byte for byte, after revocation`, async () => {
			const { b, email } = await signedUp(issuer, `x-${issuer}`);
			const fromIssuer = await rawSession(b.jar, issuer);
			await revokeElsewhere(b, email, issuer);
			// Both now answer from the cookie alone (the row is gone), identically.
			const copy = new CookieJar();
			for (const [k, v] of b.jar.cookies) copy.set(k, v);
			assert.equal(await rawSession(copy, reader), fromIssuer, `${reader} reads ${issuer}'s cookie`);
			assert.equal(await rawSession(copy, issuer), fromIssuer);
			assert.equal(JSON.parse(fromIssuer).user.email, email);
			// Bypassing the cache, both see the revocation.
			assert.equal(await rawSession(copy, reader, "?disableCookieCache=true"), "null");
			assert.equal(copy.get(DATA), undefined, "cache cookie expired");
		});

		test(`${reader} refuses a tampered cache cookie from ${issuer}`, async () => {
			const { b, email } = await signedUp(issuer, `t-${issuer}`);
			const inner = JSON.parse(Buffer.from(b.jar.get(DATA), "base64url").toString("utf8"));
			inner.session.user.name = "Mallory";
			b.jar.set(DATA, Buffer.from(JSON.stringify(inner)).toString("base64url"));
			await revokeElsewhere(b, email, issuer);
			for (const server of [reader, issuer]) {
				const copy = new CookieJar();
				for (const [k, v] of b.jar.cookies) copy.set(k, v);
				assert.equal(await rawSession(copy, server), "null", `${server}: forged cache refused, database says revoked`);
			}
		});
	}

	for (const server of ["ba", "pc"]) {
		test(`the two-factor gate on ${server} lets no cache cookie out`, async () => {
			const { b, email } = await signedUp(server, `2fa-${server}`);
			const enabled = ok(await b[server].twoFactor.enable({ password: PASSWORD }), "enable");
			const key = base32Decode(new URL(enabled.totpURI).searchParams.get("secret"));
			const step = totpStep();
			ok(await b[server].twoFactor.verifyTotp({ code: hotp(key, step) }), "enrol");

			const c = browser();
			const res = ok(await c[server].signIn.email({ email, password: PASSWORD }), "sign-in");
			assert.equal(res.twoFactorRedirect, true);
			for (const line of c.jar.lastSetCookies("/sign-in/email")) {
				if (line.name === DATA) assert.equal(line.value, "", `live cache cookie leaked: ${line.line}`);
			}
			assert.equal(c.jar.get(DATA), undefined);
			for (const s of ["ba", "pc"]) assert.equal(await rawSession(c.jar, s), "null", s);
		});
	}
});
