// The checks after the load: first through the API while the server still runs (every backup
// code that was accepted or retired is refused again, a just-used TOTP step is refused again),
// then on the database itself once the server has stopped (rows must equal the client-side
// model: users, sessions and how each was obtained, twoFactor counters and codes, challenge
// counters, no orphans).

import { createHmac } from "node:crypto";
import { hotp, totpStep } from "../js/lib/totp.mjs";
import { bool, int } from "./db.mjs";
import { parseEnvelope, symmetricDecrypt } from "./deps.mjs";

const CHALLENGE_ATTEMPTS = 5;
const OTP_ATTEMPTS = 5;
/** Retired (regenerated/disabled) codes re-checked per user: a sample keeps the phase short. */
const RETIRED_SAMPLE = 30;

/** Portcullis's keyed hash of a backup code (crates/server/src/auth/backup_codes.rs keyed_hash). */
export function backupCodeHash(secret, code) {
	const key = createHmac("sha256", secret).update("portcullis/backup-code/v1").digest();
	return createHmac("sha256", key).update(code).digest("base64url");
}

/** Better Auth's encrypted `twoFactor.backupCodes` → the list, or null. */
async function decryptCodes(secret, stored) {
	try {
		const envelope = parseEnvelope(stored);
		const json = await symmetricDecrypt({ key: secret, data: envelope ? envelope.ciphertext : stored });
		const list = JSON.parse(json);
		return Array.isArray(list) ? list : null;
	} catch {
		return null;
	}
}

const sameSet = (a, b) => a.length === b.length && [...a].sort().join("\n") === [...b].sort().join("\n");

// ---------------------------------------------------------------- API, server still running

export async function apiRechecks(users, ledger, sim) {
	for (const u of users) {
		if (!u.id) continue;
		if (!(await u.ensureSignedIn())) {
			ledger.violation("recheck-sign-in", { user: u.idx, message: "could not sign in for the re-checks" });
			continue;
		}
		const spent = ledger.spends.filter((s) => s.userIdx === u.idx).map((s) => s.code);
		const retired = [];
		for (const set of ledger.codeSets.values()) {
			if (set.userIdx === u.idx && set.retired) retired.push(...set.codes.filter((c) => !spent.includes(c)));
		}
		const sample = retired.sort(() => sim.random() - 0.5).slice(0, RETIRED_SAMPLE);
		for (const [kind, codes] of [
			["spent", spent],
			["retired", sample],
		]) {
			for (const code of codes) {
				const r = await u.main.client.twoFactor.verifyBackupCode({ code });
				if (!r.error) {
					ledger.violation(kind === "spent" ? "backup-code-double-spend" : "retired-backup-code-accepted", { user: u.idx, code });
					if (u.factor) u.factor.spent.add(code);
				} else if (!["INVALID_BACKUP_CODE", "BACKUP_CODES_NOT_ENABLED"].includes(r.error.code)) {
					u.unexpected("re-check backup code", { status: r.error.status, code: r.error.code });
				}
			}
			ledger.checked(`${kind} backup codes refused when submitted again (API)`, codes.length);
		}
		const f = u.factor;
		if (f?.verified && f.lastAccepted !== null && f.lastAccepted >= totpStep() - 1) {
			const r = await u.main.client.twoFactor.verifyTotp({ code: hotp(f.key, f.lastAccepted) });
			if (!r.error) ledger.violation("totp-step-accepted-twice", { user: u.idx, step: f.lastAccepted });
			ledger.checked("last accepted TOTP step refused when submitted again (API)");
		}
	}
}

// ---------------------------------------------------------------- database, server stopped

export async function dbChecks(snap, users, ledger, secret) {
	const v = (kind, detail) => ledger.violation(kind, detail);
	const userRows = new Map(snap.user.map((r) => [r.id, r]));
	const model = new Map(users.filter((u) => u.id).map((u) => [u.id, u]));

	// Users: one row per successful sign-up, 2FA flag as the model.
	if (snap.user.length !== ledger.signUps) v("user-count", { rows: snap.user.length, signUps: ledger.signUps });
	for (const u of model.values()) {
		const row = userRows.get(u.id);
		if (!row) {
			v("user-missing", { user: u.idx });
			continue;
		}
		if (row.email !== u.email) v("user-email", { user: u.idx, email: row.email });
		if ((bool(row.twoFactorEnabled) === true) !== u.tfaEnabled) {
			v("two-factor-enabled-flag", { user: u.idx, row: row.twoFactorEnabled, model: u.tfaEnabled });
		}
	}
	ledger.checked("user rows = successful sign-ups; twoFactorEnabled as the client left it", snap.user.length);

	// Accounts: one credential account per user, none orphaned.
	for (const a of snap.account) if (!userRows.has(a.userId)) v("orphan-account", { id: a.id });
	for (const u of model.values()) {
		const n = snap.account.filter((a) => a.userId === u.id && a.providerId === "credential").length;
		if (n !== 1) v("credential-accounts", { user: u.idx, count: n });
	}
	ledger.checked("one credential account per user, no orphans", snap.account.length);

	// Sessions: each one handed to the client, legitimately, and alive exactly when the model says.
	const sessionsOf = new Map();
	for (const s of snap.session) {
		if (!userRows.has(s.userId)) {
			v("orphan-session", { token: s.token.slice(0, 8) });
			continue;
		}
		const u = model.get(s.userId);
		const known = ledger.tokens.get(s.token);
		if (!known) v("session-never-handed-out", { user: u?.idx, token: s.token.slice(0, 8) });
		else if (known.userIdx !== u?.idx) v("session-of-another-user", { token: s.token.slice(0, 8) });
		else if (!known.legit) v("session-without-second-factor", { user: u.idx, token: s.token.slice(0, 8), route: known.route });
		sessionsOf.set(s.userId, [...(sessionsOf.get(s.userId) ?? []), s.token]);
	}
	for (const u of model.values()) {
		const rows = sessionsOf.get(u.id) ?? [];
		const missing = [...u.alive].filter((t) => !rows.includes(t));
		const extra = rows.filter((t) => !u.alive.has(t));
		if (missing.length) v("session-lost", { user: u.idx, tokens: missing.map((t) => t.slice(0, 8)) });
		if (extra.length) v("session-not-revoked", { user: u.idx, tokens: extra.map((t) => t.slice(0, 8)) });
	}
	ledger.checked("session rows: handed out by sign-up/sign-in without 2FA/a verified second factor/rotation, alive exactly as the client's model", snap.session.length);

	/** `rows` grouped by `userId`; a row whose user is gone is an `orphanKind` violation. */
	const rowsByUser = (rows, orphanKind) => {
		const byUser = new Map();
		for (const r of rows) {
			if (!userRows.has(r.userId)) v(orphanKind, { id: r.id });
			byUser.set(r.userId, [...(byUser.get(r.userId) ?? []), r]);
		}
		return byUser;
	};

	// twoFactor: one row per user with a factor; verified, lockout counter, last step and the
	// encrypted list as the model.
	const factorsOf = rowsByUser(snap.twoFactor, "orphan-two-factor");
	for (const u of model.values()) {
		const rows = factorsOf.get(u.id) ?? [];
		if (rows.length > 1) v("two-factor-rows", { user: u.idx, count: rows.length });
		if (!u.factor) {
			if (rows.length) v("two-factor-row-not-expected", { user: u.idx });
			continue;
		}
		const row = rows[0];
		if (!row) {
			v("two-factor-row-missing", { user: u.idx });
			continue;
		}
		const f = u.factor;
		if ((bool(row.verified) !== false) !== f.verified) v("two-factor-verified", { user: u.idx, row: row.verified, model: f.verified });
		const failures = int(row.failedVerificationCount) ?? 0;
		if (failures !== f.failures) v("failed-verification-count", { user: u.idx, row: failures, model: f.failures });
		if (row.lockedUntil !== null && row.lockedUntil !== undefined) v("locked", { user: u.idx, lockedUntil: String(row.lockedUntil) });
		if (int(row.lastUsedStep) !== f.lastAccepted) v("last-used-step", { user: u.idx, row: int(row.lastUsedStep), model: f.lastAccepted });
		const list = await decryptCodes(secret, row.backupCodes);
		if (!list) v("backup-codes-undecryptable", { user: u.idx });
		else if (!sameSet(list, u.unspentCodes())) {
			v("backup-code-list", { user: u.idx, row: list.length, model: u.unspentCodes().length, extra: list.filter((c) => !u.unspentCodes().includes(c)) });
		}
	}
	ledger.checked("twoFactor rows: ≤1 per user, verified, failedVerificationCount, lockedUntil, lastUsedStep, decrypted backupCodes = issued − accepted", snap.twoFactor.length);

	// twoFactorBackupCode: the current set's hashes, spent exactly where a spend was accepted.
	const codeRowsOf = rowsByUser(snap.twoFactorBackupCode, "orphan-backup-code-row");
	for (const u of model.values()) {
		const rows = codeRowsOf.get(u.id) ?? [];
		if (!u.factor) {
			if (rows.length) v("backup-code-rows-without-factor", { user: u.idx, count: rows.length });
			continue;
		}
		const codes = ledger.codeSets.get(u.factor.setId).codes;
		const byHash = new Map(codes.map((c) => [backupCodeHash(secret, c), c]));
		if (rows.length !== codes.length) v("backup-code-row-count", { user: u.idx, rows: rows.length, codes: codes.length });
		for (const r of rows) {
			const code = byHash.get(r.codeHash);
			if (!code) {
				v("backup-code-row-foreign", { user: u.idx, id: r.id });
				continue;
			}
			const used = r.usedAt !== null && r.usedAt !== undefined;
			if (used !== u.factor.spent.has(code)) v("backup-code-row-used", { user: u.idx, code, usedAt: String(r.usedAt), accepted: u.factor.spent.has(code) });
		}
	}
	ledger.checked("twoFactorBackupCode rows: the current set, usedAt set exactly for accepted codes, none without a factor", snap.twoFactorBackupCode.length);

	// verification: challenge, attempt, OTP and trusted-device rows well-formed and paired.
	const byIdentifier = new Map();
	for (const r of snap.verification) byIdentifier.set(r.identifier, [...(byIdentifier.get(r.identifier) ?? []), r]);
	let leftoverCounters = 0;
	for (const [identifier, rows] of byIdentifier) {
		if (rows.length > 1 && identifier.startsWith("2fa-")) v("verification-duplicates", { identifier, count: rows.length });
		const value = rows[0].value;
		if (identifier.startsWith("2fa-attempts-")) {
			if (!/^\d+$/.test(value) || Number(value) > CHALLENGE_ATTEMPTS) v("attempt-counter", { identifier, value });
			if (!byIdentifier.has(identifier.slice("2fa-attempts-".length))) leftoverCounters += 1;
		} else if (identifier.startsWith("2fa-otp-")) {
			const m = /^[^:]+:(\d+)$/.exec(value);
			if (!m || Number(m[1]) > OTP_ATTEMPTS) v("otp-value", { identifier, value: value.replace(/^[^:]*/, "…") });
		} else if (identifier.startsWith("2fa-")) {
			if (!userRows.has(value)) v("challenge-for-missing-user", { identifier });
			if (!byIdentifier.has(`2fa-attempts-${identifier}`)) v("challenge-without-attempt-counter", { identifier });
		} else if (identifier.startsWith("trust-device-")) {
			if (!userRows.has(value)) v("trust-record-for-missing-user", { identifier });
		}
	}
	ledger.checked("verification rows: attempt counters integers 0..5, OTP counters 0..5, no duplicates, every live challenge has its counter, no orphans", snap.verification.length);
	return { leftoverCounters };
}
