#!/usr/bin/env node
// Mixed fleet: the real Better Auth 1.7.25 (reference-server.mjs) and the Portcullis binary
// serving ONE database at the same time with the same secret, as during a rolling switch.
// Starts Better Auth first (its own migrations create the tables), then Portcullis (its
// migrations adopt them), then restarts Better Auth (its migrations must accept Portcullis's
// additions, as on a rollback), runs `node --test mixed-fleet.test.mjs`, stops both by PID and
// exits with the test status.
//
// Usage:
//   node run-mixed.mjs --bin PATH [--database-url URL] [--keep] [test files…]
//
// --database-url: sqlite://<file> (the default: a fresh file in a temp dir, opened by both
// processes), postgres://… or mysql://… (an existing, empty database; scripts/test creates and
// drops one). --keep keeps the temp dir (database + both logs). The logs are printed when
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
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const SECRET = "test-secret-0123456789-abcdefghijklmnopqrstuvwxyz";

function usage(msg) {
	if (msg) console.error(`run-mixed.mjs: ${msg}`);
	console.error("usage: node run-mixed.mjs --bin PATH [--database-url URL] [--keep] [test files…]");
	process.exit(2);
}

function parseArgs(argv) {
	const out = { bin: null, databaseUrl: null, keep: false, files: [] };
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
		else if (a === "-h" || a === "--help") usage();
		else if (a.startsWith("--")) usage(`unknown option ${a}`);
		else out.files.push(a);
	}
	if (!out.bin) usage("--bin PATH is required");
	if (out.files.length === 0) out.files.push("mixed-fleet.test.mjs");
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
		if (!child || child.exitCode !== null || child.signalCode !== null) return resolve();
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

/** Receives Portcullis's OTP webhook; GET /__test/otp?email= answers {email, otp, count}. */
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
				console.error(`run-mixed.mjs: bad OTP webhook call: ${err.message}`);
				res.writeHead(400, { "content-type": "application/json" }).end('{"ok":false}');
			}
		});
	});
	return new Promise((resolve, reject) => {
		server.once("error", reject);
		server.listen(0, "127.0.0.1", () => resolve(server));
	});
}

const args = parseArgs(process.argv.slice(2));
const dir = mkdtempSync(join(tmpdir(), "portcullis-mixed-"));
const databaseUrl = args.databaseUrl ?? `sqlite://${join(dir, "db.sqlite")}?mode=rwc`;
const [pcPort, refPort] = [await freePort(), await freePort()];
const pcOrigin = `http://127.0.0.1:${pcPort}`;
const refOrigin = `http://127.0.0.1:${refPort}`;
const otpListener = await startOtpListener();
const otpBase = `http://127.0.0.1:${otpListener.address().port}`;

const common = {
	...process.env,
	BETTER_AUTH_SECRET: SECRET,
	BETTER_AUTH_URL: pcOrigin,
	DATABASE_URL: databaseUrl,
	NODE_ENV: "development",
};
delete common.TEST;
const children = [];
const logs = [];

function launch(name, cmd, cmdArgs, env) {
	const logPath = join(dir, `${name}.log`);
	const fd = openSync(logPath, "a");
	const child = spawn(cmd, cmdArgs, { cwd: here, env, stdio: ["ignore", fd, fd] });
	closeSync(fd);
	children.push(child);
	logs.push([name, logPath]);
	const spawnError = new Promise((_, reject) => child.once("error", reject));
	return { child, spawnError };
}

function dumpLogs() {
	for (const [name, path] of logs) {
		try {
			const text = readFileSync(path, "utf8");
			if (text.trim()) console.error(`----- ${name} log (${path}) -----\n${text}----- end ${name} log -----`);
		} catch {}
	}
}

async function stopAll() {
	for (const c of [...children].reverse()) await stop(c);
	otpListener.close();
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
	const startBetterAuth = async (name) => {
		const ref = launch(name, process.execPath, [join(here, "reference-server.mjs")], {
			...common,
			PORT: String(refPort),
			OTP_STORE: "hashed",
			BETTER_AUTH_TRUSTED_ORIGINS: refOrigin,
		});
		await Promise.race([waitReady(`${refOrigin}/api/auth/ok`, ref.child, 60_000), ref.spawnError]);
		return ref;
	};
	const first = await startBetterAuth("better-auth");
	const bin = args.bin.includes("/") ? resolve(args.bin) : args.bin;
	const pc = launch("portcullis", bin, [], {
		...common,
		PORTCULLIS_LISTEN: `127.0.0.1:${pcPort}`,
		PORTCULLIS_TRUSTED_ORIGINS: refOrigin,
		PORTCULLIS_DEV: "1",
		PORTCULLIS_PASSWORD_HASH: "scrypt",
		PORTCULLIS_OTP_WEBHOOK_URL: `${otpBase}/otp`,
	});
	await Promise.race([waitReady(`${pcOrigin}/api/auth/ok`, pc.child, 60_000), pc.spawnError]);
	// Restart Better Auth: its own migrations now run on the schema Portcullis adopted (what a
	// rollback or a Node redeploy does) and must start cleanly; the suite runs against this one.
	await stop(first.child);
	children.splice(children.indexOf(first.child), 1);
	await startBetterAuth("better-auth-restarted");

	const testEnv = {
		...process.env,
		PORTCULLIS_URL: pcOrigin,
		REFERENCE_URL: refOrigin,
		ORIGIN: pcOrigin,
		PORTCULLIS_OTP_SOURCE: `${otpBase}/__test/otp`,
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
