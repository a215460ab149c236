// Starting and stopping the servers the JS suites talk to: the reference Better Auth server
// (reference-server.mjs) or the portcullis binary, on a free 127.0.0.1 port, with the test
// secret, BETTER_AUTH_URL = its own origin and NODE_ENV=development (origin checks on).
// Used by run.mjs (one server, then node:test), run-mixed.mjs (both on one database) and
// side-by-side.mjs (both, same client scenario).
//
// 2FA OTPs: the reference server serves GET /__test/otp?email=… itself; for Portcullis a
// listener on another 127.0.0.1 port receives the server's OTP webhook
// (PORTCULLIS_OTP_WEBHOOK_URL, POSTed JSON {"email","userId","otp",…}) and answers
// GET /__test/otp?email= with {"email","otp","count"} (latest code, deliveries so far).
// `otpSourceUrl` is the right one for the server started.

import { spawn } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
// Same secret as the test vectors in the shared protocol notes (better-auth-protocol.md) §13.
export const SECRET = "test-secret-0123456789-abcdefghijklmnopqrstuvwxyz";

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function freePort() {
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

export async function waitReady(url, child, timeoutMs) {
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

/** SIGTERM by PID, SIGKILL after 5 s. */
export function stop(child) {
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

/**
 * The OTP webhook receiver for Portcullis: POST <any path> with a JSON body records
 * {email, otp}; GET /__test/otp?email= answers the latest code for that email.
 */
export function startOtpListener(label = "servers.mjs") {
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
				console.error(`${label}: bad OTP webhook call: ${err.message}`);
				res.writeHead(400, { "content-type": "application/json" }).end('{"ok":false}');
			}
		});
	});
	return new Promise((resolve, reject) => {
		server.once("error", reject);
		server.listen(0, "127.0.0.1", () => resolve(server));
	});
}

/**
 * Spawns one server. opts: server ("reference" | "portcullis"), bin (portcullis), databaseUrl,
 * dir (temp dir for the log), plugins (comma-separated or null for the default), env (extra
 * variables, applied last), label (log prefix), logName (file in dir, default "<server>.log"),
 * port (default: a free one). Returns {origin, child, otpSourceUrl, logPath, ready(), shutdown(),
 * dumpLog()}; `ready()` resolves once GET /api/auth/ok answers.
 */
export async function startServer({
	server,
	bin,
	databaseUrl,
	dir,
	plugins = null,
	env = {},
	label = "servers.mjs",
	logName = `${server}.log`,
	port = null,
}) {
	port ??= await freePort();
	const origin = `http://127.0.0.1:${port}`;
	const logPath = join(dir, logName);
	const otpListener = server === "portcullis" ? await startOtpListener(label) : null;
	const otpBase = otpListener ? `http://127.0.0.1:${otpListener.address().port}` : null;
	const serverEnv = {
		...process.env,
		BETTER_AUTH_SECRET: SECRET,
		BETTER_AUTH_URL: origin,
		DATABASE_URL: databaseUrl,
		PORT: String(port),
		PORTCULLIS_LISTEN: `127.0.0.1:${port}`,
		// Origin checks stay on (NODE_ENV=test would disable them in Better Auth).
		NODE_ENV: "development",
		// Portcullis runs in production mode here, where rate limiting is on by default; Better
		// Auth under NODE_ENV=development has it off. The suites sign in far more often than 3
		// times per 10 s, so it is off for both (tests/rate_limit.rs covers it).
		PORTCULLIS_RATE_LIMIT: "off",
	};
	delete serverEnv.TEST;
	if (otpBase) serverEnv.PORTCULLIS_OTP_WEBHOOK_URL = `${otpBase}/otp`;
	if (plugins !== null) {
		serverEnv.PLUGINS = plugins;
		serverEnv.PORTCULLIS_PLUGINS = plugins;
	}
	Object.assign(serverEnv, env);
	const [cmd, cmdArgs] =
		server === "reference"
			? [process.execPath, [join(here, "reference-server.mjs")]]
			: [bin.includes("/") ? resolve(bin) : bin, []];
	console.error(`${label}: starting ${server} on ${origin} (db ${databaseUrl}, log ${logPath})`);
	const logFd = openSync(logPath, "a");
	const child = spawn(cmd, cmdArgs, { cwd: here, env: serverEnv, stdio: ["ignore", logFd, logFd] });
	closeSync(logFd);
	const spawnError = new Promise((_, reject) => child.once("error", reject));
	spawnError.catch(() => {});
	return {
		origin,
		child,
		logPath,
		otpSourceUrl: otpBase ? `${otpBase}/__test/otp` : `${origin}/__test/otp`,
		ready: () => Promise.race([waitReady(`${origin}/api/auth/ok`, child, 60_000), spawnError]),
		async shutdown() {
			await stop(child);
			otpListener?.close();
		},
		dumpLog() {
			try {
				const text = readFileSync(logPath, "utf8");
				if (text.trim()) console.error(`----- server log (${logPath}) -----\n${text}----- end server log -----`);
			} catch {}
		},
	};
}
