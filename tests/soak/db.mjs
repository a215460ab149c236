// Reads Better Auth's tables straight from the database the server used (SQLite file,
// PostgreSQL or MySQL/MariaDB), with values normalised across backends: booleans as true/false,
// integers as numbers, absent as null.

import { Sqlite, mysql, pg } from "./deps.mjs";

export const TABLES = ["user", "account", "session", "verification", "twoFactor", "twoFactorBackupCode"];

/**
 * Opens `databaseUrl` (as given to the server) and returns {rows(table), exec(sql, params),
 * close()}. `exec` takes SQL with "quoted" identifiers and `?` placeholders on every backend.
 */
export async function openDatabase(databaseUrl, { write = false } = {}) {
	if (databaseUrl.startsWith("sqlite:")) {
		const path = databaseUrl.slice("sqlite://".length).split("?")[0];
		const db = new Sqlite(path, { readonly: !write, fileMustExist: true });
		return {
			rows: async (table) => db.prepare(`SELECT * FROM "${table}"`).all(),
			exec: async (sql, params = []) => db.prepare(sql).run(...params).changes,
			close: async () => db.close(),
		};
	}
	if (databaseUrl.startsWith("postgres")) {
		const client = new pg.Client({ connectionString: databaseUrl });
		await client.connect();
		return {
			rows: async (table) => (await client.query(`SELECT * FROM "${table}"`)).rows,
			exec: async (sql, params = []) => {
				let i = 0;
				return (await client.query(sql.replace(/\?/g, () => `$${++i}`), params)).rowCount;
			},
			close: () => client.end(),
		};
	}
	if (databaseUrl.startsWith("mysql") || databaseUrl.startsWith("mariadb")) {
		const conn = await mysql.createConnection(databaseUrl.replace(/^mariadb:/, "mysql:"));
		return {
			rows: async (table) => (await conn.query(`SELECT * FROM \`${table}\``))[0],
			exec: async (sql, params = []) => (await conn.query(sql.replaceAll('"', "`"), params))[0].affectedRows,
			close: () => conn.end(),
		};
	}
	throw new Error(`unsupported database URL ${databaseUrl}`);
}

/** true/false for the boolean encodings of the three backends; null stays null. */
export function bool(v) {
	if (v === null || v === undefined) return null;
	if (typeof v === "boolean") return v;
	if (typeof v === "number" || typeof v === "bigint") return Number(v) !== 0;
	if (Buffer.isBuffer(v)) return v.length > 0 && v[0] !== 0;
	if (typeof v === "string") return v === "1" || v.toLowerCase() === "true" || v.toLowerCase() === "t";
	return Boolean(v);
}

/** A number for integer columns (PostgreSQL bigint arrives as a string); null stays null. */
export function int(v) {
	if (v === null || v === undefined) return null;
	return Number(v);
}

/** Reads every table of interest. */
export async function snapshot(databaseUrl) {
	const db = await openDatabase(databaseUrl);
	try {
		const out = {};
		for (const t of TABLES) out[t] = await db.rows(t);
		return out;
	} finally {
		await db.close();
	}
}
