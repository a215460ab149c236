// The database edits a fixture may ask for between exchanges ({"db": ACTION, "args": {...}}),
// on Better Auth's own schema. tests/compat_replay.rs implements the same vocabulary with
// sea-orm; keep the two in step (README "Database steps").

import { unsigned } from "./fixture.mjs";

export const DB_ACTIONS = ["expire-challenge", "expire-otp", "expire-lockout", "expire-trust-device", "age-session"];

/**
 * `query(sql, params)` runs one statement with `$1…` parameters and returns the rows;
 * `date(d)` converts a JS Date to the column representation Better Auth uses on that
 * database (timestamptz on PostgreSQL, ISO text on SQLite) and `parse(v)` reads it back.
 */
export function dbSteps({ query, date, parse }) {
	const ago = (seconds) => date(new Date(Date.now() - seconds * 1000));

	async function userId(email) {
		const rows = await query(`SELECT id FROM "user" WHERE email = $1`, [email]);
		if (rows.length !== 1) throw new Error(`db: no user ${email}`);
		return rows[0].id;
	}

	async function expireIdentifiers(identifiers) {
		let n = 0;
		for (const id of identifiers) {
			const rows = await query(`UPDATE verification SET "expiresAt" = $1 WHERE identifier = $2 RETURNING id`, [
				ago(60),
				id,
			]);
			n += rows.length;
		}
		if (n === 0) throw new Error(`db: no verification rows ${identifiers.join(", ")}`);
	}

	const actions = {
		/** The 2FA sign-in challenge named by a two_factor cookie (and its attempt counter and OTP) expired a minute ago. */
		"expire-challenge": async ({ cookie }) => {
			const id = unsigned(cookie);
			await expireIdentifiers([id, `2fa-attempts-${id}`, `2fa-otp-${id}`]);
		},
		/** The OTP sent for the challenge named by a two_factor cookie expired a minute ago. */
		"expire-otp": async ({ cookie }) => {
			await expireIdentifiers([`2fa-otp-${unsigned(cookie)}`]);
		},
		/** The user's account lock (twoFactor.lockedUntil) ended a second ago. */
		"expire-lockout": async ({ email }) => {
			const rows = await query(`UPDATE "twoFactor" SET "lockedUntil" = $1 WHERE "userId" = $2 RETURNING id`, [
				ago(1),
				await userId(email),
			]);
			if (rows.length !== 1) throw new Error(`db: no twoFactor row for ${email}`);
		},
		/** Every trusted-device record of the user expired a minute ago. */
		"expire-trust-device": async ({ email }) => {
			const rows = await query(
				`UPDATE verification SET "expiresAt" = $1 WHERE identifier LIKE 'trust-device-%' AND value = $2 RETURNING id`,
				[ago(60), await userId(email)],
			);
			if (rows.length === 0) throw new Error(`db: no trust-device rows for ${email}`);
		},
		/** The session with this token was created `seconds` earlier (createdAt, updatedAt, expiresAt all move back). */
		"age-session": async ({ token, seconds }) => {
			const rows = await query(`SELECT "createdAt", "updatedAt", "expiresAt" FROM session WHERE token = $1`, [token]);
			if (rows.length !== 1) throw new Error(`db: no session ${token}`);
			const shift = (v) => date(new Date(parse(v).getTime() - seconds * 1000));
			await query(`UPDATE session SET "createdAt" = $1, "updatedAt" = $2, "expiresAt" = $3 WHERE token = $4`, [
				shift(rows[0].createdAt),
				shift(rows[0].updatedAt),
				shift(rows[0].expiresAt),
				token,
			]);
		},
	};

	return {
		async run(action, args) {
			const f = actions[action];
			if (!f) throw new Error(`db: unknown action ${action} (known: ${DB_ACTIONS.join(", ")})`);
			await f(args);
		},
	};
}
