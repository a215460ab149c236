// Reference Better Auth 1.7.25 server used to check the JS compatibility suite
// (and to record transcripts) against the real thing.
//
// Environment:
//   BETTER_AUTH_SECRET  server secret (required)
//   BETTER_AUTH_URL     base URL, e.g. http://127.0.0.1:3000 (required; its origin is the trusted origin)
//   DATABASE_URL        sqlite://<path>[?mode=rwc] | sqlite:<path> | file:<path>   -> better-sqlite3
//                       postgres://… | postgresql://…                             -> pg Pool
//                       mysql://… | mariadb://…                                   -> mysql2/promise pool
//                       (the promise pool: Better Auth hands `new MysqlDialect(db)` the object
//                       itself, and only the promise pool carries the `.pool` Kysely needs)
//   PORT                port to listen on, 127.0.0.1 only (0 = any free port)
//   PLUGINS             comma-separated plugins to enable: two-factor, username
//                       (default "two-factor"; an empty value enables none)
//   OTP_STORE           twoFactor otpOptions.storeOTP: plain (Better Auth's default) | hashed |
//                       encrypted. Portcullis stores OTPs "hashed"; a mixed fleet needs "hashed".
//   COOKIE_CACHE        "compact": session.cookieCache on with strategy compact (default: off);
//                       COOKIE_CACHE_MAX_AGE its maxAge in seconds (default 300)
//   BETTER_AUTH_TRUSTED_ORIGINS  extra trusted origins, comma-separated (read by Better Auth
//                       itself, better-auth: dist/context/helpers.mjs)
//
// Prints `listening <port>` on stdout once Better Auth's own migrations have run
// and the socket is bound.
//
// Test-only route (outside /api/auth): GET /__test/otp?email=<email> answers
// {"email":…,"otp":…} with the last 2FA OTP "sent" to that user, or 404 {"otp":null}.

// Better Auth reads NODE_ENV once, at import time
// (@better-auth/core: dist/env/env-impl.mjs). NODE_ENV=test or TEST=true turn the
// origin/CSRF checks off (better-auth: dist/context/create-context.mjs, skipOriginCheck),
// which would hide exactly the behaviour we want to compare, so pin development
// semantics before loading anything from better-auth.
if (process.env.NODE_ENV !== "development") {
	if (process.env.NODE_ENV) {
		console.error(`reference-server: overriding NODE_ENV=${process.env.NODE_ENV} with development`);
	}
	process.env.NODE_ENV = "development";
}
delete process.env.TEST;

import http from "node:http";

const { betterAuth } = await import("better-auth");
const { toNodeHandler } = await import("better-auth/node");
const { twoFactor } = await import("better-auth/plugins/two-factor");
const { username } = await import("better-auth/plugins/username");
// getMigrations lives in better-auth/db/migration (not better-auth/db) in 1.7.25.
const { getMigrations } = await import("better-auth/db/migration");

function required(name) {
	const v = process.env[name];
	if (!v) {
		console.error(`reference-server: env ${name} is required`);
		process.exit(2);
	}
	return v;
}

const secret = required("BETTER_AUTH_SECRET");
const baseURL = required("BETTER_AUTH_URL");
const databaseUrl = required("DATABASE_URL");
const port = Number.parseInt(process.env.PORT ?? "0", 10);
const KNOWN_PLUGINS = ["two-factor", "username"];
const enabledPlugins = (process.env.PLUGINS ?? "two-factor")
	.split(",")
	.map((p) => p.trim())
	.filter(Boolean);
for (const p of enabledPlugins) {
	if (!KNOWN_PLUGINS.includes(p)) {
		console.error(`reference-server: unknown plugin ${p} in PLUGINS (known: ${KNOWN_PLUGINS.join(", ")})`);
		process.exit(2);
	}
}
if (!Number.isInteger(port) || port < 0 || port > 65535) {
	console.error(`reference-server: bad PORT ${process.env.PORT}`);
	process.exit(2);
}

/** @returns {Promise<{ database: unknown, close: () => Promise<void> }>} */
async function openDatabase(url) {
	if (/^(mysql|mariadb):\/\//i.test(url)) {
		const { createPool } = await import("mysql2/promise");
		// Dates in UTC whatever the machine's zone (mysql2 defaults to local time); Portcullis
		// reads and writes MySQL datetimes as UTC.
		const pool = createPool({ uri: url.replace(/^mariadb:/i, "mysql:"), timezone: "Z" });
		return { database: pool, close: () => pool.end() };
	}
	if (/^postgres(ql)?:\/\//i.test(url)) {
		const { default: pg } = await import("pg");
		const pool = new pg.Pool({ connectionString: url });
		return { database: pool, close: () => pool.end() };
	}
	let path = null;
	if (/^sqlite:\/\//i.test(url)) path = url.slice("sqlite://".length);
	else if (/^sqlite:/i.test(url)) path = url.slice("sqlite:".length);
	else if (/^file:/i.test(url)) path = url.slice("file:".length);
	if (path !== null) {
		// sea-orm style options such as ?mode=rwc are meaningless to better-sqlite3
		// (it always creates the file), so drop the query string.
		path = decodeURIComponent(path.replace(/\?.*$/, ""));
		if (!path) throw new Error(`empty sqlite path in DATABASE_URL ${url}`);
		const { default: Database } = await import("better-sqlite3");
		const db = new Database(path);
		return { database: db, close: async () => db.close() };
	}
	throw new Error(`unsupported DATABASE_URL ${url} (use sqlite://<path>, postgres://… or mysql://…)`);
}

const { database, close } = await openDatabase(databaseUrl);
const OTP_STORES = ["plain", "hashed", "encrypted"];
const otpStore = process.env.OTP_STORE || "plain";
if (!OTP_STORES.includes(otpStore)) {
	console.error(`reference-server: unknown OTP_STORE ${otpStore} (known: ${OTP_STORES.join(", ")})`);
	process.exit(2);
}

/** Last OTP and deliveries so far per (lower-cased) email, for the test-only route. */
const lastOtp = new Map();

const options = {
	// APP_NAME: the TOTP issuer (Better Auth's default appName is "Better Auth").
	...(process.env.APP_NAME ? { appName: process.env.APP_NAME } : {}),
	secret,
	baseURL,
	database,
	emailAndPassword: { enabled: true },
	...(process.env.COOKIE_CACHE === "compact"
		? {
				session: {
					cookieCache: {
						enabled: true,
						strategy: "compact",
						maxAge: Number(process.env.COOKIE_CACHE_MAX_AGE || 300),
					},
				},
			}
		: {}),
	// Plugin order as listed in PLUGINS (it decides the order of user columns and hooks).
	plugins: enabledPlugins.map((name) =>
		name === "username"
			? username()
			: twoFactor({
					otpOptions: {
						storeOTP: otpStore,
						sendOTP: async ({ user, otp }) => {
							const email = String(user.email).toLowerCase();
							lastOtp.set(email, { otp, count: (lastOtp.get(email)?.count ?? 0) + 1 });
						},
					},
				}),
	),
};

const { runMigrations } = await getMigrations(options);
await runMigrations();

const auth = betterAuth(options);
const authHandler = toNodeHandler(auth);

const server = http.createServer((req, res) => {
	const url = new URL(req.url ?? "/", "http://127.0.0.1");
	if (url.pathname === "/__test/otp" && req.method === "GET") {
		const email = (url.searchParams.get("email") ?? "").toLowerCase();
		const hit = lastOtp.get(email);
		res.writeHead(hit ? 200 : 404, { "content-type": "application/json" });
		res.end(JSON.stringify({ email, otp: hit?.otp ?? null, count: hit?.count ?? 0 }));
		return;
	}
	authHandler(req, res).catch((err) => {
		console.error("reference-server: handler error", err);
		if (!res.headersSent) res.writeHead(500);
		res.end();
	});
});

server.listen(port, "127.0.0.1", () => {
	const addr = server.address();
	console.log(`listening ${typeof addr === "object" && addr ? addr.port : port}`);
});

let stopping = false;
async function shutdown() {
	if (stopping) return;
	stopping = true;
	server.close();
	server.closeAllConnections?.();
	try {
		await close();
	} finally {
		process.exit(0);
	}
}
process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);
