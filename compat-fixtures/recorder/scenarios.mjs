// The scripted scenarios: one fixture each. Requests are written in the fixture template
// language (README "Placeholders"): `<email:1>` is a fresh address per recording, `{{jar.cookie}}`
// a cookie a jar received, `f.ph(value)` the placeholder of a value seen in an answer,
// `f.totp(uri)` a TOTP computed at replay time.
//
// TOTP codes: Portcullis refuses a time step it already accepted for the user (deliberate,
// README "Deliberate differences"); Better Auth accepts it again. Outside the one scenario
// that records that difference, each TOTP secret gets at most two successful codes ("fresh"
// picks the current step, then the next), so both servers accept every code.

import { signCookieValue } from "./lib/fixture.mjs";

const PW = "password123";
const SECRET = "test-secret-0123456789-abcdefghijklmnopqrstuvwxyz";
const SESSION = "better-auth.session_token";
const TWO_FACTOR = "better-auth.two_factor";
const TRUST = "better-auth.trust_device";
const DONT_REMEMBER = "better-auth.dont_remember";
const EVIL = "https://evil.example";
/** A session_token signed with the test secret whose session does not exist (protocol notes §13, vector 1). */
const UNKNOWN_SESSION = "LYXaA7WnSBk5KjqWqiw4xAXrfV0eYQuS.ky97YzG3zyWq%2B7Wm9hZXEhyQd%2BUI8aZIDX5dOJrqaB4%3D";
/** A well-formed signature that signs nothing here. */
const BAD_SIG = encodeURIComponent(`${"A".repeat(43)}=`);

const signUp = (f, jar, n, name = "Test User", extra = {}) =>
	f.post("/sign-up/email", {
		title: `(setup) sign up <email:${n}>`,
		json: { email: `<email:${n}>`, password: PW, name, ...extra },
		jar,
	});

const signIn = (f, jar, n, title, extra = {}) =>
	f.post("/sign-in/email", { title, json: { email: `<email:${n}>`, password: PW, ...extra }, jar });

/** Sign up, enable TOTP and verify the first code (enrolment): three exchanges. */
async function totpUser(f, jar, n, name = "Totp User", extra = {}) {
	await signUp(f, jar, n, name, extra);
	const enabled = await f.post("/two-factor/enable", { title: "(setup) enable TOTP", json: { password: PW }, jar });
	const uri = enabled.json.totpURI;
	await f.post("/two-factor/verify-totp", {
		title: "(setup) verify the first TOTP code (enrolment)",
		json: { code: f.totp(uri) },
		jar,
	});
	return { uri, backupCodes: enabled.json.backupCodes };
}

export const SCENARIOS = [
	// ============================================================ core
	{
		name: "core-meta-and-routing",
		title: "GET /ok, the development /error page, and 404s for unknown routes and wrong methods",
		async run(f) {
			await f.get("/ok", { origin: false });
			await f.get("/ok?x=1", { origin: false, title: "GET /ok with a query string" });
			await f.get("/error?error=some_error&error_description=Some+description", {
				origin: false,
				title: "GET /error in development (renders a page)",
			});
			await f.get("/does-not-exist", { origin: false, title: "GET an unknown route → 404" });
			await f.post("/does-not-exist", { json: {}, title: "POST an unknown route → 404" });
			await f.get("/sign-in/email", { origin: false, title: "GET a POST route → 404" });
			await f.post("/get-session", { json: {}, title: "POST a GET route → 405" });
			await f.ex("OPTIONS a route (no CORS handling) → 404", {
				method: "OPTIONS",
				path: "/sign-in/email",
				headers: { "access-control-request-method": "POST", "access-control-request-headers": "content-type" },
			});
			await f.get("/ok/", { origin: false, title: "GET /ok/ (trailing slash)" });
			await f.get("", { origin: false, title: "GET /api/auth (nothing after the base path) → 404" });
			await f.ex("GET /api/authx/ok (outside the base path) → 404", { rawPath: "/api/authx/ok", origin: false });
			await f.get("/%6Fk", { origin: false, title: "GET /api/auth/%6Fk (percent-encoded path) → 404" });
		},
	},
	{
		name: "core-sign-up",
		title: "POST /sign-up/email: success, duplicates, validation, content types, callbackURL",
		async run(f) {
			await f.post("/sign-up/email", {
				title: "sign up",
				json: { email: "<email:1>", password: PW, name: "Alice" },
				jar: "alice",
			});
			await f.post("/sign-up/email", {
				title: "the same email again → 422",
				json: { email: "<email:1>", password: PW, name: "Alice Again" },
			});
			await f.post("/sign-up/email", {
				title: "the same email in upper case → 422 (emails are lower-cased)",
				json: { email: "<email:1|upper>", password: PW, name: "Alice Upper" },
			});
			await f.post("/sign-up/email", {
				title: "password of 7 characters → 400",
				json: { email: "<email:2>", password: "1234567", name: "Short" },
			});
			await f.post("/sign-up/email", {
				title: "password of 129 characters → 400",
				json: { email: "<email:2>", password: "a".repeat(129), name: "Long" },
			});
			await f.post("/sign-up/email", {
				title: "invalid email → 400",
				json: { email: "not-an-email", password: PW, name: "Bad" },
			});
			await f.post("/sign-up/email", { title: "missing name → 400", json: { email: "<email:2>", password: PW } });
			await f.post("/sign-up/email", {
				title: "name is a number → 400",
				json: { email: "<email:2>", password: PW, name: 5 },
			});
			await f.post("/sign-up/email", { title: "empty object → 400", json: {} });
			await f.post("/sign-up/email", {
				title: "with image and rememberMe:false (dont_remember cookie, session cookie without Max-Age)",
				json: { email: "<email:3>", password: PW, name: "Img", image: "https://example.com/a.png", rememberMe: false },
			});
			await f.post("/sign-up/email", {
				title: "upper-case email is stored lower-cased",
				json: { email: "<email:4|upper>", password: PW, name: "Upper" },
			});
			await f.post("/sign-up/email", {
				title: "twoFactorEnabled:true and emailVerified:true are ignored",
				json: { email: "<email:5>", password: PW, name: "Flags", twoFactorEnabled: true, emailVerified: true },
			});
			await f.post("/sign-up/email", {
				title: "untrusted callbackURL → 403",
				json: { email: "<email:6>", password: PW, name: "Cb", callbackURL: `${EVIL}/x` },
			});
			await f.post("/sign-up/email", {
				title: "text/plain body → 415",
				headers: { "content-type": "text/plain" },
				raw: JSON.stringify({ email: "<email:6>", password: PW, name: "T" }),
			});
			await f.post("/sign-up/email", {
				title: "form-urlencoded body (accepted)",
				form: [
					["email", "<email:7>"],
					["password", PW],
					["name", "Form"],
				],
			});
			await f.post("/sign-up/email", {
				title: "malformed JSON → 400",
				headers: { "content-type": "application/json" },
				raw: '{"email": "x@example.com", "password": ',
			});
			await f.post("/sign-up/email", { title: "JSON array body → 400", json: [1, 2] });
		},
	},
	{
		name: "core-sign-in",
		title: "POST /sign-in/email: success, rememberMe, callbackURL, forms, failures, content types",
		async run(f) {
			await signUp(f, "setup", 1, "Alice");
			await signIn(f, "a1", 1, "sign in");
			await signIn(f, "a2", 1, "rememberMe:false (dont_remember cookie)", { rememberMe: false });
			await signIn(f, null, 1, "relative callbackURL (redirect:true, Location)", { callbackURL: "/dashboard" });
			await signIn(f, null, 1, "absolute callbackURL on the trusted origin", { callbackURL: "<origin>/dashboard" });
			await signIn(f, null, 1, "untrusted callbackURL → 403", { callbackURL: `${EVIL}/steal` });
			await signIn(f, null, 1, "protocol-relative callbackURL → 403", { callbackURL: "//evil.example/x" });
			await signIn(f, null, 1, "empty callbackURL", { callbackURL: "" });
			await f.post("/sign-in/email", {
				title: "form-urlencoded body",
				form: [
					["email", "<email:1>"],
					["password", PW],
				],
			});
			await f.post("/sign-in/email", {
				title: "form-urlencoded body with rememberMe=false → 400 (a string, not a boolean)",
				form: [
					["email", "<email:1>"],
					["password", PW],
					["rememberMe", "false"],
				],
			});
			await f.post("/sign-in/email", {
				title: "upper-case email",
				json: { email: "<email:1|upper>", password: PW },
			});
			await f.post("/sign-in/email", {
				title: "wrong password → 401",
				json: { email: "<email:1>", password: "wrong-password" },
			});
			await f.post("/sign-in/email", {
				title: "unknown email → 401 (same answer)",
				json: { email: "<email:2>", password: PW },
			});
			await f.post("/sign-in/email", {
				title: "invalid email → 400",
				json: { email: "not-an-email", password: PW },
			});
			await f.post("/sign-in/email", { title: "missing password → 400", json: { email: "<email:1>" } });
			await f.post("/sign-in/email", {
				title: "password of 129 characters → 400",
				json: { email: "<email:1>", password: "a".repeat(129) },
			});
			await f.post("/sign-in/email", {
				title: "password of 7 characters → 401 (no minimum on sign-in)",
				json: { email: "<email:1>", password: "1234567" },
			});
			await f.post("/sign-in/email", {
				title: "text/plain body → 415",
				headers: { "content-type": "text/plain" },
				raw: JSON.stringify({ email: "<email:1>", password: PW }),
			});
			await f.post("/sign-in/email", {
				title: "JSON body without content-type → 400",
				raw: JSON.stringify({ email: "<email:1>", password: PW }),
			});
			await f.post("/sign-in/email", {
				title: "content-type application/json; charset=utf-8",
				headers: { "content-type": "application/json; charset=utf-8" },
				raw: JSON.stringify({ email: "<email:1>", password: PW }),
			});
			await f.post("/sign-in/email", {
				title: "malformed JSON → 400",
				headers: { "content-type": "application/json" },
				raw: '{"email": "x@example.com", "password": ',
			});
			await f.post("/sign-in/email", { title: "JSON array body → 400", json: [1, 2] });
			await f.post("/sign-in/email", {
				title: "empty body with content-type application/json → 400",
				headers: { "content-type": "application/json" },
				raw: "",
			});
			await f.post("/sign-in/email", {
				title: "JSON body with a UTF-8 BOM",
				headers: { "content-type": "application/json" },
				raw: `\uFEFF${JSON.stringify({ email: "<email:1>", password: PW })}`,
			});
			await f.post("/sign-in/email", {
				title: "user-agent and x-forwarded-for are recorded on the session",
				json: { email: "<email:1>", password: PW },
				headers: { "user-agent": "Mozilla/5.0 (X11; Linux x86_64) Fixture/1.0", "x-forwarded-for": "203.0.113.7" },
				jar: "ua",
			});
			await f.get("/get-session", { jar: "ua", title: "get-session shows ipAddress and userAgent" });
		},
	},
	{
		name: "core-get-session",
		title: "GET /get-session: signed in/out, dont_remember, disableRefresh, bad cookies, refresh and expiry",
		async run(f) {
			const up = await signUp(f, "alice", 1, "Alice");
			const token = f.ph(up.json.token);
			await f.get("/get-session", { jar: "alice", title: "signed in" });
			await signIn(f, "nr", 1, "(setup) sign in with rememberMe:false", { rememberMe: false });
			await f.get("/get-session", { jar: "nr", title: "a rememberMe:false session (dont_remember cookie sent)" });
			await f.get("/get-session", { title: "signed out → null" });
			await f.get("/get-session?disableRefresh=true", { jar: "alice", title: "disableRefresh=true" });
			await f.get("/get-session?disableCookieCache=true", { jar: "alice", title: "disableCookieCache=true" });
			await f.get("/get-session", {
				title: "session cookie with a wrong signature → null",
				cookies: [[SESSION, `{{alice.session_token|unsigned}}.${BAD_SIG}`]],
			});
			await f.get("/get-session", {
				title: "well-signed cookie for a session that does not exist → null",
				cookies: [[SESSION, UNKNOWN_SESSION]],
			});
			await f.get("/get-session", { title: "unrelated cookie only → null", cookies: [["foo", "bar"]] });
			await f.get("/get-session", {
				title: "GET with a foreign Origin (GET is not origin-checked)",
				jar: "alice",
				headers: { origin: EVIL },
			});
			await f.db("age-session", { token, seconds: 2 * 86400 }, "the session was created two days ago (older than updateAge)");
			await f.get("/get-session?disableRefresh=true", {
				jar: "alice",
				title: "disableRefresh=true on a session due for refresh: not refreshed",
			});
			await f.get("/get-session", { jar: "alice", title: "a session due for refresh is refreshed (cookie re-set)" });
			await f.get("/get-session", { jar: "alice", title: "right after the refresh: no cookie" });
			const nrToken = f.ph((await f.get("/get-session", { jar: "nr", title: "(setup) the dont_remember session" })).json.session.token);
			await f.db("age-session", { token: nrToken, seconds: 43200 }, "the rememberMe:false session was created 12 hours ago");
			await f.get("/get-session", { jar: "nr", title: "a rememberMe:false session is never refreshed" });
			await f.db("age-session", { token, seconds: 8 * 86400 }, "the session expired a day ago");
			await f.get("/get-session", { jar: "alice", title: "expired session → null" });
		},
	},
	{
		name: "core-sign-out",
		title: "POST /sign-out",
		async run(f) {
			await signUp(f, "alice", 1, "Alice");
			await f.post("/sign-out", { jar: "alice", title: "sign out (three cookie deletions)" });
			await f.get("/get-session", {
				title: "the signed-out session cookie → null",
				cookies: [[SESSION, "{{alice.session_token}}"]],
			});
			await signIn(f, "nr", 1, "(setup) sign in with rememberMe:false", { rememberMe: false });
			await f.post("/sign-out", { jar: "nr", title: "sign out a rememberMe:false session" });
			await f.post("/sign-out", { title: "sign out without any cookie" });
			await f.post("/sign-out", { title: "sign out with a JSON body {}", json: {} });
			await signIn(f, "b", 1, "(setup) sign in");
			await f.post("/sign-out", { jar: "b", json: [], title: "sign out with a JSON array body → 400" });
			await f.post("/sign-out", { jar: "b", json: { callbackURL: 5 }, title: "sign out with callbackURL:5 → 400" });
			await f.post("/sign-out", {
				title: "junk cookie and a foreign Origin → 403",
				cookies: [["foo", "bar"]],
				headers: { origin: EVIL },
			});
			await f.get("/get-session", { jar: "b", title: "the session survived the rejected sign-outs" });
		},
	},
	{
		name: "core-sessions",
		title: "list-sessions, revoke-session, revoke-other-sessions, revoke-sessions",
		async run(f) {
			await signUp(f, "b1", 1, "Bob");
			const b2 = await signIn(f, "b2", 1, "(setup) second sign-in");
			await signIn(f, "b3", 1, "(setup) third sign-in");
			await f.get("/list-sessions", { jar: "b1", title: "list the three sessions" });
			await f.get("/list-sessions", { title: "signed out → 401" });
			await f.post("/revoke-session", { jar: "b1", json: { token: f.ph(b2.json.token) }, title: "revoke the second session" });
			await f.get("/get-session", { jar: "b2", title: "the revoked session → null" });
			await f.post("/revoke-session", {
				jar: "b1",
				json: { token: "doesnotexist0000000000000000000" },
				title: "revoke an unknown token",
			});
			await f.post("/revoke-session", { jar: "b1", json: {}, title: "missing token → 400" });
			await f.post("/revoke-session", {
				jar: "b1",
				json: { token: "{{b3.session_token}}" },
				title: "the signed cookie value instead of the token",
			});
			await f.get("/get-session", { jar: "b3", title: "that session is still there" });
			await f.post("/revoke-session", { json: { token: f.ph(b2.json.token) }, title: "signed out → 401" });
			const other = await signUp(f, "c", 2, "Carol");
			await f.post("/revoke-session", {
				jar: "b1",
				json: { token: f.ph(other.json.token) },
				title: "another user's session token",
			});
			await f.get("/get-session", { jar: "c", title: "the other user's session is still there" });
			await f.post("/revoke-other-sessions", { jar: "b1", title: "revoke the other sessions" });
			await f.get("/list-sessions", { jar: "b1", title: "only the current session is left" });
			await f.post("/revoke-other-sessions", { jar: "b1", json: {}, title: "revoke-other-sessions with body {}" });
			await signIn(f, "b4", 1, "(setup) fourth sign-in");
			await f.post("/revoke-sessions", { jar: "b1", title: "revoke every session" });
			await f.get("/get-session", { jar: "b4", title: "another browser's session is gone" });
			await f.get("/get-session", { cookies: [[SESSION, "{{b1.session_token}}"]], title: "and so is the current one" });
			await f.post("/revoke-sessions", { title: "revoke-sessions signed out → 401" });
			const b5 = await signIn(f, "b5", 1, "(setup) sign in again");
			await f.db("age-session", { token: f.ph(b5.json.token), seconds: 2 * 86400 }, "the session was created two days ago");
			await f.get("/list-sessions", { jar: "b5", title: "list-sessions from a session that is not fresh" });
		},
	},
	{
		name: "core-update-user",
		title: "POST /update-user",
		async run(f) {
			await signUp(f, "c", 1, "Carol");
			await f.post("/update-user", {
				jar: "c",
				json: { name: "Carol Updated", image: "https://example.com/carol.png" },
				title: "update name and image",
			});
			await f.get("/get-session", { jar: "c", title: "the session shows the new name and image" });
			await f.post("/update-user", { jar: "c", json: { image: null }, title: "image:null" });
			await f.post("/update-user", { jar: "c", json: { email: "new@example.com" }, title: "email → 400" });
			await f.post("/update-user", { jar: "c", json: { twoFactorEnabled: true }, title: "twoFactorEnabled:true" });
			await f.post("/update-user", { jar: "c", json: { emailVerified: true }, title: "emailVerified:true" });
			await f.post("/update-user", { jar: "c", json: { foo: 1 }, title: "an unknown field only" });
			await f.post("/update-user", { jar: "c", json: {}, title: "empty object → 400" });
			await f.post("/update-user", { jar: "c", json: ["name"], title: "JSON array body → 400" });
			await f.post("/update-user", { jar: "c", json: null, title: "JSON null body" });
			await f.post("/update-user", { jar: "c", title: "no body" });
			await f.get("/get-session", { jar: "c", title: "nothing changed" });
			await f.post("/update-user", { json: { name: "x" }, title: "signed out → 401" });
			await f.post("/update-user", {
				jar: "c",
				headers: { "content-type": "text/plain" },
				raw: "name=x",
				title: "text/plain body → 415",
			});
			await f.post("/update-user", {
				jar: "c",
				form: [["name", "x"]],
				title: "form-urlencoded body → 415",
			});
			await signIn(f, "nr", 1, "(setup) sign in with rememberMe:false", { rememberMe: false });
			await f.post("/update-user", {
				jar: "nr",
				json: { name: "Carol" },
				title: "from a rememberMe:false session (cookie re-set without Max-Age)",
			});
			await f.post("/update-user", { jar: "c", json: { name: 5 }, title: "name:5 (Better Auth does not type-check)" });
			await f.post("/update-user", { jar: "c", json: { name: null }, title: "name:null (Better Auth fails in the database)" });
		},
	},
	{
		name: "core-change-password",
		title: "POST /change-password",
		async run(f) {
			await signUp(f, "d1", 1, "Dave");
			await signIn(f, "d2", 1, "(setup) second sign-in");
			const cp = (title, json, jar = "d1") => f.post("/change-password", { jar, json, title });
			await cp("wrong current password → 400", { currentPassword: "wrong-password", newPassword: "newpassword123" });
			await cp("new password of 129 characters → 400", { currentPassword: PW, newPassword: "b".repeat(129) });
			await cp("new password of 7 characters → 400", { currentPassword: PW, newPassword: "1234567" });
			await cp("missing currentPassword → 400", { newPassword: "newpassword123" });
			await cp("change (token null, other sessions kept)", { currentPassword: PW, newPassword: "password456" });
			await f.get("/get-session", { jar: "d2", title: "the other session is still valid" });
			await cp("change with revokeOtherSessions:true (new session)", {
				currentPassword: "password456",
				newPassword: "newpassword789",
				revokeOtherSessions: true,
			});
			await f.get("/get-session", { jar: "d2", title: "the other session was revoked" });
			await f.get("/list-sessions", { jar: "d1", title: "one session left" });
			await f.post("/sign-in/email", {
				json: { email: "<email:1>", password: "password456" },
				title: "the old password no longer works",
			});
			await f.post("/sign-in/email", {
				json: { email: "<email:1>", password: "newpassword789" },
				title: "the new password works",
			});
			await f.post("/change-password", {
				json: { currentPassword: PW, newPassword: "newpassword123" },
				title: "signed out → 401",
			});
		},
	},
	{
		name: "core-origin-checks",
		title: "Origin/Referer/Sec-Fetch checks (CSRF) on state-changing routes",
		async run(f) {
			await signUp(f, "c", 1, "Carol");
			const upd = (title, opts) => f.post("/update-user", { jar: "c", json: { name: "Evil" }, title, ...opts });
			await upd("cookie and a foreign Origin → 403", { headers: { origin: EVIL } });
			await upd("cookie and no Origin → 403", { origin: false });
			await upd("cookie and Origin: null → 403", { headers: { origin: "null" } });
			await upd("Origin differing only by port → 403", { headers: { origin: "http://127.0.0.1:1" } });
			await upd("Origin localhost instead of 127.0.0.1 → 403", { headers: { origin: "http://localhost:<port>" } });
			await f.post("/update-user", {
				jar: "c",
				json: { name: "Carol" },
				origin: false,
				headers: { referer: "<origin>/settings" },
				title: "no Origin but a trusted Referer",
			});
			await f.post("/update-user", {
				jar: "c",
				json: ["x"],
				headers: { origin: EVIL },
				title: "array body and a foreign Origin (origin check first) → 403",
			});
			await f.post("/update-user", {
				jar: "c",
				headers: { "content-type": "text/plain", origin: EVIL },
				raw: "name=x",
				title: "text/plain and a foreign Origin (415 first)",
			});
			await f.post("/update-user", {
				jar: "c",
				headers: { "content-type": "application/json", origin: EVIL },
				raw: "{",
				title: "malformed JSON and a foreign Origin (JSON error first)",
			});
			await f.post("/sign-in/email", {
				json: { email: "<email:1>", password: PW },
				origin: false,
				title: "sign-in without Origin, no cookies (curl-like) → allowed",
			});
			await f.post("/sign-in/email", {
				json: { email: "<email:1>", password: PW },
				origin: false,
				headers: { "sec-fetch-mode": "cors" },
				title: "sign-in without Origin but sec-fetch-mode: cors → 403",
			});
			await f.post("/sign-in/email", {
				json: { email: "<email:1>", password: PW },
				headers: { origin: EVIL },
				title: "sign-in with a foreign Origin → 403",
			});
			await f.post("/sign-in/email", {
				json: { email: "<email:1>", password: PW },
				origin: false,
				headers: { referer: "<origin>/login", "sec-fetch-mode": "cors" },
				title: "sign-in with a trusted Referer instead of Origin",
			});
			await f.post("/sign-in/email", {
				form: [
					["email", "<email:1>"],
					["password", PW],
				],
				origin: false,
				headers: { "sec-fetch-site": "cross-site", "sec-fetch-mode": "navigate", "sec-fetch-dest": "document" },
				title: "cross-site form navigation to sign-in → 403",
			});
		},
	},
	{
		name: "core-body-limit",
		title: "Large request bodies",
		async run(f) {
			await signUp(f, "c", 1, "Carol");
			await f.post("/update-user", {
				jar: "c",
				json: { name: { $compute: "repeat", text: "a", count: 300000 } },
				title: "update-user with a 300 000-character name",
			});
		},
	},
	{
		name: "core-edge-cases",
		title: "Dead session cookies, chunked session_data cookies, client IPs, JSON and media-type corner cases",
		async run(f) {
			await signUp(f, "a", 1, "Alice");
			await f.post("/sign-out", { jar: "a", title: "sign out" });
			const dead = { cookies: [[SESSION, "{{a.session_token}}"]] };
			await f.get("/list-sessions", { ...dead, title: "list-sessions with a signed-out session cookie → 401" });
			await f.post("/update-user", { ...dead, json: { name: "X" }, title: "update-user with a signed-out session cookie → 401" });
			await f.post("/change-password", {
				...dead,
				json: { currentPassword: PW, newPassword: "password456" },
				title: "change-password with a signed-out session cookie → 401",
			});
			await f.post("/revoke-other-sessions", { ...dead, title: "revoke-other-sessions with a signed-out session cookie → 401" });
			await f.post("/two-factor/enable", { ...dead, json: { password: PW }, title: "two-factor/enable with a signed-out session cookie → 401" });
			await signIn(f, "b", 1, "(setup) sign in");
			await f.get("/get-session", {
				cookies: [
					[SESSION, "{{b.session_token}}"],
					["better-auth.session_data.0", "abc"],
					["better-auth.session_data.1", "def"],
				],
				title: "get-session with stale chunked session_data cookies (cleared)",
			});
			await f.get("/get-session", {
				cookies: [
					[SESSION, "{{b.session_token}}"],
					["better-auth.session_data", "abc"],
				],
				title: "get-session with a stale session_data cookie",
			});
			const forwarded = [
				["2001:DB8::1", "an IPv6 address"],
				["::ffff:203.0.113.5", "an IPv4-mapped IPv6 address"],
				["203.0.113.7, 198.51.100.2", "a list of two hops"],
				["unknown", "not an address"],
			];
			for (const [i, [ip, label]] of forwarded.entries()) {
				const jar = `ip${i + 1}`;
				await f.post("/sign-in/email", {
					json: { email: "<email:1>", password: PW },
					headers: { "x-forwarded-for": ip },
					jar,
					title: `sign in with x-forwarded-for ${label}`,
				});
				await f.get("/get-session", { jar, title: `the session's ipAddress for ${label}` });
			}
			await f.post("/sign-up/email", {
				headers: { "content-type": "multipart/form-data; boundary=XX" },
				raw: "--XX--",
				title: "multipart body → 415 (the message quotes the whole header)",
			});
			await f.post("/sign-in/email", {
				headers: { "content-type": "application/json" },
				raw: `{"email": "<email:1>", "password": "wrong", "password": "${PW}"}`,
				title: "duplicate JSON keys (the last one wins)",
			});
			await f.post("/sign-in/email", {
				headers: { "content-type": "application/json" },
				raw: `{"email": "<email:1>", "password": "${PW}"} x`,
				title: "trailing garbage after the JSON → 400",
			});
			await f.post("/sign-in/email", {
				json: { email: "<email:1>", password: PW, rememberMe: "yes" },
				title: "rememberMe as a string → 400",
			});
			await f.post("/sign-in/email", {
				json: { email: " <email:1> ", password: PW },
				title: "email with surrounding spaces",
			});
		},
	},
	// ============================================================ two-factor
	{
		name: "two-factor-enable-totp",
		title: "Enable TOTP, enrolment verification, get-totp-uri",
		async run(f) {
			await signUp(f, "a", 1, "Alice");
			await f.post("/two-factor/get-totp-uri", { jar: "a", json: { password: PW }, title: "get-totp-uri before enabling → 400" });
			await f.post("/two-factor/enable", { jar: "a", json: {}, title: "enable without password → 400" });
			await f.post("/two-factor/enable", { jar: "a", json: { password: "wrong-password" }, title: "wrong password → 400" });
			await f.post("/two-factor/enable", { jar: "a", json: { password: PW, method: "sms" }, title: "unknown method → 400" });
			await f.post("/two-factor/enable", { json: { password: PW }, title: "signed out → 401" });
			const enabled = await f.post("/two-factor/enable", { jar: "a", json: { password: PW }, title: "enable TOTP" });
			await f.get("/get-session", { jar: "a", title: "not enabled until the first code is verified" });
			await f.post("/two-factor/verify-totp", {
				jar: "a",
				json: { code: f.totpWrong(enabled.json.totpURI) },
				title: "verify a wrong code → 401",
			});
			await f.post("/two-factor/verify-totp", { jar: "a", json: {}, title: "verify without code → 400" });
			await f.post("/two-factor/verify-totp", {
				jar: "a",
				json: { code: f.totp(enabled.json.totpURI) },
				title: "verify the current code: enabled (new session cookie)",
			});
			await f.get("/get-session", { jar: "a", title: "twoFactorEnabled is true" });
			await f.post("/two-factor/enable", { jar: "a", json: { password: PW }, title: "enable again → 400" });
			await f.post("/two-factor/get-totp-uri", { jar: "a", json: { password: "wrong-password" }, title: "get-totp-uri, wrong password → 400" });
			await f.post("/two-factor/get-totp-uri", { jar: "a", json: {}, title: "get-totp-uri without password → 400" });
			await f.post("/two-factor/get-totp-uri", { jar: "a", json: { password: PW }, title: "get-totp-uri" });
			await f.post("/two-factor/get-totp-uri", { json: { password: PW }, title: "get-totp-uri signed out → 401" });
			await signUp(f, "b", 2, "Bob");
			await f.post("/two-factor/enable", { jar: "b", json: { password: PW, issuer: "Acme Corp" }, title: "enable with an issuer" });
		},
	},
	{
		name: "two-factor-reenroll",
		title: "Enabling again before the first code is verified replaces the pending secret",
		async run(f) {
			await signUp(f, "a", 1, "Alice");
			const first = await f.post("/two-factor/enable", { jar: "a", json: { password: PW }, title: "enable TOTP" });
			const second = await f.post("/two-factor/enable", {
				jar: "a",
				json: { password: PW },
				title: "enable again while pending: a new secret",
			});
			await f.post("/two-factor/verify-totp", {
				jar: "a",
				json: { code: f.totp(first.json.totpURI) },
				title: "a code of the replaced secret → 401",
			});
			await f.post("/two-factor/verify-totp", {
				jar: "a",
				json: { code: f.totp(second.json.totpURI) },
				title: "a code of the new secret: enabled",
			});
			await f.post("/sign-out", { jar: "a", title: "sign out" });
			await signIn(f, "b", 1, "sign in: TOTP and OTP offered");
		},
	},
	{
		name: "two-factor-totp-sign-in",
		title: "Sign-in with TOTP: the challenge, a wrong code, the right code, a spent challenge",
		async run(f) {
			const { uri } = await totpUser(f, "a", 1);
			await f.post("/sign-out", { jar: "a", title: "sign out" });
			await signIn(f, "b", 1, "sign in: twoFactorRedirect and a two_factor cookie, no session");
			await f.get("/get-session", { jar: "b", title: "no session yet" });
			await f.get("/list-sessions", { jar: "b", title: "list-sessions with only the two_factor cookie → 401" });
			await f.post("/two-factor/verify-totp", { jar: "b", json: { code: f.totpWrong(uri) }, title: "a wrong code → 401" });
			await f.post("/two-factor/verify-totp", { jar: "b", json: { code: "12345" }, title: "a 5-digit code → 401" });
			await f.post("/two-factor/verify-totp", { jar: "b", json: { code: f.totp(uri) }, title: "the right code: session" });
			await f.get("/get-session", { jar: "b", title: "signed in" });
			await f.post("/two-factor/verify-totp", {
				json: { code: f.totpWrong(uri) },
				cookies: [[TWO_FACTOR, "{{b.two_factor}}"]],
				title: "the spent two_factor cookie again → 401",
			});
		},
	},
	{
		name: "two-factor-challenge-cookie",
		title: "Missing, forged, unknown and expired two_factor cookies",
		async run(f) {
			const { uri, backupCodes } = await totpUser(f, "a", 1);
			await signIn(f, "c", 1, "sign in: challenge");
			const vt = (title, cookies, code = f.totpWrong(uri)) =>
				f.post("/two-factor/verify-totp", { json: { code }, cookies, title });
			await vt("verify-totp without any cookie → 401", []);
			await vt("verify-totp with a forged two_factor signature → 401", [[TWO_FACTOR, `{{c.two_factor|unsigned}}.${BAD_SIG}`]]);
			await vt("verify-totp with a well-signed unknown challenge → 401", [
				[TWO_FACTOR, signCookieValue(SECRET, "2fa-AAAAAAAAAAAAAAAAAAAA")],
			]);
			await vt("verify-totp with a session cookie as two_factor → 401", [[TWO_FACTOR, "{{a.session_token}}"]]);
			await f.post("/two-factor/verify-otp", { json: { code: "123456" }, title: "verify-otp without any cookie → 401" });
			await f.post("/two-factor/verify-backup-code", {
				json: { code: f.ph(backupCodes[0]) },
				title: "verify-backup-code without any cookie → 401",
			});
			await f.post("/two-factor/send-otp", { title: "send-otp without any cookie → 401" });
			await f.db("expire-challenge", { cookie: "{{c.two_factor}}" }, "the challenge expired a minute ago");
			await f.post("/two-factor/verify-totp", {
				jar: "c",
				json: { code: f.totp(uri) },
				title: "expired challenge, valid code → 401",
			});
			await f.post("/two-factor/verify-backup-code", {
				jar: "c",
				json: { code: f.ph(backupCodes[0]) },
				title: "expired challenge, valid backup code → 401",
			});
		},
	},
	{
		name: "two-factor-attempt-cap",
		title: "Five wrong codes spend a challenge",
		async run(f) {
			const { uri } = await totpUser(f, "a", 1);
			await signIn(f, "c", 1, "sign in: challenge");
			for (let i = 1; i <= 5; i++) {
				await f.post("/two-factor/verify-totp", { jar: "c", json: { code: f.totpWrong(uri) }, title: `wrong code ${i} → 401` });
			}
			await f.post("/two-factor/verify-totp", {
				jar: "c",
				json: { code: f.totpWrong(uri) },
				title: "a sixth try → 400, the challenge is cancelled",
			});
			await f.post("/two-factor/verify-totp", {
				json: { code: f.totpWrong(uri) },
				cookies: [[TWO_FACTOR, "{{c.two_factor}}"]],
				title: "the cancelled challenge again → 401",
			});
			await signIn(f, "d", 1, "a new challenge");
			await f.post("/two-factor/verify-totp", { jar: "d", json: { code: f.totp(uri) }, title: "the right code → session" });
		},
	},
	{
		name: "two-factor-lockout",
		title: "Ten consecutive failures lock the account for every factor until the lock expires",
		async run(f) {
			const { uri, backupCodes } = await totpUser(f, "a", 1);
			for (const jar of ["c1", "c2"]) {
				await signIn(f, jar, 1, `sign in: challenge ${jar}`);
				for (let i = 1; i <= 5; i++) {
					await f.post("/two-factor/verify-totp", {
						jar,
						json: { code: f.totpWrong(uri) },
						title: `${jar}: wrong code ${i} → 401`,
					});
				}
			}
			await signIn(f, "c3", 1, "sign in: challenge c3 (locked account)");
			await f.post("/two-factor/verify-backup-code", {
				jar: "c3",
				json: { code: f.ph(backupCodes[0]) },
				title: "a valid backup code → 429 (locked)",
			});
			await f.post("/two-factor/send-otp", {
				jar: "c3",
				title: "send-otp while locked",
				capture: { otp: { otpSentTo: "<email:1>" } },
			});
			await f.post("/two-factor/verify-otp", { jar: "c3", json: { code: "{{otp}}" }, title: "the right OTP → 429 (locked)" });
			await f.db("expire-lockout", { email: "<email:1>" }, "the lock ended a second ago");
			await f.post("/two-factor/verify-totp", { jar: "c3", json: { code: f.totp(uri) }, title: "the right code → session" });
		},
	},
	{
		name: "two-factor-otp",
		title: "Email/SMS OTP: enable, session mode, sign-in, wrong/expired codes, attempt cap",
		async run(f) {
			await signUp(f, "a", 1, "Olive");
			await f.post("/two-factor/enable", { jar: "a", json: { password: PW, method: "otp" }, title: "enable OTP (immediately on)" });
			await f.get("/get-session", { jar: "a", title: "twoFactorEnabled is true" });
			await f.post("/two-factor/send-otp", {
				jar: "a",
				title: "send-otp while signed in",
				capture: { "a.otp": { otpSentTo: "<email:1>" } },
			});
			await f.post("/two-factor/verify-otp", { jar: "a", json: { code: "{{a.otp}}" }, title: "verify-otp while signed in" });
			await f.post("/sign-out", { jar: "a", title: "sign out" });
			await signIn(f, "b", 1, "sign in: only otp offered (no TOTP secret)");
			await f.post("/two-factor/verify-otp", { jar: "b", json: { code: "123456" }, title: "verify-otp before any was sent → 400" });
			await f.post("/two-factor/send-otp", {
				jar: "b",
				json: { trustDevice: false },
				title: "send-otp for the challenge",
				capture: { "b.otp": { otpSentTo: "<email:1>" } },
			});
			await f.post("/two-factor/verify-otp", {
				jar: "b",
				json: { code: { $compute: "otp-wrong", otp: "{{b.otp}}" } },
				title: "a wrong OTP → 401",
			});
			await f.post("/two-factor/verify-otp", { jar: "b", json: {}, title: "verify-otp without code → 400" });
			await f.post("/two-factor/verify-otp", { jar: "b", json: { code: "{{b.otp}}" }, title: "the right OTP: session" });
			await f.get("/get-session", { jar: "b", title: "signed in" });
			await signIn(f, "c", 1, "sign in again");
			await f.post("/two-factor/send-otp", {
				jar: "c",
				title: "send-otp",
				capture: { "c.otp": { otpSentTo: "<email:1>" } },
			});
			await f.db("expire-otp", { cookie: "{{c.two_factor}}" }, "the OTP expired a minute ago");
			await f.post("/two-factor/verify-otp", { jar: "c", json: { code: "{{c.otp}}" }, title: "the expired OTP → 400" });
			await signIn(f, "d", 1, "sign in again");
			await f.post("/two-factor/send-otp", {
				jar: "d",
				title: "send-otp",
				capture: { "d.otp": { otpSentTo: "<email:1>" } },
			});
			for (let i = 1; i <= 5; i++) {
				await f.post("/two-factor/verify-otp", {
					jar: "d",
					json: { code: { $compute: "otp-wrong", otp: "{{d.otp}}" } },
					title: `wrong OTP ${i} → 401`,
				});
			}
			await f.post("/two-factor/verify-otp", { jar: "d", json: { code: "{{d.otp}}" }, title: "the right OTP after five wrong ones → 400" });
		},
	},
	{
		name: "two-factor-backup-codes",
		title: "Backup codes: generate, sign in with one, single use, disableSession, session mode",
		async run(f) {
			const { backupCodes } = await totpUser(f, "a", 1);
			await f.post("/two-factor/generate-backup-codes", { jar: "a", json: { password: "wrong-password" }, title: "wrong password → 400" });
			await f.post("/two-factor/generate-backup-codes", { jar: "a", json: {}, title: "without password → 400" });
			await f.post("/two-factor/generate-backup-codes", { json: { password: PW }, title: "signed out → 401" });
			const gen = await f.post("/two-factor/generate-backup-codes", { jar: "a", json: { password: PW }, title: "new codes" });
			const codes = gen.json.backupCodes;
			await f.post("/sign-out", { jar: "a", title: "sign out" });
			await signIn(f, "b", 1, "sign in: challenge");
			await f.post("/two-factor/verify-backup-code", {
				jar: "b",
				json: { code: f.ph(backupCodes[0]) },
				title: "a code from before the regeneration → 401",
			});
			await f.post("/two-factor/verify-backup-code", { jar: "b", json: {}, title: "without code → 400" });
			await f.post("/two-factor/verify-backup-code", { jar: "b", json: { code: f.ph(codes[0]) }, title: "a new code: session" });
			await f.get("/get-session", { jar: "b", title: "signed in" });
			await signIn(f, "c", 1, "sign in again");
			await f.post("/two-factor/verify-backup-code", { jar: "c", json: { code: f.ph(codes[0]) }, title: "the spent code → 401" });
			await f.post("/two-factor/verify-backup-code", {
				jar: "c",
				json: { code: f.ph(codes[1]), disableSession: true },
				title: "another code with disableSession:true",
			});
			await f.get("/get-session", { jar: "c", title: "session after disableSession" });
			await f.post("/two-factor/verify-backup-code", {
				jar: "b",
				json: { code: f.ph(codes[2]) },
				title: "verify a code while signed in",
			});
			await f.post("/two-factor/verify-backup-code", {
				jar: "b",
				json: { code: f.ph(codes[2]) },
				title: "the same code again while signed in → 401",
			});
		},
	},
	{
		name: "two-factor-trust-device",
		title: "Trusted devices: issue, skip the challenge, rotation, expiry, forgery",
		async run(f) {
			const { uri } = await totpUser(f, "a", 1);
			await signIn(f, "b", 1, "sign in: challenge");
			await f.post("/two-factor/verify-totp", {
				jar: "b",
				json: { code: f.totp(uri), trustDevice: true },
				title: "the right code with trustDevice:true: trust_device cookie",
				capture: { first_trust: { setCookie: TRUST } },
			});
			await f.post("/sign-out", { jar: "b", title: "sign out (the trust_device cookie stays)" });
			await signIn(f, "b", 1, "sign in on the trusted device: session at once, trust cookie rotated");
			await f.post("/sign-out", { jar: "b", title: "sign out" });
			await f.post("/sign-in/email", {
				json: { email: "<email:1>", password: PW },
				cookies: [[TRUST, "{{first_trust}}"]],
				title: "the rotated-away trust cookie: challenge, trust cookie cleared",
			});
			await f.post("/sign-in/email", {
				json: { email: "<email:1>", password: PW },
				cookies: [[TRUST, `{{first_trust|unsigned}}.${BAD_SIG}`]],
				title: "a forged trust cookie: challenge",
			});
			await signIn(f, "c", 1, "another browser: challenge");
			await f.db("expire-trust-device", { email: "<email:1>" }, "the trusted-device record expired");
			await signIn(f, "b", 1, "the expired trust: challenge, trust cookie cleared");
		},
	},
	{
		name: "two-factor-disable",
		title: "Disable two-factor",
		async run(f) {
			const { uri } = await totpUser(f, "a", 1);
			await f.post("/sign-out", { jar: "a", title: "sign out" });
			await signIn(f, "b", 1, "sign in: challenge");
			await f.post("/two-factor/verify-totp", {
				jar: "b",
				json: { code: f.totp(uri), trustDevice: true },
				title: "the right code, trusting the device",
			});
			await f.post("/two-factor/disable", { jar: "b", json: { password: "wrong-password" }, title: "wrong password → 400" });
			await f.post("/two-factor/disable", { jar: "b", json: {}, title: "without password → 400" });
			await f.post("/two-factor/disable", { json: { password: PW }, title: "signed out → 401" });
			await f.post("/two-factor/disable", {
				jar: "b",
				json: { password: PW },
				title: "disable: new session cookie, trust cookie cleared",
			});
			await f.get("/get-session", { jar: "b", title: "twoFactorEnabled is false" });
			await f.post("/two-factor/get-totp-uri", { jar: "b", json: { password: PW }, title: "get-totp-uri → 400" });
			await f.post("/two-factor/verify-totp", {
				jar: "b",
				json: { code: f.totpWrong(uri) },
				title: "verify-totp while signed in → 400",
			});
			await f.post("/two-factor/generate-backup-codes", { jar: "b", json: { password: PW }, title: "generate-backup-codes after disabling" });
			await f.post("/sign-out", { jar: "b", title: "sign out" });
			await signIn(f, "c", 1, "sign in: no challenge any more");
			await f.post("/sign-in/email", {
				json: { email: "<email:1>", password: PW },
				cookies: [[TRUST, "{{b.trust_device}}"]],
				title: "sign in with the old trust cookie: plain session",
			});
		},
	},
	{
		name: "two-factor-mixed-methods",
		title: "OTP first, then TOTP: pending enrolment, method lists, trust from OTP and backup codes",
		async run(f) {
			await signUp(f, "a", 1, "Mia");
			await f.post("/two-factor/enable", { jar: "a", json: { password: PW, method: "otp" }, title: "enable OTP" });
			await f.post("/two-factor/verify-totp", { jar: "a", json: { code: "123456" }, title: "verify-totp without a TOTP secret → 400" });
			await f.post("/two-factor/get-totp-uri", { jar: "a", json: { password: PW }, title: "get-totp-uri without a TOTP secret → 400" });
			await f.post("/two-factor/generate-backup-codes", {
				jar: "a",
				json: { password: PW },
				title: "generate-backup-codes without a twoFactor row",
			});
			const enabled = await f.post("/two-factor/enable", { jar: "a", json: { password: PW }, title: "enable TOTP (pending)" });
			await f.post("/two-factor/get-totp-uri", { jar: "a", json: { password: PW }, title: "get-totp-uri while pending" });
			await signIn(f, "b", 1, "sign in: only otp while TOTP is pending");
			await f.post("/two-factor/verify-totp", {
				jar: "b",
				json: { code: f.totp(enabled.json.totpURI) },
				title: "verify-totp on the challenge while TOTP is pending → 400",
			});
			await f.post("/two-factor/send-otp", {
				jar: "b",
				title: "send-otp",
				capture: { "b.otp": { otpSentTo: "<email:1>" } },
			});
			await f.post("/two-factor/verify-otp", {
				jar: "b",
				json: { code: "{{b.otp}}", trustDevice: true },
				title: "the OTP, trusting the device",
			});
			await f.post("/two-factor/verify-totp", {
				jar: "a",
				json: { code: f.totp(enabled.json.totpURI) },
				title: "finish the TOTP enrolment (2FA already on: no new session)",
			});
			await f.post("/sign-out", { jar: "b", title: "sign out (trust cookie kept)" });
			await signIn(f, "b", 1, "sign in on the trusted device: no challenge");
			await signIn(f, "c", 1, "sign in elsewhere: totp and otp");
			await f.post("/two-factor/verify-backup-code", {
				jar: "c",
				json: { code: f.ph(enabled.json.backupCodes[0]), trustDevice: true },
				title: "a backup code, trusting the device",
			});
			await f.post("/two-factor/disable", { jar: "c", json: { password: PW }, title: "disable" });
			await signIn(f, "d", 1, "sign in: no challenge");
			await f.post("/two-factor/enable", { jar: "d", json: { password: PW }, title: "enable TOTP again after disabling" });
		},
	},
	{
		name: "two-factor-dont-remember",
		title: "rememberMe:false survives the challenge",
		async run(f) {
			const { uri } = await totpUser(f, "a", 1);
			await signIn(f, "b", 1, "sign in with rememberMe:false: challenge", { rememberMe: false });
			await f.post("/two-factor/verify-totp", {
				jar: "b",
				json: { code: f.totp(uri) },
				title: "the right code: a session cookie without Max-Age",
			});
			await f.get("/get-session", { jar: "b", title: "signed in" });
		},
	},
	{
		name: "two-factor-request-validation",
		title: "Two-factor routes: body validation, content types, methods",
		async run(f) {
			const { uri } = await totpUser(f, "a", 1);
			await signIn(f, "b", 1, "sign in: challenge");
			await f.post("/two-factor/verify-totp", { jar: "b", json: { code: 123456 }, title: "code as a number → 400" });
			await f.post("/two-factor/verify-totp", {
				jar: "b",
				json: { code: f.totpWrong(uri), trustDevice: "yes" },
				title: "trustDevice as a string → 400",
			});
			await f.post("/two-factor/verify-totp", { jar: "b", json: [1], title: "array body → 400" });
			await f.post("/two-factor/verify-totp", {
				jar: "b",
				headers: { "content-type": "text/plain" },
				raw: '{"code":"123456"}',
				title: "text/plain body → 415",
			});
			await f.post("/two-factor/verify-totp", {
				jar: "b",
				headers: { "content-type": "application/json" },
				raw: "{",
				title: "malformed JSON → 400",
			});
			await f.post("/two-factor/verify-totp", {
				jar: "b",
				json: { code: f.totpWrong(uri) },
				headers: { origin: EVIL },
				title: "a foreign Origin → 403",
			});
			await f.get("/two-factor/verify-totp", { jar: "b", title: "GET verify-totp → 404" });
			await f.post("/two-factor/send-otp", { jar: "b", json: { trustDevice: "yes" }, title: "send-otp with trustDevice as a string → 400" });
			await f.post("/two-factor/enable", { jar: "a", json: { password: 5 }, title: "enable with password as a number → 400" });
			await f.post("/two-factor/verify-backup-code", {
				jar: "b",
				json: { code: "abcde-fghij", disableSession: "no" },
				title: "verify-backup-code with disableSession as a string → 400",
			});
		},
	},
	{
		name: "two-factor-username-gate",
		title: "The two-factor gate on /sign-in/username",
		async run(f) {
			const { backupCodes } = await totpUser(f, "a", 1, "Una", { username: "<username:1>" });
			await f.post("/sign-in/username", {
				jar: "b",
				json: { username: "<username:1>", password: PW },
				title: "sign in by username: challenge",
			});
			await f.post("/two-factor/verify-backup-code", { jar: "b", json: { code: f.ph(backupCodes[0]) }, title: "a backup code: session" });
			await f.get("/get-session", { jar: "b", title: "signed in" });
		},
	},
	{
		name: "two-factor-totp-replay",
		title: "A TOTP code already accepted, submitted again",
		async run(f) {
			const { uri } = await totpUser(f, "a", 1);
			await signIn(f, "b", 1, "sign in: challenge");
			await f.post("/two-factor/verify-totp", { jar: "b", json: { code: f.totp(uri) }, title: "the right code: session" });
			await signIn(f, "c", 1, "sign in on another browser: challenge");
			await f.post("/two-factor/verify-totp", {
				jar: "c",
				json: { code: f.totp(uri, "replay") },
				title: "the same code again (Better Auth accepts it within its window)",
			});
		},
	},
	// ============================================================ username
	{
		name: "username-sign-up-and-update",
		title: "Username plugin: sign-up and update-user fields, normalization, validation",
		async run(f) {
			await f.post("/sign-up/email", {
				jar: "a",
				json: { email: "<email:1>", password: PW, name: "Alice", username: "<username:1>" },
				title: "sign up with a username (displayUsername copies it)",
			});
			await f.post("/sign-up/email", {
				json: { email: "<email:2>", password: PW, name: "Bob", username: "<username:2|upper>" },
				title: "an upper-case username is stored lower-cased, displayed as typed",
			});
			await f.post("/sign-up/email", {
				json: { email: "<email:3>", password: PW, name: "Carl", displayUsername: "<username:3>" },
				title: "displayUsername only (becomes the username too)",
			});
			await f.post("/sign-up/email", {
				json: { email: "<email:4>", password: PW, name: "Dan", username: "<username:4>", displayUsername: "Dan The Man" },
				title: "username and a separate displayUsername",
			});
			await f.post("/sign-up/email", {
				json: { email: "<email:5>", password: PW, name: "Dup", username: "<username:1|upper>" },
				title: "a taken username (other case) → 400",
			});
			await f.post("/sign-up/email", {
				json: { email: "<email:5>", password: PW, name: "Short", username: "ab" },
				title: "too short → 400",
			});
			await f.post("/sign-up/email", {
				json: { email: "<email:5>", password: PW, name: "Long", username: "a".repeat(31) },
				title: "too long → 400",
			});
			await f.post("/sign-up/email", {
				json: { email: "<email:5>", password: PW, name: "Bad", username: "bad name!" },
				title: "invalid characters → 400",
			});
			await f.post("/sign-up/email", {
				json: { email: "<email:5>", password: PW, name: "Empty", username: "" },
				title: "empty username → 400",
			});
			await f.post("/update-user", { jar: "a", json: { username: "<username:6>" }, title: "update-user username" });
			await f.get("/get-session", { jar: "a", title: "the session shows the new username" });
			await f.post("/update-user", { jar: "a", json: { username: "<username:2>" }, title: "update-user to a taken username → 400" });
			await f.post("/update-user", { jar: "a", json: { username: "bad name!" }, title: "update-user to an invalid username → 400" });
			await f.post("/update-user", { jar: "a", json: { displayUsername: "Alice A." }, title: "update-user displayUsername only" });
			await f.get("/get-session", { jar: "a", title: "displayUsername changed, username kept" });
			await f.post("/update-user", { jar: "a", json: { username: null }, title: "update-user username:null" });
			await f.get("/get-session", { jar: "a", title: "after username:null" });
			await f.post("/update-user", { jar: "a", json: { username: "<username:6|upper>" }, title: "update-user to the same username in upper case" });
			await f.post("/sign-up/email", {
				json: { email: "<email:5>", password: PW, name: "Num", username: 5 },
				title: "username as a number",
			});
		},
	},
	{
		name: "username-sign-in-and-availability",
		title: "POST /sign-in/username and POST /is-username-available",
		async run(f) {
			await signUp(f, "a", 1, "Alice", { username: "<username:1>" });
			const su = (title, json, extra = {}) => f.post("/sign-in/username", { json, title, ...extra });
			await su("sign in by username", { username: "<username:1>", password: PW }, { jar: "b" });
			await su("upper-case username", { username: "<username:1|upper>", password: PW });
			await su("rememberMe:false", { username: "<username:1>", password: PW, rememberMe: false });
			await su("relative callbackURL", { username: "<username:1>", password: PW, callbackURL: "/home" });
			await su("wrong password → 401", { username: "<username:1>", password: "wrong-password" });
			await su("unknown username → 401", { username: "<username:2>", password: PW });
			await su("too short username → 422", { username: "ab", password: PW });
			await su("invalid username → 422", { username: "bad name!", password: PW });
			await su("empty username → 401", { username: "", password: PW });
			await su("missing password → 400", { username: "<username:1>" });
			await su("password of 129 characters → 400", { username: "<username:1>", password: "a".repeat(129) });
			await su("a foreign Origin without cookies (accepted)", { username: "<username:1>", password: PW }, { headers: { origin: EVIL } });
			const av = (title, json) => f.post("/is-username-available", { json, title });
			await av("a taken username → false", { username: "<username:1>" });
			await av("taken, other case → false", { username: "<username:1|upper>" });
			await av("a free username → true", { username: "<username:3>" });
			await av("too short → 422", { username: "ab" });
			await av("invalid → 422", { username: "bad name!" });
			await av("empty → 422", { username: "" });
			await av("missing → 400", {});
			await av("a number", { username: 5 });
		},
	},
];
