#!/usr/bin/env node
// Soak test: N simulated users (sim.mjs) drive one portcullis server for S seconds through the
// official Better Auth client — sign-up, sign-in, 2FA enrolment and challenges (TOTP, backup
// codes, email OTP via the webhook listener), wrong codes, backup-code regeneration, session
// listing/revocation, sign-out, disable, change-password — with deliberate races (one backup code
// or TOTP code on several challenges or requests at once, every factor on one challenge at once,
// regenerate during a spend, a double enable, a double sign-up). Afterwards: API re-checks, then
// the database against the client-side model (invariants.mjs). Exit 1 on any 5xx, network
// error or violation.
//
// Usage: node tests/soak/run.mjs --bin PATH [--database-url URL] [--users N] [--seconds S]
//        [--seed N] [--skip-race NAME,…] [--self-check] [--keep]
// Without --database-url: a fresh SQLite file in a temp dir. A PostgreSQL/MySQL database must be
// empty (scripts/test-soak creates and drops one per run). --self-check corrupts the database
// after the load (tamper.mjs) and passes only if every check reports its corruption.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";

import { SECRET, startServer } from "../js/servers.mjs";
import { snapshot } from "./db.mjs";
import { apiRechecks, dbChecks } from "./invariants.mjs";
import { Ledger } from "./ledger.mjs";
import { RACES, Sim, SimUser } from "./sim.mjs";
import { tamperAfterStop, tamperBeforeRechecks } from "./tamper.mjs";

const { values: args } = parseArgs({
	options: {
		bin: { type: "string" },
		"database-url": { type: "string" },
		users: { type: "string", default: "20" },
		seconds: { type: "string", default: "30" },
		seed: { type: "string" },
		"skip-race": { type: "string", default: "" },
		"self-check": { type: "boolean", default: false },
		keep: { type: "boolean", default: false },
	},
});
if (!args.bin) {
	console.error(
		"usage: node tests/soak/run.mjs --bin PATH [--database-url URL] [--users N] [--seconds S] [--seed N] [--skip-race NAME,…] [--self-check] [--keep]",
	);
	process.exit(2);
}
const skipRaces = new Set(args["skip-race"].split(",").filter(Boolean));
for (const r of skipRaces) {
	if (!RACES.includes(r)) {
		console.error(`unknown race ${r} (one of ${RACES.join(", ")})`);
		process.exit(2);
	}
}
const selfCheck = args["self-check"];
const users = Number(args.users);
const seconds = Number(args.seconds);
const seed = args.seed ? Number(args.seed) : Math.floor(Math.random() * 2 ** 31);
/** After the deadline, how long the last steps may take before the run counts as hung. */
const DRAIN_MS = 60_000;

const dir = mkdtempSync(join(tmpdir(), "portcullis-soak-"));
const databaseUrl = args["database-url"] ?? `sqlite://${join(dir, "db.sqlite")}?mode=rwc`;
const database = databaseUrl.split(":")[0];
console.error(`soak: ${users} users, ${seconds} s, seed ${seed}, ${database}${skipRaces.size ? `, skipping ${[...skipRaces]}` : ""}${selfCheck ? ", self-check" : ""}`);

const server = await startServer({ server: "portcullis", bin: args.bin, databaseUrl, dir, label: "soak" });
const ledger = new Ledger();
let status = 1;
try {
	await server.ready();
	const sim = new Sim({ origin: server.origin, otpSourceUrl: server.otpSourceUrl, ledger, seed, skipRaces });
	const runTag = `${process.pid}-${Date.now().toString(36)}`;
	const simUsers = Array.from({ length: users }, (_, i) => new SimUser(sim, i, runTag));

	// Load: every user loops until the deadline; a step that throws (network error) is recorded.
	const started = Date.now();
	const deadline = started + seconds * 1000;
	const loops = simUsers.map(async (u) => {
		while (Date.now() < deadline) {
			try {
				await u.step();
			} catch (err) {
				ledger.violation("step-threw", { user: u.idx, message: String(err?.stack ?? err).split("\n").slice(0, 3).join(" | ") });
			}
		}
	});
	const drained = await Promise.race([
		Promise.all(loops).then(() => true),
		new Promise((r) => setTimeout(() => r(false), seconds * 1000 + DRAIN_MS)),
	]);
	const elapsedMs = Date.now() - started;
	const tampered = { expected: [], skipped: [] };
	const tamper = async (f) => {
		const { expected, skipped } = await f(databaseUrl, simUsers, SECRET);
		tampered.expected.push(...expected);
		tampered.skipped.push(...skipped);
	};
	if (!drained) {
		ledger.violation("hung", `requests still pending ${DRAIN_MS / 1000} s after the deadline (deadlock?)`);
	} else {
		console.error(`soak: load done (${ledger.totalRequests()} requests); API re-checks`);
		if (selfCheck) await tamper(tamperBeforeRechecks);
		await apiRechecks(simUsers, ledger, sim);
	}
	await server.shutdown();
	if (drained) {
		console.error("soak: server stopped; database checks");
		if (selfCheck) await tamper(tamperAfterStop);
		const snap = await snapshot(databaseUrl);
		const { leftoverCounters } = await dbChecks(snap, simUsers, ledger, SECRET);
		console.error(
			`soak: rows — user ${snap.user.length}, session ${snap.session.length}, twoFactor ${snap.twoFactor.length}, ` +
				`twoFactorBackupCode ${snap.twoFactorBackupCode.length}, verification ${snap.verification.length} ` +
				`(${leftoverCounters} attempt counters outlived their challenge: completed by OTP, which takes no attempt)`,
		);
	}
	ledger.print({ database, users, seconds, elapsedMs });
	status = selfCheck ? selfCheckStatus(tampered) : ledger.failed() ? 1 : 0;
	if (status) server.dumpLog();
	if (status) console.log(`soak: FAILED (seed ${seed})`);
	else console.log(selfCheck ? "soak: self-check passed (every planted corruption was reported)" : "soak: passed");
} catch (err) {
	console.error(`soak: ${err?.stack ?? err}`);
	server.dumpLog();
} finally {
	await server.shutdown();
	if (args.keep) console.error(`soak: kept ${dir}`);
	else rmSync(dir, { recursive: true, force: true });
}
process.exit(status);

/** --self-check passes when exactly the planted corruptions were reported, and nothing else failed. */
function selfCheckStatus({ expected, skipped }) {
	const found = new Set(ledger.violations.map((v) => v.kind));
	const missed = [...new Set(expected)].filter((k) => !found.has(k));
	const other = [...found].filter((k) => !expected.includes(k));
	console.log(`soak self-check: planted ${[...new Set(expected)].join(", ")}`);
	if (skipped.length) console.log(`soak self-check: could not plant (run longer or with more users): ${skipped.join("; ")}`);
	if (missed.length) console.log(`soak self-check: NOT DETECTED: ${missed.join(", ")}`);
	if (other.length) console.log(`soak self-check: violations besides the planted ones: ${other.join(", ")}`);
	const bad = skipped.length || missed.length || other.length || ledger.serverErrors.length || ledger.networkErrors.length;
	return bad ? 1 : 0;
}
