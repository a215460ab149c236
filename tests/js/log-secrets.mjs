#!/usr/bin/env node
// Proves "nothing secret in logs": starts the portcullis binary in production mode (no
// PORTCULLIS_DEV — dev mode deliberately logs OTP codes) at the most verbose log level an
// operator could plausibly set (trace for portcullis' own crates, debug for every dependency),
// drives a full flow through the official Better Auth 1.7.25 client (sign-up, sign-in,
// get-session, update-user, change-password, TOTP enrolment, TOTP / email-OTP / backup-code
// sign-ins, trusted device, backup-code regeneration, list/revoke sessions, disable 2FA, and
// some failures), collects every secret the client saw or sent (BETTER_AUTH_SECRET, passwords,
// session tokens and signed cookie values, the two_factor challenge and trust_device cookies,
// the TOTP secret in several encodings, TOTP/OTP codes, backup codes, raw Cookie headers) plus
// the secret columns of the SQLite database along the way (password hash, encrypted TOTP secret,
// backup-code hashes, verification rows; read with better-sqlite3), then greps the server's log
// for each one.
//
// Secrets of 6+ characters are matched as substrings (cookie values also URL-encoded/decoded);
// 6-digit codes only as whole tokens (\b<code>\b) and reported separately as "codes", with the
// log line, so a human can tell a leak from a coincidence (timestamps, ports, ids).
// Fails (exit 1) on any hit, or when the log is empty (the check would be vacuous).
//
// Usage: node tests/js/log-secrets.mjs [--bin target/debug/portcullis] [--log FILTER] [--keep] [--dev]
// --log overrides the filter (e.g. --log trace: every crate at trace, also clean when written).
// --dev is the negative control: PORTCULLIS_DEV=1 logs each email OTP on purpose, so the run
// must FAIL with a code hit — proof that the grep finds what it looks for.

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { twoFactorClient } from "better-auth/client/plugins";
import Database from "better-sqlite3";

import { CookieJar, jarFetch, unsigned } from "./lib/jar.mjs";
import { base32Decode, hotp, parseOtpauth, totpStep } from "./lib/totp.mjs";
import { SECRET, sleep, startServer } from "./servers.mjs";
import { createAuthClient } from "better-auth/client";

// ---------------------------------------------------------------- arguments

const args = { bin: "target/debug/portcullis", log: null, keep: false, dev: false };
for (let i = 2; i < process.argv.length; i++) {
	const a = process.argv[i];
	const [flag, inline] = a.split(/=(.*)/s, 2);
	const value = () => inline ?? process.argv[++i];
	if (flag === "--bin") args.bin = value();
	else if (flag === "--log") args.log = value();
	else if (flag === "--keep") args.keep = true;
	else if (flag === "--dev") args.dev = true;
	else {
		console.error("usage: node log-secrets.mjs [--bin PATH] [--log FILTER] [--keep] [--dev]");
		process.exit(2);
	}
}
// trace for our crates (the binary is `portcullis`, the library `portcullis_server`), debug for
// the rest (actix, sqlx, sea-orm, hyper/reqwest of the OTP webhook, …).
const LOG_FILTER =
	args.log ??
	"debug,portcullis=trace,portcullis_server=trace,portcullis_protocol=trace,portcullis_entity=trace,portcullis_migration=trace";

// ---------------------------------------------------------------- secrets

/** kind → Set of values */
const secrets = new Map();
function addSecret(kind, value) {
	if (typeof value !== "string" || value === "") return;
	if (!secrets.has(kind)) secrets.set(kind, new Set());
	secrets.get(kind).add(value);
}
/** A cookie value as sent: itself, decoded, and (if signed) the value inside. */
function addCookieValue(name, value) {
	if (!value) return;
	const kind = `cookie ${name}`;
	addSecret(kind, value);
	let decoded = value;
	try {
		decoded = decodeURIComponent(value);
	} catch {}
	addSecret(kind, decoded);
	addSecret(kind, encodeURIComponent(decoded));
	const dot = decoded.lastIndexOf(".");
	if (dot > 0) {
		addSecret(`${kind} (unsigned)`, decoded.slice(0, dot));
		addSecret(`${kind} (signature)`, decoded.slice(dot + 1));
	}
}
const isCode = (s) => /^[0-9]{6,8}$/.test(s);
function addCode(kind, code) {
	addSecret(`code: ${kind}`, code);
}

addSecret("BETTER_AUTH_SECRET", SECRET);

// ---------------------------------------------------------------- server

delete process.env.PORTCULLIS_DEV; // production mode, whatever the caller's environment says
const dir = mkdtempSync(join(tmpdir(), "portcullis-log-secrets-"));
const dbPath = join(dir, "db.sqlite");
const srv = await startServer({
	server: "portcullis",
	bin: args.bin,
	databaseUrl: `sqlite://${dbPath}?mode=rwc`,
	dir,
	label: "log-secrets",
	logName: "server.log",
	env: { PORTCULLIS_LOG: LOG_FILTER, PORTCULLIS_RATE_LIMIT: "off", ...(args.dev ? { PORTCULLIS_DEV: "1" } : {}) },
});
const ORIGIN = srv.origin;
const API = `${ORIGIN}/api/auth`;

// ---------------------------------------------------------------- client side

const jars = [];
/** A fresh browser: jar + official client; every Cookie header it sends is recorded. */
function browser() {
	const jar = new CookieJar();
	jars.push(jar);
	const inner = jarFetch(jar, ORIGIN);
	const customFetchImpl = (input, init) => {
		addSecret("Cookie header", jar.header());
		return inner(input, init);
	};
	const client = createAuthClient({
		baseURL: ORIGIN,
		plugins: [twoFactorClient({ onTwoFactorRedirect: () => {} })],
		fetchOptions: { customFetchImpl },
	});
	return { jar, client };
}
function ok({ data, error }, what) {
	if (error) throw new Error(`${what} failed: ${JSON.stringify(error)}`);
	return data;
}
function fails({ data, error }, what) {
	if (!error) throw new Error(`${what} should have failed, got ${JSON.stringify(data)}`);
	return error;
}
/** Collects the tokens of a response body (sign-in/verify answers, sessions). */
function tokensOf(data, what) {
	if (data?.token) addSecret(`session token (${what})`, data.token);
	if (data?.session?.token) addSecret(`session token (${what})`, data.session.token);
	return data;
}
async function readOtp(email) {
	const res = await fetch(`${srv.otpSourceUrl}?email=${encodeURIComponent(email)}`);
	const body = await res.json();
	return { otp: body.otp ?? null, count: body.count ?? 0 };
}
async function sendOtp(client, email) {
	const before = await readOtp(email);
	ok(await client.twoFactor.sendOtp(), "send-otp");
	const deadline = Date.now() + 10_000;
	for (;;) {
		const now = await readOtp(email);
		if (now.otp !== null && now.count > before.count) {
			addCode("email OTP", now.otp);
			return now.otp;
		}
		if (Date.now() > deadline) throw new Error(`no OTP delivered for ${email}`);
		await sleep(25);
	}
}
/** Raw fetch with a hand-made Cookie header (recorded too). */
async function rawPost(path, cookie, body) {
	addSecret("Cookie header", cookie);
	const res = await fetch(`${API}${path}`, {
		method: "POST",
		headers: { "content-type": "application/json", origin: ORIGIN, cookie },
		body: JSON.stringify(body),
	});
	await res.arrayBuffer();
	return res.status;
}

let requests = 0;
async function flow() {
	const email = `log-secrets-${process.pid}-${Date.now().toString(36)}@example.com`;
	let password = "correct-horse-battery-1";
	const newPassword = "correct-horse-battery-2";
	const wrongPassword = "wrong-password-guess-9";
	addSecret("password", password);
	addSecret("password", newPassword);
	addSecret("password (wrong)", wrongPassword);

	// sign-up, get-session, update-user
	const a = browser();
	tokensOf(ok(await a.client.signUp.email({ email, password, name: "Log Secrets" }), "sign-up"), "sign-up");
	tokensOf(ok(await a.client.getSession(), "get-session"), "get-session");
	ok(await a.client.updateUser({ name: "Log Secrets 2" }), "update-user");

	// failures: wrong password, bad session cookie, tampered session cookie
	const bad = browser();
	fails(await bad.client.signIn.email({ email, password: wrongPassword }), "sign-in with a wrong password");
	bad.jar.set("better-auth.session_token", "forged-session-token-0123456789.bm90LWEtc2lnbmF0dXJl");
	addCookieValue("better-auth.session_token", bad.jar.get("better-auth.session_token"));
	if (ok(await bad.client.getSession(), "get-session with a forged cookie") !== null) {
		throw new Error("forged cookie accepted");
	}
	const realToken = unsigned(a.jar.get("better-auth.session_token"));
	bad.jar.set("better-auth.session_token", encodeURIComponent(`${realToken}.AAAAbadsignatureAAAAAAAAAAAAAAAAAAAAAAAAAAA=`));
	addCookieValue("better-auth.session_token", bad.jar.get("better-auth.session_token"));
	if (ok(await bad.client.getSession(), "get-session with a bad signature") !== null) {
		throw new Error("badly signed cookie accepted");
	}

	// sign-in (second session), change-password (revoking the others)
	const b = browser();
	tokensOf(ok(await b.client.signIn.email({ email, password }), "sign-in"), "sign-in");
	fails(
		await a.client.changePassword({ currentPassword: wrongPassword, newPassword: "never-used-password-7" }),
		"change-password with a wrong current password",
	);
	addSecret("password (wrong)", "never-used-password-7");
	tokensOf(
		ok(await a.client.changePassword({ currentPassword: password, newPassword, revokeOtherSessions: true }), "change-password"),
		"change-password",
	);
	password = newPassword;

	// 2FA enable → totpURI + backup codes; wrong password first
	fails(await a.client.twoFactor.enable({ password: wrongPassword }), "enable with a wrong password");
	const enabled = ok(await a.client.twoFactor.enable({ password }), "two-factor enable");
	const { totpURI, backupCodes } = enabled;
	addSecret("totpURI", totpURI);
	const base32 = new URL(totpURI).searchParams.get("secret");
	addSecret("TOTP secret (base32)", base32);
	addSecret("TOTP secret (base32)", base32.toLowerCase());
	const { key, digits, period } = parseOtpauth(totpURI);
	addSecret("TOTP secret (hex)", key.toString("hex"));
	addSecret("TOTP secret (hex)", key.toString("hex").toUpperCase());
	addSecret("TOTP secret (base64)", key.toString("base64"));
	addSecret("TOTP secret (base64url)", key.toString("base64url"));
	const raw = key.toString("latin1");
	if (/^[\x21-\x7e]+$/.test(raw)) addSecret("TOTP secret (raw)", raw);
	addSecret("TOTP secret (bytes)", JSON.stringify([...key]));
	addSecret("TOTP secret (bytes)", [...key].join(", "));
	if (base32Decode(base32).compare(key) !== 0) throw new Error("base32 mismatch");
	for (const c of backupCodes) addSecret("backup code", c);
	const code = (step) => {
		const c = hotp(key, step, digits);
		addCode("TOTP", c);
		return c;
	};
	const t = totpStep(period);
	// enrolment: a wrong code, then the right one
	fails(await a.client.twoFactor.verifyTotp({ code: code(t + 5) }), "verify-totp with a wrong code");
	tokensOf(ok(await a.client.twoFactor.verifyTotp({ code: code(t) }), "verify-totp (enrolment)"), "verify-totp");
	ok(await a.client.twoFactor.getTotpUri({ password }), "get-totp-uri");
	databaseSecrets(); // the encrypted TOTP secret and backup codes exist only while 2FA is on
	ok(await a.client.signOut(), "sign-out");

	// sign-in → challenge → verify-totp (step t+1: the server refuses a replayed step)
	const c = browser();
	const ch = ok(await c.client.signIn.email({ email, password }), "sign-in (challenge)");
	if (ch.twoFactorRedirect !== true) throw new Error(`expected a 2FA challenge, got ${JSON.stringify(ch)}`);
	const challengeCookie = c.jar.get("better-auth.two_factor");
	fails(await c.client.twoFactor.verifyTotp({ code: code(t + 7) }), "verify-totp (sign-in) with a wrong code");
	tokensOf(ok(await c.client.twoFactor.verifyTotp({ code: code(t + 1) }), "verify-totp (sign-in)"), "verify-totp");
	// the spent challenge cookie again, and a tampered one
	await rawPost("/two-factor/verify-totp", `better-auth.two_factor=${challengeCookie}`, { code: code(t + 1) });
	const tampered = encodeURIComponent(`${unsigned(challengeCookie)}.AAAAbadsignatureAAAAAAAAAAAAAAAAAAAAAAAAAAA=`);
	addCookieValue("better-auth.two_factor", tampered);
	await rawPost("/two-factor/verify-totp", `better-auth.two_factor=${tampered}`, { code: code(t + 1) });

	// sign-in → send-otp → wrong OTP → verify-otp
	const d = browser();
	ok(await d.client.signIn.email({ email, password }), "sign-in (challenge, otp)");
	const otp = await sendOtp(d.client, email);
	databaseSecrets(); // the pending OTP's verification row
	const wrongOtp = otp === "000000" ? "111111" : "000000";
	fails(await d.client.twoFactor.verifyOtp({ code: wrongOtp }), "verify-otp with a wrong code");
	tokensOf(ok(await d.client.twoFactor.verifyOtp({ code: otp }), "verify-otp"), "verify-otp");

	// sign-in → verify-backup-code with trustDevice; then a trusted sign-in skips the challenge
	const e = browser();
	ok(await e.client.signIn.email({ email, password }), "sign-in (challenge, backup code)");
	fails(await e.client.twoFactor.verifyBackupCode({ code: "XXXXX-YYYYY" }), "verify-backup-code with a wrong code");
	tokensOf(
		ok(await e.client.twoFactor.verifyBackupCode({ code: backupCodes[0], trustDevice: true }), "verify-backup-code"),
		"verify-backup-code",
	);
	if (!e.jar.has("better-auth.trust_device")) throw new Error("no trust_device cookie after trustDevice: true");
	ok(await e.client.signOut(), "sign-out (trusted device)");
	const trusted = tokensOf(ok(await e.client.signIn.email({ email, password }), "trusted sign-in"), "trusted sign-in");
	if (trusted.twoFactorRedirect) throw new Error("trusted device was challenged");

	// generate-backup-codes, list-sessions, revoke-session, disable
	const regenerated = ok(await e.client.twoFactor.generateBackupCodes({ password }), "generate-backup-codes");
	for (const bc of regenerated.backupCodes) addSecret("backup code", bc);
	databaseSecrets();
	const sessions = ok(await e.client.listSessions(), "list-sessions");
	for (const s of sessions) addSecret("session token (list-sessions)", s.token);
	const mine = unsigned(e.jar.get("better-auth.session_token"));
	const other = sessions.find((s) => s.token !== mine);
	if (!other) throw new Error("list-sessions: expected another session");
	ok(await e.client.revokeSession({ token: other.token }), "revoke-session");
	fails(await e.client.twoFactor.disable({ password: wrongPassword }), "disable with a wrong password");
	ok(await e.client.twoFactor.disable({ password }), "two-factor disable");
	tokensOf(ok(await e.client.getSession(), "get-session (end)"), "get-session");

	// Every cookie value seen in either direction.
	for (const jar of jars) {
		requests += jar.log.length;
		for (const entry of jar.log) for (const sc of entry.setCookies) addCookieValue(sc.name, sc.value);
		for (const [name, value] of jar.cookies) addCookieValue(name, value);
	}
}

/**
 * Adds the secret columns of the SQLite database (hashes, ciphertexts, stored tokens); called at
 * several points of the flow, since disabling 2FA deletes its rows.
 */
function databaseSecrets() {
	const db = new Database(dbPath, { readonly: true, fileMustExist: true });
	try {
		const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all();
		const dump = tables.map((t) => [t, db.prepare(`SELECT * FROM "${t}"`).all()]);
		// Ids are not secret (the challenge's verification row stores the user id as its value).
		const ids = new Set(dump.flatMap(([, rows]) => rows.flatMap((r) => [r.id, r.userId])));
		for (const [table, rows] of dump)
			for (const row of rows)
				for (const [col, v] of Object.entries(row)) {
					if (!/password|secret|backup|token|hash|^value$|^identifier$/i.test(col) || typeof v !== "string") continue;
					if (v.length < 6 || ids.has(v)) continue;
					addSecret(`stored ${table}.${col}`, v);
					storedValues.add(v);
				}
	} finally {
		db.close();
	}
}

// ---------------------------------------------------------------- run, then grep

const mask = (s) => (s.length <= 8 ? `${s.slice(0, 2)}…` : `${s.slice(0, 4)}…${s.slice(-2)}`) + `[${s.length}]`;
const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

let status = 0;
const storedValues = new Set();
try {
	await srv.ready();
	await flow();
} catch (err) {
	console.error(`log-secrets: flow failed: ${err.stack ?? err}`);
	status = 1;
} finally {
	await srv.shutdown();
}
if (status === 0) databaseSecrets();
const stored = storedValues.size;

const text = readFileSync(srv.logPath, "utf8");
// tracing's ANSI styling would split `field=value` pairs; compare on plain text.
// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escapes
const lines = text.split("\n").map((l) => l.replace(/\x1b\[[0-9;]*m/g, ""));
const nonEmpty = lines.filter((l) => l.trim() !== "");

const leaks = [];
const codeHits = [];
let checked = 0;
let codes = 0;
let skipped = 0;
for (const [kind, values] of secrets) {
	for (const value of values) {
		if (kind.startsWith("code: ") || (isCode(value) && kind !== "BETTER_AUTH_SECRET")) {
			codes++;
			const re = new RegExp(`(?<![0-9A-Za-z])${escapeRe(value)}(?![0-9A-Za-z])`);
			lines.forEach((l, i) => {
				if (re.test(l)) codeHits.push({ kind, value, line: i + 1, text: l });
			});
			continue;
		}
		if (value.length < 6) {
			skipped++;
			continue;
		}
		checked++;
		lines.forEach((l, i) => {
			if (l.includes(value)) leaks.push({ kind, value, line: i + 1, text: l });
		});
	}
}

const show = (h) => `  [${h.kind}] ${mask(h.value)} at log line ${h.line}: ${h.text.split(h.value).join(mask(h.value))}`;
if (nonEmpty.length === 0) {
	console.error(`log-secrets: the server log ${srv.logPath} is empty — the check would prove nothing`);
	status = 1;
}
if (leaks.length > 0) {
	console.error(`log-secrets: ${leaks.length} secret occurrence(s) in the server log:`);
	for (const h of leaks) console.error(show(h));
	status = 1;
}
if (codeHits.length > 0) {
	console.error(`log-secrets: ${codeHits.length} 6-digit code(s) appear as whole tokens in the log (check each line):`);
	for (const h of codeHits) console.error(show(h));
	status = 1;
}
if (status !== 0 || args.keep) {
	console.error(`log-secrets: log kept in ${dir}`);
	if (status !== 0 && nonEmpty.length > 0 && leaks.length === 0 && codeHits.length === 0) srv.dumpLog();
} else {
	rmSync(dir, { recursive: true, force: true });
}
console.log(
	`log-secrets: ${checked} secrets (${stored} from the database) and ${codes} codes checked over ` +
		`${requests} requests, ${nonEmpty.length} log lines scanned (PORTCULLIS_LOG=${LOG_FILTER}${args.dev ? ", PORTCULLIS_DEV=1" : ""}); ` +
		`${leaks.length} found in logs, ${codeHits.length} code hits${skipped ? `, ${skipped} values under 6 chars skipped` : ""}` +
		(status === 0 ? " — OK" : " — FAILED"),
);
process.exit(status);
