#!/usr/bin/env node
// Portcullis vs the real Better Auth 1.7.25: throughput, latency, memory, start-up.
// Run through bench/run (which builds the release binary, installs wrk and tests/js's
// node_modules first); README.md in this folder explains the workloads and the seeding.
//
// Settings (environment):
//   BENCH_DURATION     seconds per measured wrk run (15)
//   BENCH_RUNS         measured runs per workload and server; medians are reported (3)
//   BENCH_WARMUP       seconds of unmeasured load before each workload's runs, 0 = none (3)
//   BENCH_THREADS      wrk threads (2)          BENCH_CONNECTIONS  wrk connections (16)
//   BENCH_USERS        users signed up over HTTP per server, for get-session and sign-in (32)
//   BENCH_TOTP_POOL_PORTCULLIS / BENCH_TOTP_POOL_NODE
//                      pending two-factor challenges seeded per verify-totp run
//                      (default: BENCH_DURATION × 10000, resp. × 3000, at least 20000 / 5000)
//   BENCH_ONLY         comma-separated subset of: ok,get-session,get-session-cached,verify-totp,sign-in,
//                      sqlite,startup,hashing
//   BENCH_SERVERS      node,portcullis (either alone for a quick look; the table shows — for the other)
//   BENCH_ADMIN_URL    PostgreSQL admin URL (postgres://postgres@127.0.0.1:5432/postgres)
//   BENCH_BIN          the portcullis binary (target/release/portcullis)
//   BENCH_KEEP         1 = keep the temp dir (server logs, wrk output, seed files) after success
//   BENCH_OUT          where the markdown goes (bench/results/latest.md)

import { spawn, execFileSync } from "node:child_process";
import { createHmac, randomBytes, scryptSync } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import { createRequire } from "node:module";
import os from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { SECRET, freePort, sleep, startServer, stop } from "../tests/js/servers.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "..");
const jsDir = join(root, "tests/js");
// The packages live in tests/js/node_modules; resolve them from there.
const requireJs = createRequire(join(jsDir, "package.json"));
const load = (spec) => import(pathToFileURL(requireJs.resolve(spec)).href);
const { default: pg } = await load("pg");
const { symmetricEncrypt } = await load("better-auth/crypto");
const { createOTP } = await load("@better-auth/utils/otp");

const int = (name, dflt) => {
	const v = process.env[name];
	if (v === undefined || v === "") return dflt;
	const n = Number(v);
	if (!Number.isFinite(n) || n < 0) throw new Error(`${name}=${v} is not a non-negative number`);
	return n;
};
const DURATION = int("BENCH_DURATION", 15);
const RUNS = Math.max(1, int("BENCH_RUNS", 3));
const WARMUP = int("BENCH_WARMUP", 3);
const THREADS = Math.max(1, int("BENCH_THREADS", 2));
const CONNECTIONS = Math.max(THREADS, int("BENCH_CONNECTIONS", 16));
const USERS = Math.max(1, int("BENCH_USERS", 32));
const POOL = {
	portcullis: int("BENCH_TOTP_POOL_PORTCULLIS", Math.max(20_000, DURATION * 10_000)),
	node: int("BENCH_TOTP_POOL_NODE", Math.max(5_000, DURATION * 3_000)),
};
const ALL = ["ok", "get-session", "get-session-cached", "verify-totp", "sign-in", "sqlite", "startup", "hashing"];
const ONLY = new Set(
	(process.env.BENCH_ONLY || ALL.join(","))
		.split(",")
		.map((s) => s.trim())
		.filter(Boolean),
);
for (const o of ONLY) if (!ALL.includes(o)) throw new Error(`BENCH_ONLY: unknown ${o} (known: ${ALL.join(",")})`);
const ADMIN_URL = process.env.BENCH_ADMIN_URL || "postgres://postgres@127.0.0.1:5432/postgres";
const BIN = resolve(root, process.env.BENCH_BIN || "target/release/portcullis");
const OUT = resolve(root, process.env.BENCH_OUT || "bench/results/latest.md");
const LUA = join(here, "wrk.lua");
const PASSWORD = "bench-password-0123456789";
const SERVERS = (process.env.BENCH_SERVERS || "node,portcullis").split(",").map((s) => s.trim()).filter(Boolean);
for (const k of SERVERS) if (k !== "node" && k !== "portcullis") throw new Error(`BENCH_SERVERS: unknown ${k} (node, portcullis)`);
if (!SERVERS.includes("portcullis")) ONLY.delete("sqlite"), ONLY.delete("startup");
const LABEL = { node: "Better Auth (Node)", portcullis: "Portcullis" };

const log = (...a) => console.error("bench:", ...a);

// ---------------------------------------------------------------------------------------------
// Clean-up: every process we start and every database we create is recorded here and released
// by PID / by name on exit, on error and on Ctrl-C.

const handles = new Set(); // startServer() results
const children = new Set(); // other ChildProcess objects (wrk, start-up probes)
const databases = new Set();
const tmp = mkdtempSync(join(os.tmpdir(), "portcullis-bench-"));
let cleaning = null;
let interrupted = false;

function cleanup() {
	cleaning ??= (async () => {
		for (const c of children) {
			try {
				if (c.exitCode === null && c.signalCode === null) process.kill(c.pid, "SIGKILL");
			} catch {}
		}
		await Promise.all([...handles].map((h) => h.shutdown().catch(() => {})));
		await Promise.all([...children].map((c) => stop(c)));
		if (databases.size) {
			const admin = new pg.Client({ connectionString: ADMIN_URL });
			try {
				await admin.connect();
				for (const db of databases) await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
			} catch (e) {
				log(`could not drop ${[...databases].join(", ")}: ${e.message}`);
			} finally {
				await admin.end().catch(() => {});
			}
		}
	})();
	return cleaning;
}
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) {
	process.on(sig, () => {
		interrupted = true;
		log(`${sig}: stopping servers, dropping databases (logs kept in ${tmp})`);
		cleanup().finally(() => process.exit(130));
	});
}

// ---------------------------------------------------------------------------------------------
// Small helpers.

const median = (xs) => {
	const s = [...xs].sort((a, b) => a - b);
	const m = s.length >> 1;
	return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

function sh(cmd, args) {
	try {
		return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
	} catch {
		return "?";
	}
}

/** Better Auth's signed cookie value: `<value>.<base64 HMAC-SHA256(secret, value)>`, URI-encoded
 * (better-call: dist/crypto.mjs signCookieValue; Better Auth signs with ctx.context.secret). */
const signCookie = (value) =>
	encodeURIComponent(`${value}.${createHmac("sha256", SECRET).update(value).digest("base64")}`);

function rssKb(pid) {
	try {
		const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
		return m ? Number(m[1]) : 0;
	} catch {
		return 0;
	}
}

/** Samples VmRSS of one PID every 200 ms until the returned function is called; returns max kB. */
function sampleRss(pid) {
	let max = rssKb(pid);
	const timer = setInterval(() => {
		max = Math.max(max, rssKb(pid));
	}, 200);
	return () => {
		clearInterval(timer);
		return Math.max(max, rssKb(pid));
	};
}

async function call(origin, path, { method = "GET", cookie, body } = {}) {
	const headers = { origin };
	if (cookie) headers.cookie = cookie;
	if (body !== undefined) headers["content-type"] = "application/json";
	const res = await fetch(`${origin}/api/auth${path}`, {
		method,
		headers,
		body: body === undefined ? undefined : JSON.stringify(body),
		redirect: "manual",
	});
	const text = await res.text();
	let json = null;
	try {
		json = JSON.parse(text);
	} catch {}
	return { status: res.status, json, text, setCookies: res.headers.getSetCookie() };
}

const cookieNamed = (setCookies, name) =>
	setCookies.map((c) => c.split(";")[0]).find((c) => c.startsWith(`${name}=`) && c.length > name.length + 1);

// ---------------------------------------------------------------------------------------------
// Servers and databases.

async function createDb(name) {
	const admin = new pg.Client({ connectionString: ADMIN_URL });
	await admin.connect();
	try {
		await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
		await admin.query(`CREATE DATABASE ${name}`);
		databases.add(name);
	} finally {
		await admin.end();
	}
	const u = new URL(ADMIN_URL);
	u.pathname = `/${name}`;
	// Plain TCP for both: node-postgres does not use TLS unless asked, while sqlx (Portcullis)
	// defaults to sslmode=prefer and encrypts every query when the server offers TLS (Debian's
	// PostgreSQL does). Over loopback TLS only costs CPU, so both run without it.
	if (!u.searchParams.has("sslmode")) u.searchParams.set("sslmode", "disable");
	return u.toString();
}

const serverEnv = {
	// Rate limiting off on both sides: Better Auth enables it only when NODE_ENV=production
	// (better-auth: dist/api/rate-limiter/index.mjs), and reference-server.mjs pins development.
	PORTCULLIS_RATE_LIMIT: "off",
	PLUGINS: "two-factor",
	PORTCULLIS_PLUGINS: "two-factor",
};

// The cookie cache, on in both servers for the get-session-cached workload (Better Auth's
// session.cookieCache with strategy compact; PORTCULLIS_COOKIE_CACHE). An hour's maxAge so no
// cached cookie expires during the runs (wrk does not store the cookies it is sent).
const cacheEnv = {
	COOKIE_CACHE: "compact",
	COOKIE_CACHE_MAX_AGE: "3600",
	PORTCULLIS_COOKIE_CACHE: "on",
	PORTCULLIS_COOKIE_CACHE_MAX_AGE: "3600",
};

async function launch(kind, databaseUrl, phase, extraEnv = {}) {
	const h = await startServer({
		server: kind === "node" ? "reference" : "portcullis",
		bin: BIN,
		databaseUrl,
		dir: tmp,
		env: { ...serverEnv, ...extraEnv },
		label: "bench",
		logName: `${kind}-${databaseUrl.startsWith("sqlite") ? "sqlite" : "pg"}-${phase}.log`,
	});
	handles.add(h);
	try {
		await h.ready();
	} catch (e) {
		h.dumpLog();
		throw e;
	}
	return h;
}

async function shutdown(h) {
	await h.shutdown();
	handles.delete(h);
}

// ---------------------------------------------------------------------------------------------
// Seeding.

/** Signs up USERS users over HTTP (each server hashes with its own algorithm) and writes the
 * get-session cookie file and the sign-in body file. */
async function seedUsers(kind, h) {
	const cookies = [];
	const bodies = [];
	const emails = [];
	let next = 0;
	const worker = async () => {
		while (next < USERS) {
			const i = next++;
			const email = `bench-${i}@bench.test`;
			const r = await call(h.origin, "/sign-up/email", {
				method: "POST",
				body: { name: `Bench ${i}`, email, password: PASSWORD },
			});
			const cookie = cookieNamed(r.setCookies, "better-auth.session_token");
			if (r.status !== 200 || !cookie) {
				throw new Error(`${kind}: sign-up ${email} answered ${r.status} ${r.text.slice(0, 300)}`);
			}
			cookies[i] = cookie;
			bodies[i] = JSON.stringify({ email, password: PASSWORD });
			emails[i] = email;
		}
	};
	await Promise.all([worker(), worker(), worker(), worker()]);
	const tag = `${kind}-${h.origin.split(":").pop()}`;
	const cookieFile = join(tmp, `${tag}-sessions.txt`);
	const bodyFile = join(tmp, `${tag}-sign-in.txt`);
	writeFileSync(cookieFile, `${cookies.join("\n")}\n`);
	writeFileSync(bodyFile, `${bodies.join("\n")}\n`);
	return { cookieFile, bodyFile, cookies, emails };
}

// Every seeded two-factor user shares one TOTP secret, stored as Better Auth stores it: a
// symmetricEncrypt() envelope keyed by the server secret (better-auth: dist/plugins/two-factor/
// index.mjs enable; dist/crypto/index.mjs). One code per 30 s step is then valid for all of them.
const TOTP_SECRET = randomBytes(24).toString("base64url").slice(0, 32);
const ENC_SECRET = await symmetricEncrypt({ key: SECRET, data: TOTP_SECRET });
const ENC_BACKUP = await symmetricEncrypt({ key: SECRET, data: "[]" });
const totp = createOTP(TOTP_SECRET, { period: 30, digits: 6 });
const stepNow = () => Math.floor(Date.now() / 30_000);

/** Codes for the current step and the next ones, enough to cover a run of `seconds`. */
async function writeCodes(seconds) {
	const s = stepNow();
	const lines = [];
	for (let k = -1; k <= Math.ceil(seconds / 30) + 2; k++) lines.push(`${s + k} ${await totp.hotp(s + k)}`);
	const file = join(tmp, `codes-${s}.txt`);
	writeFileSync(file, `${lines.join("\n")}\n`);
	return file;
}

/**
 * `count` users with TOTP enabled, each with one pending sign-in challenge exactly as the
 * two-factor after-hook leaves it (better-auth: dist/plugins/two-factor/index.mjs, hooks.after):
 * verification rows `2fa-<20 chars>` → userId and `2fa-attempts-2fa-<…>` → "0", plus the signed
 * `better-auth.two_factor` cookie carrying the identifier. Earlier seeded users and challenges
 * go first (ON DELETE CASCADE takes their twoFactor rows and the sessions verify-totp made).
 * Returns the cookie file (one `better-auth.two_factor=…` per line) and the cookies.
 */
async function seedChallenges(databaseUrl, tag, count) {
	const client = new pg.Client({ connectionString: databaseUrl });
	await client.connect();
	try {
		await client.query(`DELETE FROM verification WHERE identifier LIKE '2fa-%'`);
		await client.query(`DELETE FROM "user" WHERE id LIKE 'bt-%'`);
		const p = `bt-${tag}-`;
		// identifier: 2fa- + 20 characters (Better Auth: generateRandomString(20)).
		const ident = `'2fa-' || lpad($1::text || g, 20, 'x')`;
		await client.query("BEGIN");
		await client.query(
			`INSERT INTO "user" (id, name, email, "emailVerified", "createdAt", "updatedAt", "twoFactorEnabled")
			 SELECT $1::text || g, 'Bench ' || g, $1::text || g || '@bench.test', true, now(), now(), true
			 FROM generate_series(1, $2::int) g`,
			[p, count],
		);
		await client.query(
			`INSERT INTO "twoFactor" (id, secret, "backupCodes", "userId", verified, "failedVerificationCount")
			 SELECT 'tf' || $1::text || g, $3, $4, $1::text || g, true, 0 FROM generate_series(1, $2::int) g`,
			[p, count, ENC_SECRET, ENC_BACKUP],
		);
		await client.query(
			`INSERT INTO verification (id, identifier, value, "expiresAt", "createdAt", "updatedAt")
			 SELECT 'v' || $1::text || g, ${ident}, $1::text || g, now() + interval '1 hour', now(), now()
			 FROM generate_series(1, $2::int) g
			 UNION ALL
			 SELECT 'va' || $1::text || g, '2fa-attempts-' || ${ident}, '0', now() + interval '1 hour', now(), now()
			 FROM generate_series(1, $2::int) g`,
			[p, count],
		);
		await client.query("COMMIT");
		// Fresh statistics, and the dead rows of the previous run gone, so autovacuum has no
		// reason to wake up during the measured run.
		await client.query(`VACUUM ANALYZE "user", "twoFactor", verification, session`);
	} catch (e) {
		await client.query("ROLLBACK").catch(() => {});
		throw e;
	} finally {
		await client.end();
	}
	const cookies = new Array(count);
	const p = `bt-${tag}-`;
	for (let g = 1; g <= count; g++) {
		const identifier = `2fa-${`${p}${g}`.padStart(20, "x")}`;
		cookies[g - 1] = `better-auth.two_factor=${signCookie(identifier)}`;
	}
	const file = join(tmp, `challenges-${tag}.txt`);
	writeFileSync(file, `${cookies.join("\n")}\n`);
	return { file, cookies };
}

// ---------------------------------------------------------------------------------------------
// Checks that the seeded data is accepted, before anything is measured.

/** Each seeded session cookie plus the session_data cookie `h` issues for it on a first
 * get-session (from the database), as a browser would send them next; checks that the next
 * request is answered from the cache alone. */
async function cacheCookies(kind, h, users) {
	const lines = [];
	for (const cookie of users.cookies) {
		const r = await call(h.origin, "/get-session", { cookie });
		const data = cookieNamed(r.setCookies, "better-auth.session_data");
		if (r.status !== 200 || !data) throw new Error(`${kind}: get-session issued no session_data (${r.status} ${r.text.slice(0, 200)})`);
		lines.push(`${cookie}; ${data}`);
	}
	const again = await call(h.origin, "/get-session", { cookie: lines[0] });
	if (again.status !== 200 || again.setCookies.length) {
		throw new Error(`${kind}: a cached get-session answered ${again.status} with Set-Cookie ${again.setCookies}`);
	}
	const file = join(tmp, `${kind}-cached-sessions.txt`);
	writeFileSync(file, `${lines.join("\n")}\n`);
	return file;
}

async function checkSession(kind, h, users) {
	const r = await call(h.origin, "/get-session", { cookie: users.cookies[0] });
	if (r.status !== 200 || r.json?.user?.email !== users.emails[0]) {
		throw new Error(`${kind}: get-session with a seeded cookie answered ${r.status} ${r.text.slice(0, 300)}`);
	}
}

async function checkSignIn(kind, h) {
	const r = await call(h.origin, "/sign-in/email", {
		method: "POST",
		body: { email: "bench-0@bench.test", password: PASSWORD },
	});
	if (r.status !== 200 || !r.json?.token) {
		throw new Error(`${kind}: sign-in answered ${r.status} ${r.text.slice(0, 300)}`);
	}
}

async function checkTotp(kind, h, databaseUrl) {
	const { cookies } = await seedChallenges(databaseUrl, "check", 1);
	const code = await totp.hotp(stepNow());
	const r = await call(h.origin, "/two-factor/verify-totp", { method: "POST", cookie: cookies[0], body: { code } });
	const session = cookieNamed(r.setCookies, "better-auth.session_token");
	if (r.status !== 200 || !session || !r.json?.user?.id) {
		throw new Error(`${kind}: verify-totp with a seeded challenge answered ${r.status} ${r.text.slice(0, 300)}`);
	}
	const again = await call(h.origin, "/get-session", { cookie: session });
	if (again.status !== 200 || again.json?.user?.id !== r.json.user.id) {
		throw new Error(`${kind}: the session verify-totp issued does not work (${again.status} ${again.text.slice(0, 200)})`);
	}
}

// ---------------------------------------------------------------------------------------------
// wrk.

function wrk({ url, origin, mode, data, codes, seconds, pid, logName }) {
	const args = ["-t", String(THREADS), "-c", String(CONNECTIONS), "-d", `${seconds}s`, "--timeout", "10s"];
	args.push("--latency", "-s", LUA, url, "--", mode, origin);
	if (data) args.push(data);
	if (codes) args.push(codes);
	return new Promise((resolveRun, reject) => {
		const child = spawn("wrk", args, {
			env: { ...process.env, BENCH_WRK_THREADS: String(THREADS) },
			stdio: ["ignore", "pipe", "pipe"],
		});
		children.add(child);
		const stopRss = pid ? sampleRss(pid) : null;
		let out = "";
		child.stdout.on("data", (d) => (out += d));
		child.stderr.on("data", (d) => (out += d));
		child.once("error", reject);
		child.once("exit", (code) => {
			children.delete(child);
			const rss = stopRss?.();
			writeFileSync(join(tmp, logName), out);
			const line = out.split("\n").find((l) => l.startsWith("BENCH_JSON "));
			if (code !== 0 || !line) {
				reject(new Error(`wrk exited ${code}:\n${out}`));
				return;
			}
			const j = JSON.parse(line.slice("BENCH_JSON ".length));
			resolveRun({
				...j,
				rps: j.requests / (j.duration_us / 1e6),
				errors: j.non2xx + j.connect + j.read + j.write + j.timeout,
				rssKb: rss,
			});
		});
	});
}

// ---------------------------------------------------------------------------------------------
// Workloads.

const WORKLOADS = [
	{ key: "ok", title: "GET /ok", mode: "plain", path: "/ok" },
	{ key: "get-session", title: "GET /get-session", mode: "cookie", path: "/get-session" },
	{
		key: "get-session-cached",
		title: "GET /get-session, cookie cache on",
		mode: "cookie",
		path: "/get-session",
		env: cacheEnv,
	},
	{ key: "verify-totp", title: "POST /two-factor/verify-totp", mode: "totp", path: "/two-factor/verify-totp" },
	{ key: "sign-in", title: "POST /sign-in/email", mode: "body", path: "/sign-in/email" },
];

/** Runs one workload on one server (warm-up, then RUNS measured runs) → list of run results. */
async function measure(ctx, w, run) {
	const base = { url: `${ctx.h.origin}/api/auth${w.path}`, origin: ctx.h.origin, mode: w.mode };
	const inputs = async (r) => {
		if (w.mode === "cookie") return { data: ctx.cacheCookieFile ?? ctx.users.cookieFile };
		if (w.mode === "body") return { data: ctx.users.bodyFile };
		if (w.mode === "totp") {
			const pool = POOL[ctx.kind];
			const t0 = Date.now();
			const { file } = await seedChallenges(ctx.databaseUrl, `r${r}`, pool);
			log(`  ${ctx.kind}: seeded ${pool} challenges in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
			return { data: file, codes: await writeCodes(DURATION + 5) };
		}
		return {};
	};
	if (run === "warmup") {
		if (!WARMUP || w.mode === "totp") return null;
		return wrk({ ...base, ...(await inputs(0)), seconds: WARMUP, logName: `wrk-${ctx.tag}-${w.key}-warmup.txt` });
	}
	const res = await wrk({
		...base,
		...(await inputs(run)),
		seconds: DURATION,
		pid: ctx.h.child.pid,
		logName: `wrk-${ctx.tag}-${w.key}-${run}.txt`,
	});
	log(
		`  ${ctx.tag} ${w.key} run ${run}: ${res.rps.toFixed(0)} req/s, p50 ${(res.p50_us / 1000).toFixed(2)} ms, p99 ${(res.p99_us / 1000).toFixed(2)} ms, RSS ${(res.rssKb / 1024).toFixed(0)} MB${res.errors ? `, ${res.errors} errors` : ""}${res.ran_out ? ", POOL RAN OUT" : ""}`,
	);
	return res;
}

function summarize(runs) {
	if (!runs?.length) return null;
	return {
		rps: median(runs.map((r) => r.rps)),
		p50: median(runs.map((r) => r.p50_us)),
		p99: median(runs.map((r) => r.p99_us)),
		rssKb: Math.max(...runs.map((r) => r.rssKb)),
		errors: runs.reduce((a, r) => a + r.errors, 0),
		requests: runs.reduce((a, r) => a + r.requests, 0),
		ranOut: runs.some((r) => r.ran_out),
	};
}

// ---------------------------------------------------------------------------------------------
// Start-up time: spawn → first 200 from GET /api/auth/ok, on SQLite.

function probe(port) {
	return new Promise((res) => {
		const req = http.get({ host: "127.0.0.1", port, path: "/api/auth/ok", agent: false }, (r) => {
			r.resume();
			r.on("end", () => res(r.statusCode === 200));
		});
		req.on("error", () => res(false));
		req.setTimeout(2000, () => req.destroy());
	});
}

async function startupOnce(dbPath) {
	const port = await freePort();
	const env = {
		...process.env,
		...serverEnv,
		BETTER_AUTH_SECRET: SECRET,
		BETTER_AUTH_URL: `http://127.0.0.1:${port}`,
		DATABASE_URL: `sqlite://${dbPath}?mode=rwc`,
		PORTCULLIS_LISTEN: `127.0.0.1:${port}`,
	};
	const t0 = process.hrtime.bigint();
	const child = spawn(BIN, [], { env, stdio: "ignore" });
	children.add(child);
	try {
		for (;;) {
			if (child.exitCode !== null || child.signalCode !== null) throw new Error(`portcullis exited (${child.exitCode})`);
			if (await probe(port)) return Number(process.hrtime.bigint() - t0) / 1e6;
			if (Number(process.hrtime.bigint() - t0) > 30e9) throw new Error("portcullis not ready after 30 s");
			await sleep(1);
		}
	} finally {
		await stop(child);
		children.delete(child);
	}
}

async function startupTimes() {
	const fresh = [];
	const warm = [];
	for (let i = 0; i < 5; i++) {
		const db = join(tmp, `startup-${i}.db`);
		fresh.push(await startupOnce(db)); // new file: migrations run
		warm.push(await startupOnce(db)); // same file again: already migrated
	}
	return { fresh: median(fresh), warm: median(warm), freshAll: fresh, warmAll: warm };
}

// ---------------------------------------------------------------------------------------------
// Report.

const fmtInt = (n) => Math.round(n).toLocaleString("en-US");
const fmtMs = (us) => (us >= 10_000 ? (us / 1000).toFixed(0) : us >= 1000 ? (us / 1000).toFixed(1) : (us / 1000).toFixed(2));
const fmtLat = (s) => (s ? `${fmtMs(s.p50)} / ${fmtMs(s.p99)} ms` : "—");
const fmtRss = (s) => (s ? `${(s.rssKb / 1024).toFixed(0)} MB` : "—");
const fmtRps = (s) => (s ? fmtInt(s.rps) : "—");

function machine(pgVersion) {
	const cpu = /model name\s*:\s*(.+)/.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1] ?? "?";
	const mem = /MemTotal:\s+(\d+)/.exec(readFileSync("/proc/meminfo", "utf8"))?.[1];
	const pkg = JSON.parse(readFileSync(join(jsDir, "node_modules/better-auth/package.json"), "utf8"));
	const dirty = sh("git", ["-C", root, "status", "--porcelain", "--", "crates", "migration", "src", "Cargo.lock"]);
	return {
		date: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
		nproc: os.availableParallelism?.() ?? os.cpus().length,
		cpu,
		memGb: mem ? (Number(mem) / 1024 / 1024).toFixed(1) : "?",
		kernel: os.release(),
		load: os.loadavg().map((l) => l.toFixed(2)).join(" "),
		portcullis: sh(BIN, ["--version"]),
		commit: sh("git", ["-C", root, "rev-parse", "--short", "HEAD"]) + (dirty && dirty !== "?" ? " (+ uncommitted changes)" : ""),
		betterAuth: pkg.version,
		node: process.version,
		rustc: sh("rustc", ["--version"]),
		wrk: sh("sh", ["-c", "wrk -v 2>&1 | head -1"]).split(" Copyright")[0],
		pg: pgVersion,
	};
}

/**
 * Password hashing cost per hash on one core: Portcullis's own numbers from
 * `cargo bench --bench password_hash` (crates/server/benches/password_hash.rs), and Node's
 * scrypt with Better Auth's parameters (N=16384, r=16, p=1, 64 bytes; @better-auth/utils
 * dist/password.node.mjs uses node:crypto's scrypt, i.e. OpenSSL) timed here for ~2 s.
 */
function hashingCosts() {
	const out = execFileSync("cargo", ["bench", "-q", "-p", "portcullis-server", "--bench", "password_hash"], {
		cwd: root,
		encoding: "utf8",
		stdio: ["ignore", "pipe", "inherit"],
	});
	const ms = (label) => Number(new RegExp(`^${label}[^\\n]*?([\\d.]+) ms/hash`, "m").exec(out)?.[1] ?? Number.NaN);
	const salt = randomBytes(16).toString("hex");
	const params = { N: 16384, r: 16, p: 1, maxmem: 128 * 16384 * 16 * 2 };
	scryptSync("correct horse battery staple", salt, 64, params);
	let n = 0;
	const t0 = process.hrtime.bigint();
	while (n < 5 || Number(process.hrtime.bigint() - t0) < 2e9) {
		scryptSync("correct horse battery staple", salt, 64, params);
		n++;
	}
	return {
		argonHash: ms("argon2id hash"),
		argonVerify: ms("argon2id verify"),
		scryptVerify: ms("scrypt verify"),
		nodeScrypt: Number(process.hrtime.bigint() - t0) / 1e6 / n,
	};
}

function report(m, rows, sqliteRows, startup, idle, notes, hashing) {
	const L = [];
	L.push("# Portcullis vs Better Auth — benchmark", "");
	L.push(`- **Date:** ${m.date}`);
	L.push(`- **Machine:** ${m.nproc} CPUs (${m.cpu}), ${m.memGb} GiB RAM, Linux ${m.kernel}; load average at start ${m.load}`);
	L.push(`- **Versions:** ${m.portcullis} (commit ${m.commit}, release build, ${m.rustc}); better-auth ${m.betterAuth} on Node ${m.node}; ${m.pg}; ${m.wrk}`);
	L.push(
		`- **Method:** \`wrk -t${THREADS} -c${CONNECTIONS} -d${DURATION}s\`, median of ${RUNS} run(s) after a ${WARMUP} s warm-up; server, PostgreSQL and wrk share the same ${m.nproc} CPUs. Each server has its own fresh PostgreSQL database, the same secret, the two-factor plugin and no rate limiting. RSS = highest VmRSS of the server process, sampled every 200 ms during the measured runs; every workload starts fresh server processes (seeding happened on earlier ones), so each row's RSS is that workload's own. Ratio = Portcullis req/s ÷ Node req/s.`,
	);
	const load1 = Number(m.load.split(" ")[0]);
	if (load1 > m.nproc / 2) {
		L.push(`- **Warning:** the 1-minute load average was ${load1} on ${m.nproc} CPUs at the start: other work was running, so these numbers are noisy and low.`);
	}
	L.push("");
	L.push("| workload | Node req/s | Portcullis req/s | ratio | Node p50 / p99 | Portcullis p50 / p99 | Node RSS | Portcullis RSS |");
	L.push("|---|---:|---:|---:|---:|---:|---:|---:|");
	for (const r of rows) {
		const ratio = r.node?.rps && r.portcullis ? `${(r.portcullis.rps / r.node.rps).toFixed(1)}×` : "—";
		L.push(
			`| ${r.title} | ${fmtRps(r.node)} | ${fmtRps(r.portcullis)} | ${ratio} | ${fmtLat(r.node)} | ${fmtLat(r.portcullis)} | ${fmtRss(r.node)} | ${fmtRss(r.portcullis)} |`,
		);
	}
	for (const r of sqliteRows) {
		L.push(`| ${r.title} (SQLite) | — | ${fmtRps(r.portcullis)} | — | — | ${fmtLat(r.portcullis)} | — | ${fmtRss(r.portcullis)} |`);
	}
	L.push("");
	if (idle.node || idle.portcullis) {
		L.push(
			`Idle RSS right after start-up (PostgreSQL): Node ${idle.node ? `${(idle.node / 1024).toFixed(0)} MB` : "—"}, Portcullis ${idle.portcullis ? `${(idle.portcullis / 1024).toFixed(0)} MB` : "—"}.`,
		);
	}
	if (startup) {
		const all = (xs) => xs.map((x) => x.toFixed(0)).join(", ");
		L.push(
			`Portcullis start-up, spawn → first 200 from GET /api/auth/ok on SQLite (median of 5): **${startup.fresh.toFixed(0)} ms** on a new database file (migrations run; ${all(startup.freshAll)} ms), **${startup.warm.toFixed(0)} ms** on an already migrated one (${all(startup.warmAll)} ms).`,
		);
	}
	if (hashing) {
		const f = (x) => x.toFixed(1);
		L.push(
			`Password hashing, one core, ms per hash: Portcullis argon2id hash ${f(hashing.argonHash)}, verify ${f(hashing.argonVerify)}; Better Auth scrypt hash verified by Portcullis (RustCrypto scrypt) **${f(hashing.scryptVerify)}**, by Node (OpenSSL) **${f(hashing.nodeScrypt)}**.`,
		);
	}
	if (notes.length) {
		L.push("", "Notes:");
		for (const n of notes) L.push(`- ${n}`);
	}
	L.push("");
	return L.join("\n");
}

// ---------------------------------------------------------------------------------------------
// Main.

async function main() {
	log(`temp dir ${tmp}; ${DURATION} s × ${RUNS} run(s), warm-up ${WARMUP} s, wrk -t${THREADS} -c${CONNECTIONS}`);
	const admin = new pg.Client({ connectionString: ADMIN_URL });
	await admin.connect();
	const pgVersion = (await admin.query("SHOW server_version")).rows[0].server_version;
	await admin.end();
	const m = machine(`PostgreSQL ${pgVersion.split(" ")[0]}`);
	const notes = [];
	const rows = [];
	const sqliteRows = [];
	const idle = {};
	let startup = null;

	if (ONLY.has("startup")) {
		log("start-up time (SQLite)");
		startup = await startupTimes();
	}

	// Seeding runs on a first server process per database; every workload then gets fresh
	// server processes on that database, so a workload's RSS is its own (password hashing during
	// the sign-ups, say, does not show up in the GET /ok row).
	const noteErrors = (w, kind, s, suffix = "") => {
		if (!s) return;
		const what = `${w.title}${suffix} on ${LABEL[kind]}`;
		if (!s.requests) notes.push(`${what}: no request completed within a run (too short a BENCH_DURATION?).`);
		if (s.errors) notes.push(`${what}: ${s.errors} of ${s.requests} responses were errors or non-2xx (see the wrk logs).`);
		if (s.ranOut) notes.push(`${what}: the challenge pool ran out (raise BENCH_TOTP_POOL_${kind.toUpperCase()}); the numbers include refused replays.`);
	};

	if (ONLY.has("sqlite")) {
		log("Portcullis on SQLite");
		const databaseUrl = `sqlite://${join(tmp, "bench.db")}?mode=rwc`;
		const seeder = await launch("portcullis", databaseUrl, "seed");
		const users = await seedUsers("portcullis", seeder);
		await checkSession("portcullis (sqlite)", seeder, users);
		await shutdown(seeder);
		for (const w of WORKLOADS.filter((w) => w.key === "ok" || w.key === "get-session")) {
			const ctx = { kind: "portcullis", tag: "portcullis-sqlite", users, h: await launch("portcullis", databaseUrl, w.key) };
			await measure(ctx, w, "warmup");
			const runs = [];
			for (let r = 1; r <= RUNS; r++) runs.push(await measure(ctx, w, r));
			await shutdown(ctx.h);
			const row = { title: w.title, portcullis: summarize(runs) };
			sqliteRows.push(row);
			noteErrors(w, "portcullis", row.portcullis, " (SQLite)");
		}
	}

	const pgWorkloads = WORKLOADS.filter((w) => ONLY.has(w.key));
	if (pgWorkloads.length) {
		const ctxs = {};
		for (const kind of SERVERS) {
			const databaseUrl = await createDb(`bench_${process.pid}_${kind}`);
			const h = await launch(kind, databaseUrl, "seed");
			await sleep(500);
			idle[kind] = rssKb(h.child.pid);
			log(`${LABEL[kind]} up on ${h.origin} (pid ${h.child.pid}); signing up ${USERS} users`);
			const users = await seedUsers(kind, h);
			await checkSession(kind, h, users);
			await checkSignIn(kind, h);
			if (ONLY.has("verify-totp")) await checkTotp(kind, h, databaseUrl);
			await shutdown(h);
			ctxs[kind] = { kind, tag: `${kind}-pg`, users, databaseUrl };
		}
		log("seeded data accepted by both servers");
		for (const w of pgWorkloads) {
			log(`workload ${w.key}`);
			for (const kind of SERVERS) {
				const ctx = ctxs[kind];
				ctx.h = await launch(kind, ctx.databaseUrl, w.key, w.env);
				ctx.cacheCookieFile = w.env ? await cacheCookies(kind, ctx.h, ctx.users) : undefined;
			}
			// Runs alternate between the servers so slow drift on a shared machine hits both alike.
			const runs = { node: [], portcullis: [] };
			for (const kind of SERVERS) await measure(ctxs[kind], w, "warmup");
			for (let r = 1; r <= RUNS; r++) for (const kind of SERVERS) runs[kind].push(await measure(ctxs[kind], w, r));
			for (const kind of SERVERS) await shutdown(ctxs[kind].h);
			const row = { title: w.title, node: summarize(runs.node), portcullis: summarize(runs.portcullis) };
			rows.push(row);
			for (const kind of SERVERS) noteErrors(w, kind, row[kind]);
		}
	}

	let hashing = null;
	if (ONLY.has("hashing")) {
		log("password hashing cost per hash (cargo bench password_hash, node:crypto scrypt)");
		hashing = hashingCosts();
	}

	const md = report(m, rows, sqliteRows, startup, idle, notes, hashing);
	mkdirSync(dirname(OUT), { recursive: true });
	writeFileSync(OUT, md);
	process.stdout.write(`\n${md}\n`);
	log(`written to ${OUT}`);
}

let failed = false;
try {
	await main();
} catch (e) {
	failed = true;
	if (interrupted) await new Promise(() => {}); // the signal handler finishes and exits
	console.error(`bench: FAILED: ${e.stack ?? e}`);
	console.error(`bench: server and wrk logs kept in ${tmp}`);
} finally {
	await cleanup();
}
if (!failed && !process.env.BENCH_KEEP) rmSync(tmp, { recursive: true, force: true });
process.exit(failed ? 1 : 0);
