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
import http from "node:http";
import { mkdtempSync, rmSync, openSync, readFileSync, closeSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
// Same secret as the test vectors in /work/shared/better-auth-protocol.md §13.
const SECRET = "test-secret-0123456789-abcdefghijklmnopqrstuvwxyz";

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

function freePort() {
	return new Promise((resolve, reject) => {
		const srv = net.createServer();
		srv.unref();
		srv.on("error", reject);
		srv.listen(0, "127.0.0.1", () => {
			const { port } = srv.address();
			srv.close(() => resolve(port));
		});
	});
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitReady(url, child, timeoutMs) {
	const deadline = Date.now() + timeoutMs;
	while (Date.now() < deadline) {
		if (child.exitCode !== null || child.signalCode !== null) {
			throw new Error(`server exited early (code ${child.exitCode}, signal ${child.signalCode})`);
		}
		try {
			const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
			await res.arrayBuffer();
			if (res.status === 200) return;
		} catch {
			// not listening yet
		}
		await sleep(150);
	}
	throw new Error(`server not ready after ${timeoutMs} ms (${url})`);
}

function stop(child) {
	return new Promise((resolve) => {
		if (child.exitCode !== null || child.signalCode !== null) return resolve();
		const timer = setTimeout(() => {
			try {
				process.kill(child.pid, "SIGKILL");
			} catch {}
		}, 5000);
		child.once("exit", () => {
			clearTimeout(timer);
			resolve();
		});
		try {
			process.kill(child.pid, "SIGTERM");
		} catch {
			clearTimeout(timer);
			resolve();
		}
	});
}

const args = parseArgs(process.argv.slice(2));
const dir = mkdtempSync(join(tmpdir(), "portcullis-js-"));
const port = await freePort();
const origin = `http://127.0.0.1:${port}`;
const databaseUrl = args.databaseUrl ?? `sqlite://${join(dir, "db.sqlite")}?mode=rwc`;
const logPath = join(dir, "server.log");
const logFd = openSync(logPath, "a");

/**
 * The OTP webhook receiver for Portcullis: POST <any path> with a JSON body records
 * {email, otp}; GET /__test/otp?email= answers the latest code for that email.
 */
function startOtpListener() {
	const latest = new Map();
	const server = http.createServer((req, res) => {
		const url = new URL(req.url ?? "/", "http://127.0.0.1");
		if (req.method === "GET" && url.pathname === "/__test/otp") {
			const email = (url.searchParams.get("email") ?? "").toLowerCase();
			const hit = latest.get(email);
			res.writeHead(hit ? 200 : 404, { "content-type": "application/json" });
			res.end(JSON.stringify({ email, otp: hit?.otp ?? null, count: hit?.count ?? 0 }));
			return;
		}
		if (req.method !== "POST") {
			res.writeHead(404).end();
			return;
		}
		const chunks = [];
		req.on("data", (c) => chunks.push(c));
		req.on("end", () => {
			try {
				const body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
				const email = String(body.email ?? "").toLowerCase();
				if (!email || typeof body.otp !== "string") throw new Error("missing email/otp");
				latest.set(email, { otp: body.otp, count: (latest.get(email)?.count ?? 0) + 1 });
				res.writeHead(200, { "content-type": "application/json" }).end('{"ok":true}');
			} catch (err) {
				console.error(`run.mjs: bad OTP webhook call: ${err.message}`);
				res.writeHead(400, { "content-type": "application/json" }).end('{"ok":false}');
			}
		});
	});
	return new Promise((resolve, reject) => {
		server.once("error", reject);
		server.listen(0, "127.0.0.1", () => resolve(server));
	});
}

const otpListener = args.server === "portcullis" ? await startOtpListener() : null;
const otpBase = otpListener ? `http://127.0.0.1:${otpListener.address().port}` : null;
const otpSourceUrl = otpBase ? `${otpBase}/__test/otp` : `${origin}/__test/otp`;

const serverEnv = {
	...process.env,
	BETTER_AUTH_SECRET: SECRET,
	BETTER_AUTH_URL: origin,
	DATABASE_URL: databaseUrl,
	PORT: String(port),
	PORTCULLIS_LISTEN: `127.0.0.1:${port}`,
	// Origin checks stay on (NODE_ENV=test would disable them in Better Auth).
	NODE_ENV: "development",
};
delete serverEnv.TEST;
if (otpBase) serverEnv.PORTCULLIS_OTP_WEBHOOK_URL = `${otpBase}/otp`;
if (args.plugins !== null) {
	serverEnv.PLUGINS = args.plugins;
	serverEnv.PORTCULLIS_PLUGINS = args.plugins;
}

const [cmd, cmdArgs] =
	args.server === "reference"
		? [process.execPath, [join(here, "reference-server.mjs")]]
		: [args.bin.includes("/") ? resolve(args.bin) : args.bin, []];

console.error(`run.mjs: starting ${args.server} on ${origin} (db ${databaseUrl}, log ${logPath})`);
const child = spawn(cmd, cmdArgs, { cwd: here, env: serverEnv, stdio: ["ignore", logFd, logFd] });
closeSync(logFd);
const spawnError = new Promise((_, reject) => child.once("error", reject));

for (const sig of ["SIGINT", "SIGTERM"]) {
	process.once(sig, async () => {
		await stop(child);
		otpListener?.close();
		if (!args.keep) rmSync(dir, { recursive: true, force: true });
		process.exit(130);
	});
}

function dumpLog() {
	try {
		const text = readFileSync(logPath, "utf8");
		if (text.trim()) console.error(`----- server log (${logPath}) -----\n${text}----- end server log -----`);
	} catch {}
}

let status = 1;
try {
	await Promise.race([waitReady(`${origin}/api/auth/ok`, child, 60_000), spawnError]);
	const testEnv = { ...process.env, PORTCULLIS_URL: origin, OTP_SOURCE_URL: otpSourceUrl };
	if (args.plugins !== null) testEnv.PLUGINS = args.plugins;
	const tests = spawn(process.execPath, ["--test", ...args.files], { cwd: here, env: testEnv, stdio: "inherit" });
	status = await new Promise((resolve) => tests.once("exit", (code, signal) => resolve(code ?? (signal ? 1 : 0))));
	if (status !== 0) dumpLog();
} catch (err) {
	console.error(`run.mjs: ${err.message}`);
	dumpLog();
	status = 1;
} finally {
	await stop(child);
	otpListener?.close();
	if (args.keep) console.error(`run.mjs: kept ${dir}`);
	else rmSync(dir, { recursive: true, force: true });
}
process.exit(status);
