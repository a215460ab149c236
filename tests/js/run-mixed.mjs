#!/usr/bin/env node
// Mixed fleet: the real Better Auth 1.7.25 (reference-server.mjs) and the Portcullis binary
// serving ONE database at the same time with the same secret, as during a rolling switch.
// Starts Better Auth first (its own migrations create the tables), then Portcullis (its
// migrations adopt them), then restarts Better Auth (its migrations must accept Portcullis's
// additions, as on a rollback), runs `node --test mixed-fleet.test.mjs`, stops both by PID and
// exits with the test status.
//
// Usage:
//   node run-mixed.mjs --bin PATH [--database-url URL] [--cookie-cache] [--keep] [test files…]
//
// --database-url: sqlite://<file> (the default: a fresh file in a temp dir, opened by both
// processes), postgres://… or mysql://… (an existing, empty database; scripts/test creates and
// drops one). --cookie-cache turns the session cookie cache on in both servers
// (PORTCULLIS_COOKIE_CACHE=on, Better Auth's cookieCache with strategy compact; the suite for
// it is cookie-cache.test.mjs). --keep keeps the temp dir (database + both logs). The logs are printed when
// something fails.
//
// Both servers get the same BETTER_AUTH_URL (Portcullis's origin) so their cookies, origin
// checks and callback URLs agree, as behind one load balancer; each also trusts the other's
// origin (PORTCULLIS_TRUSTED_ORIGINS / BETTER_AUTH_TRUSTED_ORIGINS). Portcullis runs with
// PORTCULLIS_PASSWORD_HASH=scrypt (Better Auth must verify its hashes) and Better Auth with
// OTP_STORE=hashed (Portcullis's OTP storage), the configuration README.md prescribes for a
// mixed fleet.
//
// Test environment: PORTCULLIS_URL, REFERENCE_URL (each server's own base), ORIGIN (the shared
// origin the tests send), PORTCULLIS_OTP_SOURCE (a listener here that receives Portcullis's OTP
// webhook) and REFERENCE_OTP_SOURCE (the reference server's GET /__test/otp); both answer
// GET ?email=… with {"otp", …}.

import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

// Starting/stopping each server (and Portcullis's OTP webhook listener): servers.mjs, shared
// with run.mjs and side-by-side.mjs.
import { freePort, startServer } from "./servers.mjs";

const here = dirname(fileURLToPath(import.meta.url));

function usage(msg) {
	if (msg) console.error(`run-mixed.mjs: ${msg}`);
	console.error("usage: node run-mixed.mjs --bin PATH [--database-url URL] [--cookie-cache] [--keep] [test files…]");
	process.exit(2);
}

function parseArgs(argv) {
	const out = { bin: null, databaseUrl: null, keep: false, cookieCache: false, files: [] };
	for (let i = 0; i < argv.length; i++) {
		const a = argv[i];
		const value = () => {
			const [flag, inline] = a.split(/=(.*)/s, 2);
			if (inline !== undefined) return inline;
			if (i + 1 >= argv.length) usage(`${flag} needs a value`);
			return argv[++i];
		};
		if (a === "--bin" || a.startsWith("--bin=")) out.bin = value();
		else if (a === "--database-url" || a.startsWith("--database-url=")) out.databaseUrl = value();
		else if (a === "--keep") out.keep = true;
		else if (a === "--cookie-cache") out.cookieCache = true;
		else if (a === "-h" || a === "--help") usage();
		else if (a.startsWith("--")) usage(`unknown option ${a}`);
		else out.files.push(a);
	}
	if (!out.bin) usage("--bin PATH is required");
	if (out.files.length === 0) out.files.push("mixed-fleet.test.mjs");
	return out;
}

const args = parseArgs(process.argv.slice(2));
const dir = mkdtempSync(join(tmpdir(), "portcullis-mixed-"));
const databaseUrl = args.databaseUrl ?? `sqlite://${join(dir, "db.sqlite")}?mode=rwc`;
const [pcPort, refPort] = [await freePort(), await freePort()];
const pcOrigin = `http://127.0.0.1:${pcPort}`;
const refOrigin = `http://127.0.0.1:${refPort}`;

// Every server started (including the first Better Auth, stopped mid-run), in start order.
const servers = [];

/** Starts one fleet member on its fixed port; both use Portcullis's origin as BETTER_AUTH_URL. */
async function launch(server, logName, port, env) {
	const srv = await startServer({
		server,
		bin: args.bin,
		databaseUrl,
		dir,
		port,
		env: { BETTER_AUTH_URL: pcOrigin, ...env },
		label: "run-mixed.mjs",
		logName,
	});
	servers.push(srv);
	await srv.ready();
	return srv;
}

function dumpLogs() {
	for (const srv of servers) srv.dumpLog();
}

async function stopAll() {
	for (const srv of [...servers].reverse()) await srv.shutdown();
}

for (const sig of ["SIGINT", "SIGTERM"]) {
	process.once(sig, async () => {
		await stopAll();
		if (!args.keep) rmSync(dir, { recursive: true, force: true });
		process.exit(130);
	});
}

let status = 1;
try {
	console.error(`run-mixed.mjs: database ${databaseUrl}; Better Auth on ${refOrigin}, Portcullis on ${pcOrigin}`);
	const startBetterAuth = (logName) =>
		launch("reference", logName, refPort, {
			OTP_STORE: "hashed",
			BETTER_AUTH_TRUSTED_ORIGINS: refOrigin,
			...(args.cookieCache ? { COOKIE_CACHE: "compact" } : {}),
		});
	const first = await startBetterAuth("better-auth.log");
	const pc = await launch("portcullis", "portcullis.log", pcPort, {
		PORTCULLIS_TRUSTED_ORIGINS: refOrigin,
		PORTCULLIS_DEV: "1",
		PORTCULLIS_PASSWORD_HASH: "scrypt",
		...(args.cookieCache ? { PORTCULLIS_COOKIE_CACHE: "on" } : {}),
	});
	// Restart Better Auth: its own migrations now run on the schema Portcullis adopted (what a
	// rollback or a Node redeploy does) and must start cleanly; the suite runs against this one.
	await first.shutdown();
	await startBetterAuth("better-auth-restarted.log");

	const testEnv = {
		...process.env,
		PORTCULLIS_URL: pcOrigin,
		REFERENCE_URL: refOrigin,
		ORIGIN: pcOrigin,
		PORTCULLIS_OTP_SOURCE: pc.otpSourceUrl,
		REFERENCE_OTP_SOURCE: `${refOrigin}/__test/otp`,
	};
	const tests = spawn(process.execPath, ["--test", "--test-concurrency=1", ...args.files], {
		cwd: here,
		env: testEnv,
		stdio: "inherit",
	});
	status = await new Promise((resolve) => tests.once("exit", (code, signal) => resolve(code ?? (signal ? 1 : 0))));
	if (status !== 0) dumpLogs();
} catch (err) {
	console.error(`run-mixed.mjs: ${err.message}`);
	dumpLogs();
	status = 1;
} finally {
	await stopAll();
	if (args.keep) console.error(`run-mixed.mjs: kept ${dir}`);
	else rmSync(dir, { recursive: true, force: true });
}
process.exit(status);
