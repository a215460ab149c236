#!/usr/bin/env node
// Records what the real Better Auth answers, one JSON fixture per scenario, into
// compat-fixtures/scenarios/ (replayed against Portcullis by tests/compat_replay.rs).
//
//   cd compat-fixtures/recorder && npm ci
//   node record.mjs                          # PostgreSQL (fresh database, dropped afterwards)
//   node record.mjs --sqlite                 # a temp SQLite file instead (quick runs)
//   node record.mjs --postgres URL           # another admin URL (default below)
//   node record.mjs --only NAME[,NAME…]      # just these scenarios (others are kept)
//   node record.mjs --out DIR                # write elsewhere (default ../scenarios)
//   node record.mjs --verbose                # show Better Auth's own log
//
// The server is Better Auth itself, in this process, set up like tests/js/reference-server.mjs:
// emailAndPassword, twoFactor (OTP sender captured in-process), username; secret
// test-secret-0123456789-abcdefghijklmnopqrstuvwxyz, base URL http://127.0.0.1:<port>,
// NODE_ENV=development (origin checks on), listening on 127.0.0.1 only.

// Better Auth reads NODE_ENV once, at import time (@better-auth/core: dist/env/env-impl.mjs);
// test mode would switch the origin checks off, so pin development before importing it.
process.env.NODE_ENV = "development";
delete process.env.TEST;

import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import { dbSteps } from "./lib/db.mjs";
import { Fixture } from "./lib/fixture.mjs";
import { formatJson } from "./lib/json.mjs";
import { SCENARIOS } from "./scenarios.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const SECRET = "test-secret-0123456789-abcdefghijklmnopqrstuvwxyz";
const PLUGINS = ["two-factor", "username"];
const APP_NAME = "Better Auth";

function usage(msg) {
	if (msg) console.error(`record.mjs: ${msg}`);
	console.error("usage: node record.mjs [--sqlite | --postgres ADMIN_URL] [--only NAME,…] [--out DIR] [--verbose]");
	process.exit(2);
}

const args = { sqlite: false, postgres: "postgres://postgres@127.0.0.1:5432/postgres", only: null, out: null, verbose: false };
{
	const argv = process.argv.slice(2);
	for (let i = 0; i < argv.length; i++) {
		const a = argv[i];
		const value = () => (i + 1 < argv.length ? argv[++i] : usage(`${a} needs a value`));
		if (a === "--sqlite") args.sqlite = true;
		else if (a === "--postgres") args.postgres = value();
		else if (a === "--only") args.only = value().split(",");
		else if (a === "--out") args.out = value();
		else if (a === "--verbose") args.verbose = true;
		else if (a === "-h" || a === "--help") usage();
		else usage(`unknown argument ${a}`);
	}
}
const outDir = resolve(args.out ?? join(here, "..", "scenarios"));
const selected = args.only ? SCENARIOS.filter((s) => args.only.includes(s.name)) : SCENARIOS;
if (args.only && selected.length !== args.only.length) usage(`unknown scenario in --only (known: ${SCENARIOS.map((s) => s.name).join(", ")})`);

const { betterAuth } = await import("better-auth");
const { toNodeHandler } = await import("better-auth/node");
const { twoFactor } = await import("better-auth/plugins/two-factor");
const { username } = await import("better-auth/plugins/username");
const { getMigrations } = await import("better-auth/db/migration");
const betterAuthVersion = JSON.parse(readFileSync(join(here, "node_modules/better-auth/package.json"), "utf8")).version;

// ---------------------------------------------------------------- database
const cleanups = [];
let database;
let steps;
let databaseKind;
if (args.sqlite) {
	databaseKind = "sqlite";
	const { default: Database } = await import("better-sqlite3");
	const dir = mkdtempSync(join(tmpdir(), "portcullis-record-"));
	const db = new Database(join(dir, "db.sqlite"));
	cleanups.push(async () => {
		db.close();
		rmSync(dir, { recursive: true, force: true });
	});
	database = db;
	steps = dbSteps({
		query: async (sql, params) => {
			const stmt = db.prepare(sql.replace(/\$\d+/g, "?"));
			if (stmt.reader) return stmt.all(...params);
			stmt.run(...params);
			return [];
		},
		date: (d) => d.toISOString(),
		parse: (v) => new Date(v),
	});
} else {
	databaseKind = "postgres";
	const { default: pg } = await import("pg");
	const name = `ba_record_${process.pid}_${Date.now()}`;
	const admin = new pg.Client({ connectionString: args.postgres });
	await admin.connect();
	await admin.query(`CREATE DATABASE ${name}`);
	await admin.end();
	const url = new URL(args.postgres);
	url.pathname = `/${name}`;
	const pool = new pg.Pool({ connectionString: url.toString() });
	cleanups.push(async () => {
		await pool.end();
		const a = new pg.Client({ connectionString: args.postgres });
		await a.connect();
		await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
		await a.end();
	});
	database = pool;
	steps = dbSteps({
		query: async (sql, params) => (await pool.query(sql, params)).rows,
		date: (d) => d,
		parse: (v) => new Date(v),
	});
}

// ---------------------------------------------------------------- Better Auth
/** email (lower case) → every OTP "sent", oldest first. */
const otpLog = new Map();
const options = {
	secret: SECRET,
	// Expected errors (wrong codes, bad bodies) would flood the output; --verbose shows them.
	logger: { disabled: !args.verbose },
	database,
	emailAndPassword: { enabled: true },
	plugins: [
		twoFactor({
			otpOptions: {
				sendOTP: async ({ user, otp }) => {
					const email = String(user.email).toLowerCase();
					otpLog.set(email, [...(otpLog.get(email) ?? []), otp]);
				},
			},
		}),
		username(),
	],
};

const server = http.createServer();
await new Promise((r) => server.listen(0, "127.0.0.1", r));
const port = server.address().port;
const origin = `http://127.0.0.1:${port}`;
options.baseURL = origin;
const { runMigrations } = await getMigrations(options);
await runMigrations();
const auth = betterAuth(options);
const handler = toNodeHandler(auth);
server.on("request", (req, res) => {
	handler(req, res).catch((err) => {
		console.error("record.mjs: handler error", err);
		if (!res.headersSent) res.writeHead(500);
		res.end();
	});
});
console.error(`record.mjs: Better Auth ${betterAuthVersion} on ${origin} (${databaseKind})`);

// ---------------------------------------------------------------- scenarios
let status = 0;
try {
	mkdirSync(outDir, { recursive: true });
	if (!args.only) {
		for (const f of readdirSync(outDir)) if (f.endsWith(".json")) unlinkSync(join(outDir, f));
	}
	const runId = Date.now().toString(36).slice(-5);
	let total = 0;
	for (const [i, scenario] of SCENARIOS.entries()) {
		if (!selected.includes(scenario)) continue;
		const env = { origin, port, secret: SECRET, runId, fixtureIndex: i, db: steps, otpLog };
		const f = new Fixture(env, scenario.name, scenario.title);
		await scenario.run(f);
		const exchanges = f.steps.filter((s) => s.request).length;
		total += exchanges;
		const file = join(outDir, `${String(i + 1).padStart(2, "0")}-${scenario.name}.json`);
		const { steps: recorded, ...head } = f.toJSON();
		const doc = {
			...head,
			recordedWith: { betterAuth: betterAuthVersion, database: databaseKind, node: process.version },
			server: { plugins: PLUGINS, appName: APP_NAME, otpSender: true },
			steps: recorded,
		};
		writeFileSync(file, `${formatJson(doc)}\n`);
		console.error(`record.mjs: ${scenario.name}: ${exchanges} exchanges`);
	}
	console.error(`record.mjs: ${total} exchanges in ${selected.length} fixtures → ${outDir}`);
} catch (err) {
	console.error(`record.mjs: ${err.stack ?? err}`);
	status = 1;
} finally {
	server.closeAllConnections?.();
	await new Promise((r) => server.close(r));
	for (const c of cleanups) await c().catch((e) => console.error(`record.mjs: cleanup: ${e.message}`));
}
process.exit(status);
