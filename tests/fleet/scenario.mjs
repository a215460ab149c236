// One scripted scenario — sign-up, 2FA enrolment, the sign-in gate, TOTP replay, backup codes,
// the per-challenge attempt limit, the account lockout, rate limits, and races on one backup code
// and one TOTP code — run against an origin and recorded step by step. equivalence.test.mjs runs
// it through nginx against one instance and against two, and compares the transcripts.
//
// Every step states what it expects ("<status> <result>"); `result` is the error code, or a
// summary of a 200 body. Steps marked `cross` must be answered by another instance than the step
// they name: behind a strictly alternating round robin that is a matter of parity, so the
// scenario sends a padding `GET /ok` first when needed (in every run alike, so transcripts of
// different fleets line up request for request).
//
// Client IPs: every request has its own X-Forwarded-For address (a fresh rate-limit bucket)
// except where a step names one, so only the rate-limit steps meet the limits (`/two-factor/*`
// allows 3 requests per 10 s per IP, which the lockout steps alone exceed).

import { parseOtpauth, hotp, totpStep } from "../js/lib/totp.mjs";
import { Browser, ipSource } from "./client.mjs";

const PASSWORD = "password123";
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** What a 200 body is, in one word; an error's code otherwise. */
export function summary(r) {
	if (r.status !== 200) return r.code ?? "-";
	const b = r.body;
	if (b === null) return "null";
	if (b.twoFactorRedirect === true) return "two-factor-redirect";
	if (typeof b.totpURI === "string" && Array.isArray(b.backupCodes)) return "totp-uri";
	if (b.session && b.user) return `session(2fa=${b.user.twoFactorEnabled})`;
	if (typeof b.token === "string" && b.user) return "token";
	if (b.ok === true) return "ok";
	if (b.success === true) return "success";
	return "other";
}

/** The authenticator app: fresh codes (a time step not yet used) and a code that is wrong now. */
function authenticator(totpURI) {
	const { key, digits, period } = parseOtpauth(totpURI);
	const now = () => totpStep(period);
	let last = -1;
	const nextStep = async () => {
		// Portcullis accepts steps t-1..t+1, each once: wait when the next unused one is ahead.
		while (Math.max(last + 1, now()) > now() + 1) await sleep(250);
		return Math.max(last + 1, now());
	};
	return {
		/** A code of an unused step, marked used. */
		async fresh() {
			last = await nextStep();
			return hotp(key, last, digits);
		},
		/** The code `fresh` would give, without using it (for attempts that must be refused). */
		async peek() {
			return hotp(key, await nextStep(), digits);
		},
		/** A well-formed code matching none of the steps t-2..t+2. */
		wrong() {
			const valid = new Set([-2, -1, 0, 1, 2].map((d) => hotp(key, now() + d, digits)));
			for (let i = 0; ; i++) {
				const code = String(i * 111111 + 123).padStart(digits, "0").slice(-digits);
				if (!valid.has(code)) return code;
			}
		},
	};
}

class Recorder {
	constructor({ base, origin }) {
		this.base = base;
		this.origin = origin;
		this.nextIp = ipSource();
		/** Requests sent so far (the position in the round robin). */
		this.sent = 0;
		/** @type {{label: string, n: number, status: number|string, result: string, expect: string|null, upstreams: string[], retryAfter: string|null, cross: string|null}[]} */
		this.steps = [];
	}

	browser() {
		return new Browser({ base: this.base, origin: this.origin, nextIp: this.nextIp });
	}

	find(label) {
		const s = this.steps.find((x) => x.label === label);
		if (!s) throw new Error(`no step ${label}`);
		return s;
	}

	/** Pads with `GET /ok` until the next request is an odd number of requests after `label`'s. */
	async crossFrom(label, browser) {
		if ((this.sent - this.find(label).n) % 2 === 0) await this.step(`pad (crossing from ${label})`, () => browser.get("/ok"), "200 ok");
	}

	/** One request; `send` returns the client's answer. */
	async step(label, send, expect, { cross = null, browser = null } = {}) {
		if (cross) await this.crossFrom(cross, browser);
		const n = this.sent;
		this.sent += 1;
		const r = await send();
		this.steps.push({
			label,
			n,
			status: r.status,
			result: summary(r),
			expect,
			upstreams: [r.upstream],
			retryAfter: r.retryAfter,
			cross,
		});
		return r;
	}

	/** Concurrent requests; recorded as the sorted multiset of their outcomes. */
	async race(label, sends, expect) {
		const n = this.sent;
		this.sent += sends.length;
		const rs = await Promise.all(sends.map((send) => send()));
		const outcomes = rs.map((r) => `${r.status} ${summary(r)}`).sort();
		const counted = [...new Set(outcomes)].map((o) => `${outcomes.filter((x) => x === o).length}x ${o}`);
		this.steps.push({
			label,
			n,
			status: "race",
			result: counted.join(", "),
			expect,
			upstreams: rs.map((r) => r.upstream),
			retryAfter: null,
			cross: null,
		});
		return rs;
	}
}

/** Runs the scenario against `base` (requests carry Origin `origin`); resolves with its steps. */
export async function runScenario({ base, origin, tag }) {
	const rec = new Recorder({ base, origin });
	const stamp = `${process.pid}-${Date.now().toString(36)}`;
	const email = (who) => `fleet-${tag}-${who}-${stamp}@example.com`;

	/** A new user with TOTP enabled (and signed out): {b, totp, backupCodes, email}. */
	async function enrolled(who) {
		const b = rec.browser();
		const addr = email(who);
		await rec.step(`${who}: sign-up`, () => b.post("/sign-up/email", { email: addr, password: PASSWORD, name: who }), "200 token");
		const en = await rec.step(`${who}: enable 2FA`, () => b.post("/two-factor/enable", { password: PASSWORD }), "200 totp-uri");
		const totp = authenticator(en.body.totpURI);
		const code = await totp.fresh();
		await rec.step(`${who}: confirm TOTP`, () => b.post("/two-factor/verify-totp", { code }), "200 token", {
			cross: `${who}: enable 2FA`,
			browser: b,
		});
		await rec.step(`${who}: session shows 2FA`, () => b.get("/get-session"), "200 session(2fa=true)");
		await rec.step(`${who}: sign-out`, () => b.post("/sign-out", {}), "200 success");
		return { b, totp, backupCodes: en.body.backupCodes, email: addr };
	}

	// -- sign-in gate, TOTP replay and backup codes across instances
	{
		const u = await enrolled("gate");
		const signIn = (label) =>
			rec.step(label, () => u.b.post("/sign-in/email", { email: u.email, password: PASSWORD }), "200 two-factor-redirect");
		await signIn("gate: sign-in 1");
		await rec.step("gate: no session while challenged", () => u.b.get("/get-session"), "200 null");
		const code = await u.totp.fresh();
		await rec.step("gate: verify-totp", () => u.b.post("/two-factor/verify-totp", { code }), "200 token", {
			cross: "gate: sign-in 1",
			browser: u.b,
		});
		await rec.step("gate: session after verify", () => u.b.get("/get-session"), "200 session(2fa=true)", {
			cross: "gate: verify-totp",
			browser: u.b,
		});
		await rec.step("gate: sign-out 1", () => u.b.post("/sign-out", {}), "200 success");
		await signIn("gate: sign-in 2");
		await rec.step("gate: replayed TOTP code", () => u.b.post("/two-factor/verify-totp", { code }), "401 INVALID_CODE", {
			cross: "gate: verify-totp",
			browser: u.b,
		});
		const [first, second] = u.backupCodes;
		await rec.step("gate: backup code", () => u.b.post("/two-factor/verify-backup-code", { code: first }), "200 token");
		await rec.step("gate: sign-out 2", () => u.b.post("/sign-out", {}), "200 success");
		await signIn("gate: sign-in 3");
		await rec.step(
			"gate: spent backup code",
			() => u.b.post("/two-factor/verify-backup-code", { code: first }),
			"401 INVALID_BACKUP_CODE",
			{ cross: "gate: backup code", browser: u.b },
		);
		await rec.step("gate: another backup code", () => u.b.post("/two-factor/verify-backup-code", { code: second }), "200 token");
	}

	// -- 5 attempts per challenge; 10 consecutive failures lock 2FA
	{
		const u = await enrolled("lock");
		const signIn = (label) =>
			rec.step(label, () => u.b.post("/sign-in/email", { email: u.email, password: PASSWORD }), "200 two-factor-redirect");
		const wrong = (label, expect) => rec.step(label, () => u.b.post("/two-factor/verify-totp", { code: u.totp.wrong() }), expect);
		await signIn("lock: sign-in 1");
		for (let i = 1; i <= 5; i++) await wrong(`lock: challenge 1 wrong code ${i}`, "401 INVALID_CODE");
		await wrong("lock: challenge 1 attempt 6", "400 TOO_MANY_ATTEMPTS_REQUEST_NEW_CODE");
		await wrong("lock: challenge 1 revoked", "401 INVALID_TWO_FACTOR_COOKIE");
		await signIn("lock: sign-in 2");
		for (let i = 1; i <= 5; i++) await wrong(`lock: challenge 2 wrong code ${i} (failure ${5 + i})`, "401 INVALID_CODE");
		const good = await u.totp.peek();
		await rec.step(
			"lock: right code while locked",
			() => u.b.post("/two-factor/verify-totp", { code: good }),
			"429 ACCOUNT_TEMPORARILY_LOCKED",
			{ cross: "lock: challenge 2 wrong code 5 (failure 10)", browser: u.b },
		);
		await rec.step(
			"lock: backup code while locked",
			() => u.b.post("/two-factor/verify-backup-code", { code: u.backupCodes[0] }),
			"429 ACCOUNT_TEMPORARILY_LOCKED",
		);
		await signIn("lock: sign-in 3");
		await rec.step("lock: new challenge still locked", () => u.b.post("/two-factor/verify-totp", { code: good }), "429 ACCOUNT_TEMPORARILY_LOCKED");
	}

	// -- rate limits shared through Redis: sign-in 3 per 10 s, /two-factor/* 3 per 10 s (per IP)
	{
		const b = rec.browser();
		const addr = email("limit");
		await rec.step("limit: sign-up", () => b.post("/sign-up/email", { email: addr, password: PASSWORD, name: "limit" }), "200 token");
		const ip = rec.nextIp();
		const signIn = (label, expect, opts = { ip }) =>
			rec.step(label, () => b.post("/sign-in/email", { email: addr, password: PASSWORD }, opts), expect);
		for (let i = 1; i <= 3; i++) await signIn(`limit: sign-in ${i} from one IP`, "200 token");
		await signIn("limit: sign-in 4 from that IP", "429 RATE_LIMITED");
		await signIn("limit: sign-in 5 from that IP", "429 RATE_LIMITED");
		await signIn("limit: sign-in from another IP", "200 token", {});
		const anon = rec.browser();
		const ip2 = rec.nextIp();
		for (let i = 1; i <= 3; i++) {
			await rec.step(`limit: verify-totp ${i} without a challenge`, () => anon.post("/two-factor/verify-totp", { code: "000000" }, { ip: ip2 }), "401 INVALID_TWO_FACTOR_COOKIE");
		}
		await rec.step("limit: verify-totp 4 from that IP", () => anon.post("/two-factor/verify-totp", { code: "000000" }, { ip: ip2 }), "429 RATE_LIMITED");
	}

	// -- one backup code, one TOTP code: six challenges race for each, on both instances
	const challenged = async (u, n, who) => {
		const browsers = [];
		for (let i = 1; i <= n; i++) {
			const b = rec.browser();
			await rec.step(`${who}: sign-in ${i}`, () => b.post("/sign-in/email", { email: u.email, password: PASSWORD }), "200 two-factor-redirect");
			browsers.push(b);
		}
		return browsers;
	};
	{
		const u = await enrolled("race-backup");
		const bs = await challenged(u, 6, "race-backup");
		const code = u.backupCodes[0];
		await rec.race(
			"race-backup: one backup code on six challenges at once",
			bs.map((b) => () => b.post("/two-factor/verify-backup-code", { code })),
			"1x 200 token, 5x 401 INVALID_BACKUP_CODE",
		);
	}
	{
		const u = await enrolled("race-totp");
		const bs = await challenged(u, 6, "race-totp");
		const code = await u.totp.fresh();
		await rec.race(
			"race-totp: one TOTP code on six challenges at once",
			bs.map((b) => () => b.post("/two-factor/verify-totp", { code })),
			"1x 200 token, 5x 401 INVALID_CODE",
		);
	}
	return rec.steps;
}

/** A step as compared between runs: what happened, not where. */
export const outcome = (s) => ({
	label: s.label,
	status: s.status,
	result: s.result,
	retryAfter: s.retryAfter,
});

/** One line per step, for failure messages. */
export const describeSteps = (steps) =>
	steps.map((s) => `${String(s.n).padStart(3)} ${s.label}: ${s.status} ${s.result} [${s.upstreams.join(" ")}]`).join("\n");
