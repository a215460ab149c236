#!/usr/bin/env node
// The fleet tests: Portcullis instances behind Debian's nginx (round robin) on one PostgreSQL
// database and one Redis (fleet.mjs starts them).
//
//   equivalence.test.mjs      one scenario (sign-up, 2FA, sign-in gate, TOTP replay, backup codes,
//                             attempt limit, lockout, rate limits, races) through nginx against one
//                             instance and against two, alternating; the transcripts must be equal
//   rolling-restart.test.mjs  clients loop over requests while each instance in turn gets SIGTERM
//                             and is started again; no request may fail
//
// Usage:
//   node tests/fleet/run.mjs --bin PATH --database-url postgres://… [--redis-url redis://…]
//                            [--nginx PATH] [--keep] [test files…]
//
// --database-url: an existing, empty PostgreSQL database (scripts/test-fleet creates and drops
// one). --redis-url defaults to redis://127.0.0.1:6379; the instances' keys get a prefix unique to
// the run (they expire within a minute). --nginx defaults to /usr/sbin/nginx (scripts/ensure-nginx
// installs Debian's). --keep keeps the temp dir (every instance's log, nginx's config and logs);
// the logs are printed when something fails.

import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));

function usage(msg) {
	if (msg) console.error(`run.mjs: ${msg}`);
	console.error(
		"usage: node tests/fleet/run.mjs --bin PATH --database-url postgres://… [--redis-url URL] [--nginx PATH] [--keep] [test files…]",
	);
	process.exit(2);
}

function parseArgs(argv) {
	const out = { bin: null, databaseUrl: null, redisUrl: "redis://127.0.0.1:6379", nginx: "/usr/sbin/nginx", keep: false, files: [] };
	const flags = { "--bin": "bin", "--database-url": "databaseUrl", "--redis-url": "redisUrl", "--nginx": "nginx" };
	for (let i = 0; i < argv.length; i++) {
		const a = argv[i];
		const [flag, inline] = a.split(/=(.*)/s, 2);
		if (flags[flag]) {
			if (inline !== undefined) out[flags[flag]] = inline;
			else if (i + 1 < argv.length) out[flags[flag]] = argv[++i];
			else usage(`${flag} needs a value`);
		} else if (a === "--keep") out.keep = true;
		else if (a === "-h" || a === "--help") usage();
		else if (a.startsWith("--")) usage(`unknown option ${a}`);
		else out.files.push(resolve(a));
	}
	if (!out.bin) usage("--bin PATH is required");
	if (!out.databaseUrl?.startsWith("postgres")) usage("--database-url postgres://… is required");
	if (!existsSync(out.nginx)) usage(`no nginx at ${out.nginx} (scripts/ensure-nginx installs it)`);
	if (out.files.length === 0) out.files.push(join(here, "equivalence.test.mjs"), join(here, "rolling-restart.test.mjs"));
	return out;
}

const args = parseArgs(process.argv.slice(2));
const dir = mkdtempSync(join(tmpdir(), "portcullis-fleet-"));
console.error(`run.mjs: database ${args.databaseUrl}, redis ${args.redisUrl}, nginx ${args.nginx}, files in ${dir}`);
const tests = spawn(process.execPath, ["--test", "--test-concurrency=1", ...args.files], {
	cwd: here,
	env: {
		...process.env,
		FLEET_BIN: resolve(args.bin),
		FLEET_DATABASE_URL: args.databaseUrl,
		FLEET_REDIS_URL: args.redisUrl,
		FLEET_NGINX: args.nginx,
		FLEET_DIR: dir,
	},
	stdio: "inherit",
});
// The test processes stop what they started (their `after` hooks); on Ctrl-C they get the signal too.
for (const sig of ["SIGINT", "SIGTERM"]) process.once(sig, () => tests.kill(sig));
const status = await new Promise((res) => tests.once("exit", (code, signal) => res(code ?? (signal ? 1 : 0))));
if (args.keep) console.error(`run.mjs: kept ${dir}`);
else rmSync(dir, { recursive: true, force: true });
process.exit(status);
