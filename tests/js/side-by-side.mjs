#!/usr/bin/env node
// Side-by-side: ONE official-client scenario (createAuthClient + twoFactorClient + usernameClient,
// a cookie jar per "browser" as in core.test.mjs) against a freshly started reference Better Auth
// 1.7.25 (reference-server.mjs) and a freshly started portcullis binary, each on a fresh SQLite
// database. Both transcripts are normalized (dates, ids/tokens numbered by first appearance, TOTP
// secrets, backup codes, the origin) and diffed step by step; a difference passes only when
// compat-fixtures/allowlist.json ("client") names it exactly. The per-step result is compared
// with the committed compat-fixtures/client-baseline.jsonl, so a regression shows as a diff.
//
// Usage:
//   node side-by-side.mjs --bin PATH                      # exit 1 on an unexplained difference
//                                                         # or when the baseline changed
//   node side-by-side.mjs --bin PATH --update-baseline    # rewrite the baseline
//   node side-by-side.mjs --bin PATH --transcripts DIR    # also write both transcripts there
//
// Each step records, per request the client made: method, path, request body shape (leaf
// types), status and the Set-Cookie names it received ("-name" for a deletion); plus the
// client's normalized {data, error} and whether onTwoFactorRedirect fired.

import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createAuthClient } from "better-auth/client";
import { twoFactorClient, usernameClient } from "better-auth/client/plugins";

import { base32Decode, hotp, totpStep } from "./lib/totp.mjs";
import { sleep, startServer } from "./servers.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(here, "../..");
const ALLOWLIST = join(ROOT, "compat-fixtures/allowlist.json");
const BASELINE = join(ROOT, "compat-fixtures/client-baseline.jsonl");
const PLUGINS = "two-factor,username";
const PW = "password123";
const NEW_PW = "password456";

function usage(msg) {
	if (msg) console.error(`side-by-side.mjs: ${msg}`);
	console.error("usage: node side-by-side.mjs --bin PATH [--update-baseline] [--transcripts DIR] [--keep]");
	process.exit(2);
}

const args = { bin: null, update: false, transcripts: null, keep: false };
{
	const argv = process.argv.slice(2);
	for (let i = 0; i < argv.length; i++) {
		const a = argv[i];
		const value = () => (i + 1 < argv.length ? argv[++i] : usage(`${a} needs a value`));
		if (a === "--bin") args.bin = value();
		else if (a === "--update-baseline") args.update = true;
		else if (a === "--transcripts") args.transcripts = value();
		else if (a === "--keep") args.keep = true;
		else if (a === "-h" || a === "--help") usage();
		else usage(`unknown argument ${a}`);
	}
	if (!args.bin) usage("--bin PATH is required");
}

// ---------------------------------------------------------------- normalization

/** JSON value → the same structure with leaf types instead of values. */
function shape(v) {
	if (v === null) return "null";
	if (Array.isArray(v)) return v.map(shape);
	if (typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, shape(x)]));
	return typeof v;
}

/** Per-transcript normalizer: numbered placeholders in order of first appearance. */
function normalizer(origin) {
	const seen = new Map();
	const counters = new Map();
	const ph = (kind, value) => {
		const key = `${kind}\u0000${value}`;
		if (!seen.has(key)) {
			const n = (counters.get(kind) ?? 0) + 1;
			counters.set(kind, n);
			seen.set(key, `<${kind}:${n}>`);
		}
		return seen.get(key);
	};
	const str = (s) =>
		s
			.split(origin)
			.join("<origin>")
			.replace(/secret=([A-Z2-7]+)/g, (_, x) => `secret=${ph("totp-secret", x)}`)
			.replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/g, "<date>")
			.replace(/(?<![A-Za-z0-9])[A-Za-z0-9]{32}(?![A-Za-z0-9])/g, (m) => ph("id", m))
			.replace(/^[A-Za-z0-9]{5}-[A-Za-z0-9]{5}$/, (m) => ph("backup-code", m));
	const norm = (v) => {
		if (typeof v === "string") return str(v);
		if (v instanceof Date) return "<date>";
		if (Array.isArray(v)) return v.map(norm);
		if (v && typeof v === "object") {
			// Key order is not part of the contract; sort for a stable diff.
			return Object.fromEntries(
				Object.keys(v)
					.sort()
					.map((k) => [k, norm(v[k])]),
			);
		}
		return v;
	};
	return norm;
}

// ---------------------------------------------------------------- one run

/**
 * Runs the scenario against `srv` and returns the transcript: [{step, call, requests, data,
 * error, twoFactorRedirect}].
 */
async function runScenario(srv) {
	const origin = srv.origin;
	const norm = normalizer(origin);
	const transcript = [];
	const totpLast = new Map();

	function browser() {
		const cookies = new Map();
		const log = [];
		const redirects = [];
		const customFetchImpl = async (input, init = {}) => {
			const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
			const headers = new Headers(init.headers);
			headers.set("origin", origin);
			const cookie = [...cookies].map(([k, v]) => `${k}=${v}`).join("; ");
			if (cookie) headers.set("cookie", cookie);
			else headers.delete("cookie");
			const response = await fetch(url, { ...init, headers, redirect: "manual" });
			const setCookies = [];
			for (const line of response.headers.getSetCookie()) {
				const [pair, ...attrs] = line.split(";");
				const name = pair.slice(0, pair.indexOf("=")).trim();
				const value = pair.slice(pair.indexOf("=") + 1).trim();
				const deleted = attrs.some((a) => /^\s*max-age=0\s*$/i.test(a));
				if (deleted) cookies.delete(name);
				else cookies.set(name, value);
				setCookies.push(deleted ? `-${name}` : name);
			}
			let body = null;
			if (typeof init.body === "string") {
				try {
					body = shape(JSON.parse(init.body));
				} catch {
					body = "<non-JSON>";
				}
			}
			const u = new URL(url);
			log.push({
				method: init.method ?? "GET",
				path: u.pathname.replace(/^\/api\/auth/, "") + u.search,
				body,
				status: response.status,
				setCookies,
			});
			return response;
		};
		const client = createAuthClient({
			baseURL: origin,
			plugins: [usernameClient(), twoFactorClient({ onTwoFactorRedirect: (ctx) => redirects.push(ctx) })],
			fetchOptions: { customFetchImpl },
		});
		return { client, log, redirects, cookies };
	}

	/** One client call, recorded; returns the client's raw {data, error}. */
	async function step(name, call, b, fn) {
		const logStart = b.log.length;
		const redirectsStart = b.redirects.length;
		const result = await fn(b.client);
		transcript.push({
			step: name,
			call,
			requests: norm(b.log.slice(logStart)),
			data: norm(result.data ?? null),
			error: norm(result.error ?? null),
			twoFactorRedirect: b.redirects.length > redirectsStart,
		});
		return result;
	}

	/** A TOTP code for the secret in `uri`: the current step, then the next (never a step twice). */
	async function totp(uri) {
		const secret = /secret=([A-Z2-7]+)/.exec(uri)[1];
		const key = base32Decode(secret);
		for (;;) {
			const last = totpLast.get(secret);
			const now = totpStep();
			const s = [now, now + 1].find((x) => last === undefined || x > last.step);
			if (s !== undefined) {
				const code = hotp(key, s);
				totpLast.set(secret, { step: s, code });
				return code;
			}
			await sleep(250);
		}
	}
	/** A code no step within ±3 of now produces. */
	function totpWrong(uri) {
		const key = base32Decode(/secret=([A-Z2-7]+)/.exec(uri)[1]);
		const now = totpStep();
		const valid = new Set();
		for (let s = now - 3; s <= now + 3; s++) valid.add(hotp(key, s));
		for (let i = 0; ; i++) {
			const c = String(123456 + i * 7).padStart(6, "0");
			if (!valid.has(c)) return c;
		}
	}

	const otpSeen = new Map();
	/** The OTP the server just sent to `email` (polls its OTP source until a new one arrives). */
	async function otp(email) {
		const deadline = Date.now() + 10_000;
		while (Date.now() < deadline) {
			const res = await fetch(`${srv.otpSourceUrl}?email=${encodeURIComponent(email)}`);
			const body = await res.json().catch(() => ({}));
			const key = `${body.otp}/${body.count ?? ""}`;
			if (body.otp && otpSeen.get(email) !== key) {
				otpSeen.set(email, key);
				return body.otp;
			}
			await sleep(50);
		}
		throw new Error(`no OTP for ${email}`);
	}

	const ALICE = "alice@example.com";
	const ok = (r, what) => {
		assert.equal(r.error, null, `${what}: ${JSON.stringify(r.error)}`);
		return r.data;
	};

	// ------------------------------------------------ account and sessions
	const a = browser();
	await step("sign up with a username", "signUp.email", a, (c) =>
		c.signUp.email({ email: ALICE, password: PW, name: "Alice", username: "Alice_1" }),
	);
	await step("get the session", "getSession", a, (c) => c.getSession());
	await step("a taken username", "isUsernameAvailable", a, (c) => c.isUsernameAvailable({ username: "alice_1" }));
	await step("a free username", "isUsernameAvailable", a, (c) => c.isUsernameAvailable({ username: "bob_2" }));
	await step("sign out", "signOut", a, (c) => c.signOut());
	await step("sign in with a wrong password", "signIn.email", a, (c) =>
		c.signIn.email({ email: ALICE, password: "wrong-password" }),
	);
	await step("sign in by username (other case)", "signIn.username", a, (c) =>
		c.signIn.username({ username: "ALICE_1", password: PW }),
	);
	await step("update name and displayUsername", "updateUser", a, (c) =>
		c.updateUser({ name: "Alice A.", displayUsername: "Alice One" }),
	);
	await step("the session shows the update", "getSession", a, (c) => c.getSession());
	const b = browser();
	const bIn = await step("sign in elsewhere with rememberMe:false", "signIn.email", b, (c) =>
		c.signIn.email({ email: ALICE, password: PW, rememberMe: false }),
	);
	await step("list both sessions", "listSessions", a, (c) => c.listSessions());
	await step("revoke the other browser's session", "revokeSession", a, (c) =>
		c.revokeSession({ token: ok(bIn, "sign-in").token }),
	);
	await step("the revoked browser is signed out", "getSession", b, (c) => c.getSession());
	await step("change the password, revoking other sessions", "changePassword", a, (c) =>
		c.changePassword({ currentPassword: PW, newPassword: NEW_PW, revokeOtherSessions: true }),
	);

	// ------------------------------------------------ two-factor
	const enabled = await step("enable TOTP", "twoFactor.enable", a, (c) => c.twoFactor.enable({ password: NEW_PW }));
	const uri = ok(enabled, "enable").totpURI;
	const backupCodes = ok(enabled, "enable").backupCodes;
	const enrolmentCode = await totp(uri);
	await step("verify the first TOTP code (enrolment)", "twoFactor.verifyTotp", a, (c) =>
		c.twoFactor.verifyTotp({ code: enrolmentCode }),
	);
	await step("get the TOTP URI", "twoFactor.getTotpUri", a, (c) => c.twoFactor.getTotpUri({ password: NEW_PW }));
	const regenerated = await step("regenerate backup codes", "twoFactor.generateBackupCodes", a, (c) =>
		c.twoFactor.generateBackupCodes({ password: NEW_PW }),
	);
	const codes = ok(regenerated, "generate").backupCodes;
	await step("sign out", "signOut", a, (c) => c.signOut());

	const c1 = browser();
	await step("sign in: two-factor challenge", "signIn.email", c1, (c) => c.signIn.email({ email: ALICE, password: NEW_PW }));
	await step("a wrong TOTP code", "twoFactor.verifyTotp", c1, (c) => c.twoFactor.verifyTotp({ code: totpWrong(uri) }));
	const signInCode = await totp(uri);
	await step("the right TOTP code, trusting the device", "twoFactor.verifyTotp", c1, (c) =>
		c.twoFactor.verifyTotp({ code: signInCode, trustDevice: true }),
	);
	await step("signed in", "getSession", c1, (c) => c.getSession());
	await step("sign out", "signOut", c1, (c) => c.signOut());
	await step("sign in on the trusted device: no challenge", "signIn.email", c1, (c) =>
		c.signIn.email({ email: ALICE, password: NEW_PW }),
	);

	const d = browser();
	await step("sign in elsewhere: challenge", "signIn.email", d, (c) => c.signIn.email({ email: ALICE, password: NEW_PW }));
	await step("an old (replaced) backup code", "twoFactor.verifyBackupCode", d, (c) =>
		c.twoFactor.verifyBackupCode({ code: backupCodes[0] }),
	);
	await step("a current backup code", "twoFactor.verifyBackupCode", d, (c) =>
		c.twoFactor.verifyBackupCode({ code: codes[0] }),
	);

	const e = browser();
	await step("sign in by username: challenge", "signIn.username", e, (c) =>
		c.signIn.username({ username: "alice_1", password: NEW_PW }),
	);
	await step("send an OTP", "twoFactor.sendOtp", e, (c) => c.twoFactor.sendOtp());
	const code = await otp(ALICE);
	await step("a wrong OTP", "twoFactor.verifyOtp", e, (c) =>
		c.twoFactor.verifyOtp({ code: String((Number(code) + 1) % 1e6).padStart(6, "0") }),
	);
	await step("the OTP", "twoFactor.verifyOtp", e, (c) => c.twoFactor.verifyOtp({ code }));

	// ------------------------------------------------ wind down
	await step("disable two-factor", "twoFactor.disable", c1, (c) => c.twoFactor.disable({ password: NEW_PW }));
	await step("twoFactorEnabled is false", "getSession", c1, (c) => c.getSession());
	await step("revoke the other sessions", "revokeOtherSessions", c1, (c) => c.revokeOtherSessions());
	await step("one session left", "listSessions", c1, (c) => c.listSessions());
	await step("the other browsers are signed out", "getSession", e, (c) => c.getSession());
	await step("revoke every session", "revokeSessions", c1, (c) => c.revokeSessions());
	await step("signed out everywhere", "getSession", c1, (c) => c.getSession());
	const g = browser();
	await step("sign up with a taken email", "signUp.email", g, (c) =>
		c.signUp.email({ email: ALICE, password: PW, name: "Again" }),
	);
	await step("sign up with an invalid username", "signUp.email", g, (c) =>
		c.signUp.email({ email: "bob@example.com", password: PW, name: "Bob", username: "bad name!" }),
	);

	// ------------------------------------------------ a deliberate divergence, last (ids numbered
	// after it would shift): Better Auth accepts a TOTP code again within its window, Portcullis
	// refuses a time step it already accepted (README "Deliberate differences").
	const CAROL = "carol@example.com";
	const h = browser();
	await step("sign up a second user", "signUp.email", h, (c) => c.signUp.email({ email: CAROL, password: PW, name: "Carol" }));
	const carolEnabled = await step("the second user enables TOTP", "twoFactor.enable", h, (c) =>
		c.twoFactor.enable({ password: PW }),
	);
	const carolUri = ok(carolEnabled, "enable").totpURI;
	const carolCode = await totp(carolUri);
	await step("the second user's first TOTP code", "twoFactor.verifyTotp", h, (c) =>
		c.twoFactor.verifyTotp({ code: carolCode }),
	);
	const k = browser();
	await step("the second user signs in elsewhere: challenge", "signIn.email", k, (c) =>
		c.signIn.email({ email: CAROL, password: PW }),
	);
	await step("the TOTP code already accepted at enrolment, again", "twoFactor.verifyTotp", k, (c) =>
		c.twoFactor.verifyTotp({ code: carolCode }),
	);
	return transcript;
}

// ---------------------------------------------------------------- compare

const FIELDS = ["call", "requests", "data", "error", "twoFactorRedirect"];
const same = (x, y) => JSON.stringify(x) === JSON.stringify(y);

function compare(ref, pc, allow) {
	const used = new Set();
	const lines = [];
	const unexplained = [];
	const n = Math.max(ref.length, pc.length);
	for (let i = 0; i < n; i++) {
		const r = ref[i];
		const p = pc[i];
		const name = `${String(i + 1).padStart(2, "0")} ${r?.step ?? p?.step}`;
		if (!r || !p || r.step !== p.step) {
			unexplained.push({ step: name, field: "step", reference: r?.step ?? null, portcullis: p?.step ?? null });
			lines.push({ step: name, result: "fail", differences: ["step"] });
			continue;
		}
		const diffs = [];
		const allowed = [];
		for (const field of FIELDS) {
			if (same(r[field], p[field])) continue;
			const d = { step: name, field, reference: r[field], portcullis: p[field] };
			const k = allow.findIndex(
				(e) => e.step === name && e.field === field && same(e.reference, d.reference) && same(e.portcullis, d.portcullis),
			);
			if (k >= 0) {
				used.add(k);
				allowed.push(field);
			} else {
				diffs.push(field);
				unexplained.push(d);
			}
		}
		const line = { step: name, call: r.call, result: diffs.length ? "fail" : allowed.length ? "allowed" : "pass" };
		if (allowed.length) line.allowed = allowed;
		if (diffs.length) line.differences = diffs;
		lines.push(line);
	}
	const unused = allow.filter((_, k) => !used.has(k));
	return { lines, unexplained, unused };
}

// ---------------------------------------------------------------- main

const dir = mkdtempSync(join(tmpdir(), "portcullis-sbs-"));
const servers = [];
let status = 1;
try {
	const common = { dir, plugins: PLUGINS, label: "side-by-side.mjs" };
	const ref = await startServer({
		...common,
		server: "reference",
		databaseUrl: `sqlite://${join(dir, "reference.sqlite")}`,
	});
	servers.push(ref);
	const pc = await startServer({
		...common,
		server: "portcullis",
		bin: args.bin,
		databaseUrl: `sqlite://${join(dir, "portcullis.sqlite")}?mode=rwc`,
		// The reference runs with NODE_ENV=development: development mode here too (client IP
		// fallback), and Better Auth's default appName so both name the same TOTP issuer.
		env: { PORTCULLIS_DEV: "1", PORTCULLIS_APP_NAME: "Better Auth" },
	});
	servers.push(pc);
	await Promise.all([ref.ready(), pc.ready()]);
	const refTranscript = await runScenario(ref);
	const pcTranscript = await runScenario(pc);
	if (args.transcripts) {
		mkdirSync(args.transcripts, { recursive: true });
		writeFileSync(join(args.transcripts, "reference.json"), `${JSON.stringify(refTranscript, null, 2)}\n`);
		writeFileSync(join(args.transcripts, "portcullis.json"), `${JSON.stringify(pcTranscript, null, 2)}\n`);
	}

	const allow = JSON.parse(readFileSync(ALLOWLIST, "utf8")).client ?? [];
	const { lines, unexplained, unused } = compare(refTranscript, pcTranscript, allow);
	const text = `${lines.map((l) => JSON.stringify(l)).join("\n")}\n`;
	const counts = { pass: 0, allowed: 0, fail: 0 };
	for (const l of lines) {
		counts[l.result] += 1;
		if (l.result !== "pass") console.log(`side-by-side: ${l.result.padEnd(7)} ${l.step} (${l.call ?? "?"})`);
	}
	for (const d of unexplained) {
		console.log(`side-by-side: DIFFERENCE ${d.step} — ${d.field}`);
		console.log(`  allow-list entry: ${JSON.stringify({ ...d, reason: "" })}`);
	}
	for (const e of unused) console.log(`side-by-side: allow-list entry ${e.step} / ${e.field} excused nothing`);

	let baselineOk = true;
	let previous = null;
	try {
		previous = readFileSync(BASELINE, "utf8");
	} catch {}
	if (args.update) {
		writeFileSync(BASELINE, text);
		console.log(`side-by-side: wrote ${BASELINE}`);
	} else if (previous !== text) {
		baselineOk = false;
		console.log(`side-by-side: the results differ from ${BASELINE} (rerun with --update-baseline to accept):`);
		const old = new Map((previous ?? "").split("\n").filter(Boolean).map((l) => [JSON.parse(l).step, l]));
		for (const l of lines) {
			const now = JSON.stringify(l);
			if (old.get(l.step) !== now) console.log(`  - ${old.get(l.step) ?? "(absent)"}\n  + ${now}`);
			old.delete(l.step);
		}
		for (const l of old.values()) console.log(`  - ${l}\n  + (absent)`);
	}
	console.log(
		`side-by-side: ${lines.length} steps: ${counts.pass} identical, ${counts.allowed} allowed, ${counts.fail} different`,
	);
	status = unexplained.length === 0 && unused.length === 0 && baselineOk ? 0 : 1;
	if (status !== 0) for (const s of servers) s.dumpLog();
} catch (err) {
	console.error(`side-by-side.mjs: ${err.stack ?? err}`);
	for (const s of servers) s.dumpLog();
	status = 1;
} finally {
	for (const s of servers) await s.shutdown();
	if (args.keep) console.error(`side-by-side.mjs: kept ${dir}`);
	else rmSync(dir, { recursive: true, force: true });
}
process.exit(status);
