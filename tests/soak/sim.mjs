// Simulated users for the soak: each drives the official Better Auth client (createAuthClient +
// twoFactorClient, one cookie jar per "browser") through random flows, and keeps a model of what
// the server must hold for it afterwards: 2FA on/off, its TOTP factor (key, last accepted step,
// the account-lockout failure count), its current backup codes and the ones it spent, and which
// of its session tokens are alive. Races (the same secret or challenge submitted by parallel
// requests) run inside one user's step, so the model is only ever updated by one step at a time.
//
// Server facts the model relies on (crates/server/src/two_factor, Better Auth 1.7.25):
// - a TOTP time step is accepted once per factor (lastUsedStep), within ±1 step;
// - a failed TOTP/backup/OTP verification on a sign-in challenge adds one to
//   twoFactor.failedVerificationCount (10 → locked); a success on a challenge resets it; verifying
//   while signed in counts nothing;
// - each challenge allows 5 TOTP/backup attempts; two requests on one challenge at once: one
//   takes the attempt, the other is 401 INVALID_TWO_FACTOR_COOKIE;
// - enabling (OTP, or the first TOTP verification), disabling, and change-password with
//   revokeOtherSessions replace the caller's session.

import { CookieJar, jarFetch, parseSetCookie, unsigned } from "../js/lib/jar.mjs";
import { hotp, parseOtpauth, totpStep } from "../js/lib/totp.mjs";
import { createAuthClient, twoFactorClient } from "./deps.mjs";

export const SESSION_COOKIE = "better-auth.session_token";
export const TRUST_COOKIE = "better-auth.trust_device";
/** Routes that replace the caller's session when they set a new one. */
const ROTATING = new Set(["/two-factor/enable", "/two-factor/disable", "/two-factor/verify-totp", "/two-factor/verify-otp"]);
/** Failure-count ceilings the soak stays under (the lock is at 10). */
const WRONG_CODE_CEILING = 6;
const RACE_CEILING = 8;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** mulberry32: a small seeded PRNG, so a run's choices can be replayed with --seed. */
export function rng(seed) {
	let a = seed >>> 0;
	return () => {
		a = (a + 0x6d2b79f5) >>> 0;
		let t = a;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

/** The races, by the name --skip-race takes. */
export const RACES = [
	"sign-up",
	"backup-challenges",
	"totp-challenges",
	"same-challenge",
	"backup-signed-in",
	"totp-signed-in",
	"regenerate-spend",
	"double-enable",
];

/** Shared state of one soak run. */
export class Sim {
	constructor({ origin, otpSourceUrl, ledger, seed, skipRaces = new Set() }) {
		this.origin = origin;
		this.otpSourceUrl = otpSourceUrl;
		this.ledger = ledger;
		this.skipRaces = skipRaces;
		this.random = rng(seed);
		this.setSeq = 0;
	}
	int(n) {
		return Math.floor(this.random() * n);
	}
	chance(p) {
		return this.random() < p;
	}
	pick(items) {
		return items[this.int(items.length)];
	}
	/** Registers a backup-code set as issued to `user`. */
	newCodeSet(user, codes) {
		const setId = ++this.setSeq;
		this.ledger.codeSets.set(setId, { userIdx: user.idx, codes: [...codes], retired: false });
		return setId;
	}
}

/** One browser: a cookie jar and the official client wired to it through an instrumented fetch. */
export class Browser {
	constructor(sim, user) {
		this.sim = sim;
		this.user = user;
		this.jar = new CookieJar();
		/** Whether this browser holds a trust_device cookie the server must honour. */
		this.trusted = false;
		const base = jarFetch(this.jar, sim.origin);
		this.client = createAuthClient({
			baseURL: sim.origin,
			plugins: [twoFactorClient({ onTwoFactorRedirect: () => {} })],
			fetchOptions: { customFetchImpl: (input, init) => this.#fetch(base, input, init) },
		});
	}

	/** The session token in the jar, or null. */
	get token() {
		const v = this.jar.get(SESSION_COOKIE);
		return v ? unsigned(v) : null;
	}

	/** Records the status, any 5xx body, and any session token the response hands out. */
	async #fetch(base, input, init = {}) {
		const { ledger } = this.sim;
		const url = new URL(typeof input === "string" ? input : input instanceof URL ? input.href : input.url);
		const path = url.pathname.replace(/^\/api\/auth/, "");
		const method = init.method ?? "GET";
		const before = this.token;
		// The user's state when the request left: a sign-in may hand out a session directly only
		// if 2FA was off, or the browser is trusted.
		const twoFactorOn = this.user.tfaEnabled;
		const trusted = this.trusted;
		let res;
		try {
			res = await base(input, init);
		} catch (err) {
			ledger.networkError(method, path, err);
			throw err;
		}
		ledger.status(method, path, res.status);
		if (res.status >= 500) ledger.serverError(method, path, res.status, await res.clone().text(), this.user.email);
		const line = res.headers.getSetCookie().map(parseSetCookie).findLast((c) => c.name === SESSION_COOKIE);
		if (line?.value) {
			const token = unsigned(line.value);
			const known = ledger.tokens.get(token);
			if (known && known.userIdx !== this.user.idx) {
				ledger.violation("token-reused", { token: token.slice(0, 8), route: path, users: [known.userIdx, this.user.idx] });
			} else if (!known) {
				const legit = path !== "/sign-in/email" || !twoFactorOn || trusted;
				ledger.tokens.set(token, { userIdx: this.user.idx, route: path, legit, at: Date.now() });
				this.user.alive.add(token);
				if (before && before !== token && ROTATING.has(path)) this.user.alive.delete(before);
			}
		}
		return res;
	}
}

/** The model of one user and the flows it runs. */
export class SimUser {
	constructor(sim, idx, runTag) {
		this.sim = sim;
		this.idx = idx;
		this.email = `soak-${runTag}-${idx}@example.com`;
		this.password = `soak-password-${idx}-0`;
		this.passwordSeq = 0;
		this.id = null;
		this.tfaEnabled = false;
		/**
		 * The twoFactor row as it must be: {verified, key, setId, spent: Set, lastSubmitted,
		 * lastAccepted, failures} or null.
		 */
		this.factor = null;
		/** Tokens of this user's sessions that must exist. */
		this.alive = new Set();
		this.main = null;
	}

	get ledger() {
		return this.sim.ledger;
	}

	/** Records a response the model did not predict (a violation: server or model is wrong). */
	unexpected(action, detail) {
		this.ledger.violation("unexpected-response", { user: this.idx, action, ...detail });
	}

	/** data of a client result, or null after recording the unexpected error. */
	ok(result, action) {
		if (result.error) {
			this.unexpected(action, { status: result.error.status, code: result.error.code, message: result.error.message });
			return null;
		}
		return result.data;
	}

	/** Checks that a client result is the expected error. */
	refused(result, action, status, codes) {
		const e = result.error;
		if (!e || e.status !== status || (codes && !codes.includes(e.code))) {
			this.unexpected(action, { expected: `${status} ${codes ?? ""}`, got: e ? `${e.status} ${e.code}` : "success" });
			return false;
		}
		return true;
	}

	browser() {
		return new Browser(this.sim, this);
	}

	signedIn() {
		return !!this.main?.token && this.alive.has(this.main.token);
	}

	// ------------------------------------------------------------ backup codes and TOTP

	/** Current backup codes not yet spent. */
	unspentCodes() {
		if (!this.factor) return [];
		const set = this.ledger.codeSets.get(this.factor.setId);
		return set.codes.filter((c) => !this.factor.spent.has(c));
	}

	pickCode() {
		return this.sim.pick(this.unspentCodes());
	}

	/** An accepted spend: logged (a code accepted twice is a double spend) and removed. */
	spent(code, route, mode) {
		const dup = this.ledger.spends.find((s) => s.code === code);
		if (dup) this.ledger.violation("backup-code-double-spend", { user: this.idx, code, first: dup.route, again: route });
		this.ledger.spends.push({ userIdx: this.idx, code, setId: this.factor.setId, route, mode });
		this.factor.spent.add(code);
	}

	retireCodes() {
		if (this.factor) this.ledger.codeSets.get(this.factor.setId).retired = true;
	}

	/** A fresh TOTP step for this factor ({step, code}), or null if both usable steps are spent. */
	nextTotp() {
		const f = this.factor;
		if (!f) return null;
		const cur = totpStep();
		const step = Math.max(cur, f.lastSubmitted + 1);
		if (step > cur + 1) return null;
		f.lastSubmitted = step;
		return { step, code: hotp(f.key, step) };
	}

	acceptedTotp(step) {
		this.factor.lastAccepted = Math.max(this.factor.lastAccepted ?? -1, step);
	}

	wrongTotp() {
		const cur = totpStep();
		const valid = new Set([-2, -1, 0, 1, 2].map((d) => hotp(this.factor.key, cur + d)));
		for (;;) {
			const c = String(this.sim.int(1e6)).padStart(6, "0");
			if (!valid.has(c)) return c;
		}
	}

	/** Whether `n` more failures on sign-in keep the account under `ceiling`. */
	failuresAllow(n, ceiling) {
		return !this.factor || this.factor.failures + n <= ceiling;
	}

	/** A failure on a sign-in challenge counts toward the lockout when there is a twoFactor row. */
	failedOnChallenge(n = 1) {
		if (this.factor) this.factor.failures += n;
	}

	succeededOnChallenge() {
		if (this.factor) this.factor.failures = 0;
	}

	// ------------------------------------------------------------ OTP

	async readOtp() {
		const res = await fetch(`${this.sim.otpSourceUrl}?email=${encodeURIComponent(this.email)}`);
		const body = await res.json();
		return { otp: body.otp ?? null, count: body.count ?? 0 };
	}

	/** send-otp from `b`, then the code delivered to the webhook listener. */
	async sendOtp(b) {
		const before = await this.readOtp();
		if (!this.ok(await b.client.twoFactor.sendOtp(), "send-otp")) return null;
		const deadline = Date.now() + 15_000;
		for (;;) {
			const now = await this.readOtp();
			if (now.otp && now.count > before.count) return now.otp;
			if (Date.now() > deadline) {
				this.unexpected("send-otp", { message: "no OTP delivered to the webhook within 15 s" });
				return null;
			}
			await sleep(20);
		}
	}

	// ------------------------------------------------------------ sign-up / sign-in

	/** Sign-up, sometimes from 2-3 browsers at once with the same email: exactly one may win. */
	async signUp() {
		const k = !this.sim.skipRaces.has("sign-up") && this.sim.chance(0.25) ? 2 + this.sim.int(2) : 1;
		const browsers = Array.from({ length: k }, () => this.browser());
		const results = await Promise.all(
			browsers.map((b) => b.client.signUp.email({ email: this.email, password: this.password, name: `Soak ${this.idx}` })),
		);
		const winners = results.map((r, i) => [r, browsers[i]]).filter(([r]) => !r.error);
		if (k > 1) this.ledger.race("sign-up same email", winners.length, results.map((r) => r.error?.status ?? 200));
		if (winners.length !== 1) {
			this.ledger.violation("sign-up-race", { user: this.idx, parallel: k, successes: winners.length, errors: results.map((r) => r.error?.code) });
		}
		for (const r of results) {
			if (r.error && !(r.error.status === 422 && /^USER_ALREADY_EXISTS/.test(r.error.code ?? ""))) {
				this.unexpected("sign-up", { status: r.error.status, code: r.error.code });
			}
		}
		if (winners.length === 0) return false;
		const [r, b] = winners[0];
		this.id = r.data.user.id;
		this.main = b;
		this.ledger.signUps += 1;
		if (r.data.token !== b.token) this.unexpected("sign-up", { message: "body token is not the cookie's" });
		return true;
	}

	/** Signs in from `b`: "session", "challenge", or null on an unexpected answer. */
	async signIn(b) {
		const body = { email: this.email, password: this.password };
		if (this.sim.chance(0.1)) body.rememberMe = false;
		const data = this.ok(await b.client.signIn.email(body), "sign-in");
		if (!data) return null;
		if (data.twoFactorRedirect) {
			if (!this.tfaEnabled) this.unexpected("sign-in", { message: "2FA challenge for a user without 2FA" });
			const expected = [...(this.factor?.verified ? ["totp"] : []), "otp"].sort().join(",");
			const got = [...(data.twoFactorMethods ?? [])].sort().join(",");
			if (got !== expected) this.unexpected("sign-in", { message: `methods ${got}, expected ${expected}` });
			return "challenge";
		}
		if (this.tfaEnabled && !b.trusted) {
			this.ledger.violation("direct-session-for-2fa-user", { user: this.idx, token: String(data.token).slice(0, 8) });
		}
		if (data.token !== b.token) this.unexpected("sign-in", { message: "body token is not the cookie's" });
		return "session";
	}

	/** The methods usable on a challenge right now. */
	challengeMethods() {
		const m = ["otp"];
		if (this.factor?.verified) m.push("totp");
		if (this.factor && this.unspentCodes().length > 0) m.push("backup");
		return m;
	}

	/**
	 * Completes the challenge in `b` with `method` (random if omitted), sometimes after one wrong
	 * code. True when a session was obtained.
	 */
	async passChallenge(b, method = this.sim.pick(this.challengeMethods())) {
		const wrongFirst = this.sim.chance(0.15) && this.failuresAllow(1, WRONG_CODE_CEILING);
		const trustDevice = this.sim.chance(0.08);
		const extra = trustDevice ? { trustDevice: true } : {};
		const tf = b.client.twoFactor;
		let result;
		if (method === "totp") {
			if (wrongFirst) {
				if (this.refused(await tf.verifyTotp({ code: this.wrongTotp() }), "verify-totp (wrong)", 401, ["INVALID_CODE"])) {
					this.failedOnChallenge();
				}
			}
			const t = this.nextTotp();
			if (!t) return this.passChallenge(b, "otp");
			result = await tf.verifyTotp({ code: t.code, ...extra });
			if (!result.error) this.acceptedTotp(t.step);
		} else if (method === "backup") {
			if (wrongFirst) {
				if (this.refused(await tf.verifyBackupCode({ code: "zzzzz-zzzzz" }), "verify-backup-code (wrong)", 401, ["INVALID_BACKUP_CODE"])) {
					this.failedOnChallenge();
				}
			}
			const code = this.pickCode();
			result = await tf.verifyBackupCode({ code, ...extra });
			if (!result.error) this.spent(code, "/two-factor/verify-backup-code", "challenge");
		} else {
			const otp = await this.sendOtp(b);
			if (!otp) return false;
			if (wrongFirst) {
				const wrong = otp === "000000" ? "111111" : "000000";
				if (this.refused(await tf.verifyOtp({ code: wrong }), "verify-otp (wrong)", 401, ["INVALID_CODE"])) {
					this.failedOnChallenge();
				}
			}
			result = await tf.verifyOtp({ code: otp, ...extra });
		}
		const data = this.ok(result, `verify-${method} (challenge)`);
		if (!data) return false;
		this.succeededOnChallenge();
		if (data.token !== b.token) this.unexpected(`verify-${method}`, { message: "body token is not the new session cookie's" });
		if (trustDevice) b.trusted = true;
		return true;
	}

	/** Signs in from `b` and passes a challenge if one comes. True when signed in. */
	async signInFully(b) {
		const outcome = await this.signIn(b);
		if (outcome === "challenge") return this.passChallenge(b);
		return outcome === "session";
	}

	async ensureSignedIn() {
		if (this.signedIn()) return true;
		if (!this.main || this.sim.chance(0.3)) this.main = this.browser();
		return this.signInFully(this.main);
	}

	// ------------------------------------------------------------ signed-in actions

	async getSession() {
		const result = await this.main.client.getSession();
		if (result.error) return void this.ok(result, "get-session");
		const data = result.data;
		if (!data?.session || data.session.token !== this.main.token || data.user.id !== this.id) {
			this.unexpected("get-session", { message: "not this browser's live session", got: data?.session?.token?.slice(0, 8) ?? null });
		} else if ((data.user.twoFactorEnabled === true) !== this.tfaEnabled) {
			this.unexpected("get-session", { message: `twoFactorEnabled ${data.user.twoFactorEnabled}, model ${this.tfaEnabled}` });
		}
	}

	async listSessions() {
		const data = this.ok(await this.main.client.listSessions(), "list-sessions");
		if (!data) return;
		const listed = new Set(data.map((s) => s.token));
		const missing = [...this.alive].filter((t) => !listed.has(t));
		const extra = [...listed].filter((t) => !this.alive.has(t));
		if (missing.length || extra.length) {
			this.unexpected("list-sessions", { missing: missing.map((t) => t.slice(0, 8)), extra: extra.map((t) => t.slice(0, 8)) });
		}
	}

	async revokeOne() {
		const others = [...this.alive].filter((t) => t !== this.main.token);
		if (!others.length) return;
		const token = this.sim.pick(others);
		if (this.ok(await this.main.client.revokeSession({ token }), "revoke-session")) this.alive.delete(token);
	}

	async revokeOthers() {
		if (this.ok(await this.main.client.revokeOtherSessions(), "revoke-other-sessions")) {
			this.alive = new Set([this.main.token]);
		}
	}

	async revokeAll() {
		if (this.ok(await this.main.client.revokeSessions(), "revoke-sessions")) this.alive.clear();
	}

	async signOut() {
		const token = this.main.token;
		if (this.ok(await this.main.client.signOut(), "sign-out")) this.alive.delete(token);
	}

	async signInElsewhere() {
		const b = this.browser();
		if ((await this.signInFully(b)) && this.sim.chance(0.5)) this.main = b;
	}

	async changePassword() {
		const newPassword = `soak-password-${this.idx}-${++this.passwordSeq}`;
		const revokeOtherSessions = this.sim.chance(0.5);
		const data = this.ok(
			await this.main.client.changePassword({ currentPassword: this.password, newPassword, revokeOtherSessions }),
			"change-password",
		);
		if (!data) return;
		this.password = newPassword;
		if (revokeOtherSessions) {
			if (!data.token || data.token !== this.main.token) this.unexpected("change-password", { message: "no new session token" });
			this.alive = new Set([this.main.token]);
		}
	}

	/** enable (TOTP): a pending factor with a new secret and backup codes; usually verified at once. */
	async enableTotp() {
		const data = this.ok(await this.main.client.twoFactor.enable({ password: this.password }), "enable");
		if (!data) return;
		this.adoptPendingFactor(data);
		if (this.sim.chance(0.85)) await this.finishEnrolment();
	}

	/** The model after a successful enable: a new row, or the pending one re-keyed. */
	adoptPendingFactor(data) {
		const failures = this.factor ? this.factor.failures : 0;
		this.retireCodes();
		this.factor = {
			verified: false,
			key: parseOtpauth(data.totpURI).key,
			setId: this.sim.newCodeSet(this, data.backupCodes),
			spent: new Set(),
			lastSubmitted: -1,
			lastAccepted: null,
			failures,
		};
	}

	/** verify-totp while signed in: finishes an enrolment (turning 2FA on) or re-verifies. */
	async verifyTotpSignedIn() {
		const t = this.nextTotp();
		if (!t) return;
		if (!this.ok(await this.main.client.twoFactor.verifyTotp({ code: t.code }), "verify-totp (signed in)")) return;
		this.acceptedTotp(t.step);
		if (!this.factor.verified) {
			this.factor.verified = true;
			this.tfaEnabled = true;
		}
	}

	finishEnrolment() {
		return this.verifyTotpSignedIn();
	}

	async enableOtp() {
		const data = this.ok(await this.main.client.twoFactor.enable({ password: this.password, method: "otp" }), "enable (otp)");
		if (data) this.tfaEnabled = true;
	}

	async disable() {
		if (!this.ok(await this.main.client.twoFactor.disable({ password: this.password }), "disable")) return;
		this.tfaEnabled = false;
		this.retireCodes();
		this.factor = null;
		this.main.trusted = false;
	}

	async regenerateCodes() {
		const data = this.ok(await this.main.client.twoFactor.generateBackupCodes({ password: this.password }), "generate-backup-codes");
		if (!data) return;
		this.retireCodes();
		this.factor.setId = this.sim.newCodeSet(this, data.backupCodes);
		this.factor.spent = new Set();
	}

	async spendSignedIn() {
		const code = this.pickCode();
		if (this.ok(await this.main.client.twoFactor.verifyBackupCode({ code }), "verify-backup-code (signed in)")) {
			this.spent(code, "/two-factor/verify-backup-code", "signed-in");
		}
	}

	// ------------------------------------------------------------ races

	/** k fresh browsers, each signed in up to its 2FA challenge (concurrently). */
	async challenges(k) {
		const browsers = Array.from({ length: k }, () => this.browser());
		const outcomes = await Promise.all(browsers.map((b) => this.signIn(b)));
		if (outcomes.some((o) => o !== "challenge")) {
			this.unexpected("parallel sign-in", { outcomes });
			return null;
		}
		return browsers;
	}

	/** Records a race and checks it had exactly `want` winners. */
	raceResult(kind, results, want = 1) {
		const wins = results.filter((r) => !r.error).length;
		this.ledger.race(kind, wins, results.map((r) => r.error?.status ?? 200));
		if (wins !== want) {
			this.ledger.violation("race", { kind, user: this.idx, successes: wins, want, errors: results.map((r) => r.error && `${r.error.status} ${r.error.code}`) });
		}
		return results.findIndex((r) => !r.error);
	}

	/** The same backup code on 2-4 separate sign-in challenges at once: exactly one session. */
	async raceBackupOnChallenges() {
		const k = 2 + this.sim.int(3);
		if (!this.failuresAllow(k - 1, RACE_CEILING)) return;
		const browsers = await this.challenges(k);
		if (!browsers) return;
		const code = this.pickCode();
		const results = await Promise.all(browsers.map((b) => b.client.twoFactor.verifyBackupCode({ code })));
		const w = this.raceResult("backup code, k challenges", results);
		this.checkLosers(results, "verify-backup-code", 401, ["INVALID_BACKUP_CODE"]);
		if (w >= 0) {
			this.spent(code, "/two-factor/verify-backup-code", "challenge race");
			this.succeededOnChallenge();
			if (this.sim.chance(0.3)) this.main = browsers[w];
		}
		// Every loser counted one failure, after the winner's reset (it waited on the row lock).
		this.failedOnChallenge(results.filter((r) => r.error?.code === "INVALID_BACKUP_CODE").length);
	}

	/** The same TOTP code on 2-4 separate challenges at once: at most (here: exactly) one wins. */
	async raceTotpOnChallenges() {
		const k = 2 + this.sim.int(3);
		if (!this.failuresAllow(k - 1, RACE_CEILING)) return;
		const browsers = await this.challenges(k);
		if (!browsers) return;
		const t = this.nextTotp();
		if (!t) return;
		const results = await Promise.all(browsers.map((b) => b.client.twoFactor.verifyTotp({ code: t.code })));
		const w = this.raceResult("TOTP code, k challenges", results);
		this.checkLosers(results, "verify-totp", 401, ["INVALID_CODE"]);
		if (w >= 0) {
			this.acceptedTotp(t.step);
			this.succeededOnChallenge();
			if (this.sim.chance(0.3)) this.main = browsers[w];
		}
		this.failedOnChallenge(results.filter((r) => r.error?.code === "INVALID_CODE").length);
	}

	/**
	 * One challenge, every valid second factor at once (OTP, TOTP, a backup code; OTP twice when
	 * it is the only one): exactly one session; the losers' code and step stay unspent.
	 */
	async raceSameChallenge() {
		const [b] = (await this.challenges(1)) ?? [];
		if (!b) return;
		const otp = await this.sendOtp(b);
		if (!otp) return;
		const tf = b.client.twoFactor;
		const attempts = [["otp", () => tf.verifyOtp({ code: otp })]];
		const t = this.factor?.verified ? this.nextTotp() : null;
		if (t) attempts.push(["totp", () => tf.verifyTotp({ code: t.code })]);
		const code = this.factor ? this.pickCode() : undefined;
		if (code) attempts.push(["backup", () => tf.verifyBackupCode({ code })]);
		if (attempts.length === 1) attempts.push(["otp", () => tf.verifyOtp({ code: otp })]);
		const results = await Promise.all(attempts.map(([, f]) => f()));
		const w = this.raceResult(`same challenge, ${attempts.length} requests`, results);
		if (w < 0) return;
		if (attempts[w][0] === "totp") this.acceptedTotp(t.step);
		if (attempts[w][0] === "backup") this.spent(code, "/two-factor/verify-backup-code", "same-challenge race");
		this.succeededOnChallenge();
	}

	/** The same backup code 2-4 times at once while signed in: exactly one accepted. */
	async raceBackupSignedIn() {
		const k = 2 + this.sim.int(3);
		const code = this.pickCode();
		const results = await Promise.all(
			Array.from({ length: k }, () => this.main.client.twoFactor.verifyBackupCode({ code })),
		);
		if (this.raceResult("backup code, signed in", results) >= 0) this.spent(code, "/two-factor/verify-backup-code", "signed-in race");
		this.checkLosers(results, "verify-backup-code (signed in)", 401, ["INVALID_BACKUP_CODE"]);
	}

	/** The same TOTP code 2-3 times at once while signed in: exactly one accepted. */
	async raceTotpSignedIn() {
		const t = this.nextTotp();
		if (!t) return;
		const k = 2 + this.sim.int(2);
		const results = await Promise.all(Array.from({ length: k }, () => this.main.client.twoFactor.verifyTotp({ code: t.code })));
		if (this.raceResult("TOTP code, signed in", results) >= 0) this.acceptedTotp(t.step);
		this.checkLosers(results, "verify-totp (signed in)", 401, ["INVALID_CODE"]);
	}

	/** Regenerating the codes while one of the old ones is being spent. */
	async raceRegenerateAndSpend() {
		const code = this.pickCode();
		const [regen, spend] = await Promise.all([
			this.main.client.twoFactor.generateBackupCodes({ password: this.password }),
			this.main.client.twoFactor.verifyBackupCode({ code }),
		]);
		this.ledger.race("regenerate vs spend", spend.error ? 0 : 1, [regen.error?.status ?? 200, spend.error?.status ?? 200]);
		if (!spend.error) {
			this.spent(code, "/two-factor/verify-backup-code", "regenerate race");
		} else if (spend.error.code !== "INVALID_BACKUP_CODE") {
			this.unexpected("verify-backup-code (during regenerate)", { status: spend.error.status, code: spend.error.code });
		}
		const data = this.ok(regen, "generate-backup-codes (during spend)");
		if (!data) return;
		this.retireCodes();
		this.factor.setId = this.sim.newCodeSet(this, data.backupCodes);
		this.factor.spent = new Set();
	}

	/** A double click on "enable 2FA": two enables at once must leave one factor. */
	async raceDoubleEnable() {
		const results = await Promise.all([0, 1].map(() => this.main.client.twoFactor.enable({ password: this.password })));
		const wins = results.filter((r) => !r.error);
		this.ledger.race("enable twice at once", wins.length, results.map((r) => r.error?.status ?? 200));
		if (!wins.length) return this.unexpected("enable (double)", { errors: results.map((r) => r.error?.code) });
		// The secret the server now holds decides which response's codes are the live ones.
		const uri = this.ok(await this.main.client.twoFactor.getTotpUri({ password: this.password }), "get-totp-uri");
		if (!uri) return;
		const secret = new URL(uri.totpURI).searchParams.get("secret");
		const live = wins.find((r) => new URL(r.data.totpURI).searchParams.get("secret") === secret);
		if (!live) return this.unexpected("get-totp-uri", { message: "secret matches neither enable response" });
		// The other response's codes were never live for long: they must be refused afterwards.
		for (const r of wins.filter((r) => r !== live)) {
			this.ledger.codeSets.get(this.sim.newCodeSet(this, r.data.backupCodes)).retired = true;
		}
		this.adoptPendingFactor(live.data);
		await this.finishEnrolment();
	}

	checkLosers(results, action, status, codes) {
		for (const r of results) {
			if (r.error && (r.error.status !== status || !codes.includes(r.error.code))) {
				this.unexpected(action, { race: true, status: r.error.status, code: r.error.code });
			}
		}
	}

	// ------------------------------------------------------------ the loop

	/** One random step. */
	async step() {
		if (!this.id) return void (await this.signUp());
		if (!this.signedIn()) return void (await this.ensureSignedIn());
		const f = this.factor;
		const codes = this.unspentCodes().length;
		const choices = [
			[10, () => this.getSession()],
			[4, () => this.listSessions()],
			[6, () => this.signInElsewhere()],
			[3, () => this.signOut()],
			[2, () => this.revokeOne()],
			[1, () => this.revokeOthers()],
			[0.5, () => this.revokeAll()],
			[1, () => this.changePassword()],
			[!this.tfaEnabled && !f?.verified ? 5 : 0, () => this.enableTotp()],
			[!this.tfaEnabled ? 1 : 0, () => this.enableOtp()],
			[f && !f.verified ? 2 : 0, () => this.finishEnrolment()],
			[this.tfaEnabled || f ? 2 : 0, () => this.disable()],
			[this.tfaEnabled && f ? 2 : 0, () => this.regenerateCodes()],
			[f?.verified ? 1 : 0, () => this.verifyTotpSignedIn()],
			[f && codes ? 1 : 0, () => this.spendSignedIn()],
			[this.tfaEnabled && f && codes ? 2 : 0, () => this.raceBackupOnChallenges(), "backup-challenges"],
			[this.tfaEnabled && f?.verified ? 2 : 0, () => this.raceTotpOnChallenges(), "totp-challenges"],
			[this.tfaEnabled ? 2 : 0, () => this.raceSameChallenge(), "same-challenge"],
			[f && codes ? 1 : 0, () => this.raceBackupSignedIn(), "backup-signed-in"],
			[f?.verified ? 1 : 0, () => this.raceTotpSignedIn(), "totp-signed-in"],
			[this.tfaEnabled && f && codes ? 1 : 0, () => this.raceRegenerateAndSpend(), "regenerate-spend"],
			[!this.tfaEnabled && !f ? 1 : 0, () => this.raceDoubleEnable(), "double-enable"],
		];
		for (const c of choices) if (c[2] && this.sim.skipRaces.has(c[2])) c[0] = 0;
		const total = choices.reduce((a, [w]) => a + w, 0);
		let r = this.sim.random() * total;
		for (const [w, run] of choices) {
			if ((r -= w) < 0) return void (await run());
		}
	}
}
