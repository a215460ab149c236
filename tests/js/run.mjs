#!/usr/bin/env node
// Starts a server (the reference Better Auth server or the portcullis binary) on a
// free 127.0.0.1 port with a fresh sqlite database in a temp dir, waits for
// GET /api/auth/ok, runs the node:test suite against it with PORTCULLIS_URL set,
// stops the server by PID and exits with the suite's status.
//
// Usage:
//   node run.mjs --server reference [--database-url URL] [--keep] [test files…]
//   node run.mjs --server portcullis --bin PATH [--database-url URL] [--keep] [test files…]
//
// --plugins LIST (comma-separated, e.g. two-factor,username) enables those plugins on either
// server (PLUGINS for the reference, PORTCULLIS_PLUGINS for Portcullis; both default to
// two-factor) and is passed to the tests as PLUGINS.
//
// Default test file: core.test.mjs. --database-url replaces the temp sqlite file
// (e.g. postgres://postgres@127.0.0.1:5432/test). --keep keeps the temp dir
// (database + server.log). The server log is printed when something fails.
//
// 2FA OTPs reach the tests through OTP_SOURCE_URL (GET ?email=… → {"email","otp",…}):
// the reference server serves GET /__test/otp itself; for Portcullis the runner starts a
// listener on another 127.0.0.1 port that receives the server's OTP webhook
// (PORTCULLIS_OTP_WEBHOOK_URL, POSTed JSON {"email","userId","otp",…}) and answers
// GET /__test/otp?email= with {"email","otp","count"} (latest code, deliveries so far).

import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

// Starting/stopping the server and the OTP webhook listener: servers.mjs (shared with
// side-by-side.mjs).
import { startServer } from "./servers.mjs";

const here = dirname(fileURLToPath(import.meta.url));

function usage(msg) {
	if (msg) console.error(`run.mjs: ${msg}`);
	console.error(
		"usage: node run.mjs --server reference|portcullis [--bin PATH] [--database-url URL] [--plugins LIST] [--keep] [test files…]",
	);
	process.exit(2);
}

function parseArgs(argv) {
	const out = { server: null, bin: null, databaseUrl: null, plugins: null, keep: false, files: [] };
	for (let i = 0; i < argv.length; i++) {
		const a = argv[i];
		const value = () => {
			const [flag, inline] = a.split(/=(.*)/s, 2);
			if (inline !== undefined) return inline;
			if (i + 1 >= argv.length) usage(`${flag} needs a value`);
			return argv[++i];
		};
		if (a === "--server" || a.startsWith("--server=")) out.server = value();
		else if (a === "--bin" || a.startsWith("--bin=")) out.bin = value();
		else if (a === "--database-url" || a.startsWith("--database-url=")) out.databaseUrl = value();
		else if (a === "--plugins" || a.startsWith("--plugins=")) out.plugins = value();
		else if (a === "--keep") out.keep = true;
		else if (a === "-h" || a === "--help") usage();
		else if (a.startsWith("--")) usage(`unknown option ${a}`);
		else out.files.push(a);
	}
	if (out.server !== "reference" && out.server !== "portcullis") usage("--server must be reference or portcullis");
	if (out.server === "portcullis" && !out.bin) usage("--server portcullis needs --bin PATH");
	if (out.files.length === 0) out.files.push("core.test.mjs");
	return out;
}

const args = parseArgs(process.argv.slice(2));
const dir = mkdtempSync(join(tmpdir(), "portcullis-js-"));
const databaseUrl = args.databaseUrl ?? `sqlite://${join(dir, "db.sqlite")}?mode=rwc`;
const srv = await startServer({
	server: args.server,
	bin: args.bin,
	databaseUrl,
	dir,
	plugins: args.plugins,
	label: "run.mjs",
	logName: "server.log",
});

for (const sig of ["SIGINT", "SIGTERM"]) {
	process.once(sig, async () => {
		await srv.shutdown();
		if (!args.keep) rmSync(dir, { recursive: true, force: true });
		process.exit(130);
	});
}

const dumpLog = () => srv.dumpLog();

let status = 1;
try {
	await srv.ready();
	const testEnv = { ...process.env, PORTCULLIS_URL: srv.origin, OTP_SOURCE_URL: srv.otpSourceUrl };
	if (args.plugins !== null) testEnv.PLUGINS = args.plugins;
	const tests = spawn(process.execPath, ["--test", ...args.files], { cwd: here, env: testEnv, stdio: "inherit" });
	status = await new Promise((resolve) => tests.once("exit", (code, signal) => resolve(code ?? (signal ? 1 : 0))));
	if (status !== 0) dumpLog();
} catch (err) {
	console.error(`run.mjs: ${err.message}`);
	dumpLog();
	status = 1;
} finally {
	await srv.shutdown();
	if (args.keep) console.error(`run.mjs: kept ${dir}`);
	else rmSync(dir, { recursive: true, force: true });
}
process.exit(status);
