#!/usr/bin/env node
// Produces the takeover fixtures: a database created and filled by the REAL Better Auth 1.7.25
// (reference-server.mjs over HTTP: its own migrations, its own routes), dumped as SQL, plus the
// plaintext facts a test needs to use it (passwords, TOTP secrets, unused backup codes, cookies).
// tests/takeover.rs loads each dump into a fresh database and lets Portcullis serve it.
//
//   node make-takeover-dump.mjs [sqlite] [postgres] [mysql]     (default: all three)
//
// Output: ../fixtures/takeover/better-auth-1.7.25-<backend>.sql and .json. PostgreSQL and
// MySQL/MariaDB use scratch databases created and dropped through the admin URLs in
// PORTCULLIS_TEST_POSTGRES_URL / PORTCULLIS_TEST_MYSQL_URL (defaults: the local services), and
// `pg_dump` / `mysqldump` (or `mariadb-dump`) from PATH; SQLite is dumped with better-sqlite3 in
// the format of sqlite3's `.dump`.
//
// The secret is a throw-away fixture secret; every cookie and ciphertext in the fixtures is only
// valid with it. Better Auth stamps rows with the wall clock, so sessions expire 7 days and
// trusted devices 30 days after the dump: the facts record `dumpedAt`, and the test shifts every
// date in the dump by (now − dumpedAt) before loading it.

import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import { base32Decode, hotp, totpStep } from "./lib/totp.mjs";
import { freePort, sleep } from "./servers.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const outDir = join(here, "..", "fixtures", "takeover");
const FIXTURE_SECRET = "takeover-fixture-secret-never-use-in-production-0123456789";
const PASSWORD = { plain: "plain-password-1", totp: "totp-password-22", otp: "otp-password-333", pending: "pending-password-4444" };

const ADMIN = {
	postgres: process.env.PORTCULLIS_TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/postgres",
	mysql: process.env.PORTCULLIS_TEST_MYSQL_URL ?? "mysql://root@127.0.0.1:3306/test",
};
const backends = process.argv.slice(2).length ? process.argv.slice(2) : ["sqlite", "postgres", "mysql"];
for (const b of backends) {
	if (!["sqlite", "postgres", "mysql"].includes(b)) {
		console.error(`make-takeover-dump: unknown backend ${b}`);
		process.exit(2);
	}
}

// ---------------------------------------------------------------- HTTP "browser"

class Browser {
	constructor(origin) {
		this.origin = origin;
		this.cookies = new Map();
	}
	async post(path, body) {
		return this.request("POST", path, body);
	}
	async get(path) {
		return this.request("GET", path);
	}
	async request(method, path, body) {
		const headers = { origin: this.origin, "user-agent": "takeover-fixture/1.0" };
		if (this.cookies.size) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
		if (body !== undefined) headers["content-type"] = "application/json";
		const res = await fetch(`${this.origin}/api/auth${path}`, {
			method,
			headers,
			body: body === undefined ? undefined : JSON.stringify(body),
			redirect: "manual",
		});
		for (const line of res.headers.getSetCookie()) {
			const [pair, ...attrs] = line.split(";");
			const eq = pair.indexOf("=");
			const [name, value] = [pair.slice(0, eq).trim(), pair.slice(eq + 1).trim()];
			if (attrs.some((a) => a.trim().toLowerCase() === "max-age=0")) this.cookies.delete(name);
			else this.cookies.set(name, value);
		}
		const text = await res.text();
		const json = text ? JSON.parse(text) : null;
		if (res.status !== 200) throw new Error(`${method} ${path}: ${res.status} ${text}`);
		return json;
	}
}

function totpNow(secretBase32) {
	return hotp(base32Decode(secretBase32), totpStep());
}

// ---------------------------------------------------------------- the scenario

/** Fills the database through Better Auth's routes; returns the facts. */
async function fill(origin, backend) {
	const email = (tag) => `${tag}-${backend}@takeover.example`;
	const facts = { users: {} };

	// A user without 2FA, signed in twice (two sessions).
	const plain = new Browser(origin);
	await plain.post("/sign-up/email", { email: email("plain"), password: PASSWORD.plain, name: "Plain User" });
	const second = new Browser(origin);
	await second.post("/sign-in/email", { email: email("plain"), password: PASSWORD.plain });
	facts.users.plain = {
		email: email("plain"),
		password: PASSWORD.plain,
		sessionCookie: plain.cookies.get("better-auth.session_token"),
		sessions: 2,
	};

	// TOTP enrolled and verified; one backup code spent on Better Auth; a trusted device.
	const totp = new Browser(origin);
	await totp.post("/sign-up/email", { email: email("totp"), password: PASSWORD.totp, name: "Totp User" });
	const enabled = await totp.post("/two-factor/enable", { password: PASSWORD.totp });
	const secret = new URL(enabled.totpURI).searchParams.get("secret");
	await totp.post("/two-factor/verify-totp", { code: totpNow(secret) });
	const spender = new Browser(origin);
	const challenge = await spender.post("/sign-in/email", { email: email("totp"), password: PASSWORD.totp });
	if (!challenge.twoFactorRedirect) throw new Error("totp user was not challenged");
	const [spent, ...unused] = enabled.backupCodes;
	await spender.post("/two-factor/verify-backup-code", { code: spent });
	const trusted = new Browser(origin);
	await trusted.post("/sign-in/email", { email: email("totp"), password: PASSWORD.totp });
	await trusted.post("/two-factor/verify-totp", { code: totpNow(secret), trustDevice: true });
	facts.users.totp = {
		email: email("totp"),
		password: PASSWORD.totp,
		totpURI: enabled.totpURI,
		totpSecret: secret,
		unusedBackupCodes: unused,
		spentBackupCode: spent,
		trustDeviceCookie: trusted.cookies.get("better-auth.trust_device"),
		sessionCookie: trusted.cookies.get("better-auth.session_token"),
		// enrolment (rotated), backup-code sign-in, trusted sign-in
		sessions: 3,
	};

	// OTP (email/SMS) 2FA.
	const otp = new Browser(origin);
	await otp.post("/sign-up/email", { email: email("otp"), password: PASSWORD.otp, name: "Otp User" });
	await otp.post("/two-factor/enable", { password: PASSWORD.otp, method: "otp" });
	facts.users.otp = { email: email("otp"), password: PASSWORD.otp, sessionCookie: otp.cookies.get("better-auth.session_token") };

	// TOTP enable without the verifying code: a pending enrolment, 2FA still off.
	const pending = new Browser(origin);
	await pending.post("/sign-up/email", { email: email("pending"), password: PASSWORD.pending, name: "Pending User" });
	await pending.post("/two-factor/enable", { password: PASSWORD.pending });
	facts.users.pending = { email: email("pending"), password: PASSWORD.pending };

	for (const [key, value] of Object.entries(facts.users)) {
		for (const [k, v] of Object.entries(value)) if (v === undefined) throw new Error(`missing ${key}.${k}`);
	}
	return facts;
}

// ---------------------------------------------------------------- dumps

/** sqlite3 `.dump` equivalent: schema and rows in creation order, in one transaction. */
async function dumpSqlite(path) {
	const { default: Database } = await import("better-sqlite3");
	const db = new Database(path, { readonly: true });
	const quote = (v) => {
		if (v === null) return "NULL";
		if (typeof v === "number" || typeof v === "bigint") return String(v);
		if (Buffer.isBuffer(v)) return `X'${v.toString("hex")}'`;
		return `'${String(v).replaceAll("'", "''")}'`;
	};
	const out = ["PRAGMA foreign_keys=OFF;", "BEGIN TRANSACTION;"];
	const tables = db
		.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY rowid")
		.all();
	for (const { name, sql } of tables) {
		out.push(`${sql};`);
		for (const row of db.prepare(`SELECT * FROM "${name}" ORDER BY rowid`).raw().all()) {
			out.push(`INSERT INTO "${name.replaceAll('"', '""')}" VALUES(${row.map(quote).join(",")});`);
		}
	}
	for (const { sql } of db.prepare("SELECT sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY rowid").all()) {
		out.push(`${sql};`);
	}
	out.push("COMMIT;");
	db.close();
	return `${out.join("\n")}\n`;
}

/** pg_dump --inserts, without psql meta-commands (`\restrict` carries a random key per run). */
function dumpPostgres(url) {
	const text = execFileSync(
		"pg_dump",
		["--inserts", "--no-owner", "--no-privileges", "--no-comments", "--dbname", url],
		{ encoding: "utf8" },
	);
	return text
		.split("\n")
		.filter((l) => !l.startsWith("\\"))
		.join("\n");
}

function dumpMysql(url) {
	const u = new URL(url);
	const tool = ["mysqldump", "mariadb-dump"].find((t) => {
		try {
			execFileSync(t, ["--version"], { stdio: "ignore" });
			return true;
		} catch {
			return false;
		}
	});
	if (!tool) throw new Error("neither mysqldump nor mariadb-dump is on PATH");
	const args = [
		"--host",
		u.hostname,
		"--port",
		u.port || "3306",
		"--user",
		decodeURIComponent(u.username || "root"),
		"--skip-comments",
		"--skip-dump-date",
		"--skip-extended-insert",
		"--no-tablespaces",
		"--single-transaction",
		"--tz-utc",
		u.pathname.slice(1),
	];
	if (u.password) args.splice(6, 0, `--password=${decodeURIComponent(u.password)}`);
	// MariaDB's dump opens with `/*M!999999\- enable the sandbox mode */`, a command for its own
	// client only; drop it so the file is plain SQL.
	return execFileSync(tool, args, { encoding: "utf8" })
		.split("\n")
		.filter((l) => !l.startsWith("/*M!999999"))
		.join("\n");
}

// ---------------------------------------------------------------- driver

async function withReference(databaseUrl, fn) {
	const port = await freePort();
	const origin = `http://127.0.0.1:${port}`;
	const child = spawn(process.execPath, [join(here, "reference-server.mjs")], {
		cwd: here,
		env: {
			...process.env,
			BETTER_AUTH_SECRET: FIXTURE_SECRET,
			BETTER_AUTH_URL: origin,
			DATABASE_URL: databaseUrl,
			PORT: String(port),
			NODE_ENV: "development",
		},
		stdio: ["ignore", "pipe", "inherit"],
	});
	try {
		const deadline = Date.now() + 60_000;
		for (;;) {
			if (child.exitCode !== null) throw new Error(`reference server exited (${child.exitCode})`);
			try {
				if ((await fetch(`${origin}/api/auth/ok`)).status === 200) break;
			} catch {}
			if (Date.now() > deadline) throw new Error("reference server not ready");
			await sleep(150);
		}
		return await fn(origin);
	} finally {
		await new Promise((resolve) => {
			if (child.exitCode !== null) return resolve();
			child.once("exit", resolve);
			process.kill(child.pid, "SIGTERM");
		});
	}
}

async function adminDb(kind, name, action) {
	execFileSync(process.execPath, [join(here, "admin-db.mjs"), kind, ADMIN[kind], name, ...(action ? [action] : [])], {
		stdio: "inherit",
	});
}

mkdirSync(outDir, { recursive: true });
for (const backend of backends) {
	const dir = mkdtempSync(join(tmpdir(), "takeover-dump-"));
	const scratch = `pc_takeover_dump_${process.pid}`;
	const databaseUrl =
		backend === "sqlite" ? `sqlite://${join(dir, "db.sqlite")}` : `${ADMIN[backend].replace(/\/[^/]*$/, "")}/${scratch}`;
	if (backend !== "sqlite") await adminDb(backend, scratch);
	try {
		const facts = await withReference(databaseUrl, (origin) => fill(origin, backend));
		const dumpedAt = new Date().toISOString();
		const sql =
			backend === "sqlite"
				? await dumpSqlite(join(dir, "db.sqlite"))
				: backend === "postgres"
					? dumpPostgres(databaseUrl)
					: dumpMysql(databaseUrl);
		const base = join(outDir, `better-auth-1.7.25-${backend}`);
		writeFileSync(`${base}.sql`, sql);
		const header = {
			generator: "tests/js/make-takeover-dump.mjs (better-auth 1.7.25, plugins: two-factor)",
			secret: FIXTURE_SECRET,
			dumpedAt,
		};
		writeFileSync(`${base}.json`, `${JSON.stringify({ ...header, ...facts }, null, 2)}\n`);
		console.error(`make-takeover-dump: wrote ${base}.sql and .json`);
	} finally {
		if (backend !== "sqlite") await adminDb(backend, scratch, "drop");
		rmSync(dir, { recursive: true, force: true });
	}
}
