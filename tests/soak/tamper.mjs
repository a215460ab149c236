// --self-check: corrupts the database the way each invariant check exists to catch, and expects
// every one to be reported. A run that stays green here would stay green on a broken server.

import { openDatabase } from "./db.mjs";
import { symmetricEncrypt } from "./deps.mjs";
import { backupCodeHash } from "./invariants.mjs";

/**
 * Server running, before the API re-checks: one accepted backup code put back into its user's
 * list and marked unused, so the server accepts it again. Returns the violation kinds expected.
 */
export async function tamperBeforeRechecks(databaseUrl, users, secret) {
	const u = users.find((u) => u.factor && u.factor.spent.size > 0);
	if (!u) return { expected: [], skipped: ["no user with a spent code in its current set"] };
	const code = [...u.factor.spent][0];
	const db = await openDatabase(databaseUrl, { write: true });
	try {
		const list = await symmetricEncrypt({ key: secret, data: JSON.stringify([...u.unspentCodes(), code]) });
		await db.exec('UPDATE "twoFactor" SET "backupCodes" = ? WHERE "userId" = ?', [list, u.id]);
		await db.exec('UPDATE "twoFactorBackupCode" SET "usedAt" = NULL WHERE "userId" = ? AND "codeHash" = ?', [
			u.id,
			backupCodeHash(secret, code),
		]);
	} finally {
		await db.close();
	}
	return { expected: ["backup-code-double-spend"], skipped: [] };
}

/** Server stopped, before the database checks: one corruption per check. */
export async function tamperAfterStop(databaseUrl, users, secret) {
	const expected = [];
	const skipped = [];
	const db = await openDatabase(databaseUrl, { write: true });
	const run = async (kinds, what, sql, params) => {
		if ((await db.exec(sql, params)) > 0) expected.push(...kinds);
		else skipped.push(what);
	};
	try {
		const withSession = users.find((u) => u.alive.size > 0);
		const token = withSession && [...withSession.alive][0];
		await run(["session-never-handed-out", "session-lost", "session-not-revoked"], "a session token replaced", 'UPDATE "session" SET "token" = ? WHERE "token" = ?', [
			`tampered-${Date.now()}`,
			token ?? "",
		]);
		const someone = users.find((u) => u.id);
		await run(["two-factor-enabled-flag"], "twoFactorEnabled flipped", 'UPDATE "user" SET "twoFactorEnabled" = ? WHERE "id" = ?', [
			someone?.tfaEnabled ? 0 : 1,
			someone?.id ?? "",
		]);
		const f = users.find((u) => u.factor);
		await run(["failed-verification-count", "last-used-step"], "lockout counter and last step changed",
			'UPDATE "twoFactor" SET "failedVerificationCount" = ?, "lastUsedStep" = ? WHERE "userId" = ?',
			[(f?.factor.failures ?? 0) + 3, (f?.factor.lastAccepted ?? 7) - 1, f?.id ?? ""],
		);
		const spender = users.find((u) => u.factor && u.factor.spent.size > 0);
		const code = spender && [...spender.factor.spent][0];
		await run(["backup-code-row-used"], "a spent code row marked unused",
			'UPDATE "twoFactorBackupCode" SET "usedAt" = NULL WHERE "userId" = ? AND "codeHash" = ?',
			[spender?.id ?? "", code ? backupCodeHash(secret, code) : ""],
		);
		const counter = (await db.rows("verification")).find((r) => r.identifier.startsWith("2fa-attempts-"));
		await run(["attempt-counter"], "an attempt counter set to -1", `UPDATE "verification" SET "value" = '-1' WHERE "id" = ?`, [
			counter?.id ?? "",
		]);
	} finally {
		await db.close();
	}
	return { expected, skipped };
}
