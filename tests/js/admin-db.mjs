#!/usr/bin/env node
// Creates (or, with "drop", removes) a throw-away database on the server behind an admin URL.
// Usage: node admin-db.mjs postgres|mysql ADMIN_URL NAME [drop]
import pg from "pg";
import mysql from "mysql2/promise";

const [kind, adminUrl, name, action] = process.argv.slice(2);
if (!kind || !adminUrl || !/^[A-Za-z0-9_]+$/.test(name ?? "")) {
	console.error("usage: node admin-db.mjs postgres|mysql ADMIN_URL NAME [drop]");
	process.exit(2);
}
const sql = action === "drop" ? `DROP DATABASE IF EXISTS ${name}` : `CREATE DATABASE ${name}`;
if (kind === "postgres") {
	const client = new pg.Client({ connectionString: adminUrl });
	await client.connect();
	await client.query(action === "drop" ? `${sql} WITH (FORCE)` : sql);
	await client.end();
} else if (kind === "mysql") {
	const conn = await mysql.createConnection(adminUrl);
	await conn.query(sql);
	await conn.end();
} else {
	console.error(`unknown kind ${kind}`);
	process.exit(2);
}
