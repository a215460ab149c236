// A rolling restart under load loses nothing: CLIENTS clients loop over a mix of requests through
// nginx — mostly quick ones (get-session with the client's session cookie, sign-out, /ok), with a
// sign-in and a sign-up (argon2id, slow enough to be in flight at a SIGTERM) every few — while
// each instance in turn, ROUNDS times over, gets SIGTERM, exits, and is started again on the same
// port. Every request must get its normal answer: no connection failure, no 5xx.
//
// Why nothing may fail: from SIGTERM on, an instance refuses new connections, answers the requests
// on connections it had accepted, and exits (Portcullis's graceful shutdown, crates/server/src/
// main.rs); nginx opens a new connection per request, so a refused connection is retried on the
// other instance (nothing was sent, so this is safe for a POST too); a request already sent is
// never retried, and none needs to be. The quick POSTs — and a burst of them just before each
// SIGTERM — are what catches a server that drops a request sent on a connection it had just
// accepted or still had queued: nginx turns that into a 502 (the binary before the fix in
// main.rs failed most runs with 2–11 such 502s).

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { Browser, ipSource } from "./client.mjs";
import { sleep, startFleet } from "./fleet.mjs";

const CLIENTS = 16;
const ROUNDS = 2;
const PASSWORD = "password123";
/** Load before the first SIGTERM and after each restart; how long an exited instance stays down. */
const SETTLE_MS = 1000;
const DOWN_MS = 500;
/** Quick POSTs sent all at once BURST_LEAD_MS before each SIGTERM. */
const BURST = 32;
const BURST_LEAD_MS = 2;
/** Each client's request sequence, repeated (started at a different point per client). */
const MIX = ["get-session", "sign-out", "ok", "sign-in", "get-session", "sign-out", "ok", "sign-out", "sign-up"];

describe("rolling restart under load", () => {
	let fleet;
	before(async () => {
		fleet = await startFleet({ name: "rolling", size: 2 });
	});
	after(async () => {
		await fleet?.stop();
	});

	test(`SIGTERM and restart each instance in turn, ${ROUNDS} rounds: every request answered`, async (t) => {
		const nextIp = ipSource();
		const stamp = `${process.pid}-${Date.now().toString(36)}`;
		let signUps = 0;
		const users = [];
		for (let i = 0; i < CLIENTS; i++) {
			const b = new Browser({ base: fleet.origin, nextIp });
			const email = `fleet-rolling-${i}-${stamp}@example.com`;
			const r = await b.post("/sign-up/email", { email, password: PASSWORD, name: `client ${i}` });
			assert.equal(r.status, 200, `sign-up: ${JSON.stringify(r.body)}`);
			users.push({ b, email });
		}

		// Each request kind and the answer it must get. Every request has its own client IP, so
		// the rate limits (on, shared through Redis) never refuse one.
		const kinds = {
			"get-session": async (u) => {
				const r = await u.b.get("/get-session");
				return [r, r.status === 200 && r.body?.user?.email === u.email];
			},
			"sign-out": async () => {
				const anon = new Browser({ base: fleet.origin, nextIp });
				const r = await anon.post("/sign-out", {});
				return [r, r.status === 200 && r.body?.success === true];
			},
			ok: async (u) => {
				const r = await u.b.get("/ok");
				return [r, r.status === 200 && r.body?.ok === true];
			},
			"sign-in": async (u) => {
				// Another browser: the client's own session cookie stays the one get-session checks.
				const other = new Browser({ base: fleet.origin, nextIp });
				const r = await other.post("/sign-in/email", { email: u.email, password: PASSWORD });
				return [r, r.status === 200 && typeof r.body?.token === "string"];
			},
			"sign-up": async () => {
				signUps += 1;
				const b = new Browser({ base: fleet.origin, nextIp });
				const email = `fleet-rolling-new-${signUps}-${stamp}@example.com`;
				const r = await b.post("/sign-up/email", { email, password: PASSWORD, name: "new" });
				return [r, r.status === 200 && r.body?.user?.email === email];
			},
		};
		/** @type {{kind: string, start: number, end: number, status?: number, upstream?: string|null, body?: unknown, good: boolean, error?: string}[]} */
		const log = [];
		let running = true;
		const send = async (kind, u) => {
			const start = performance.now();
			try {
				const [r, good] = await kinds[kind](u);
				log.push({ kind, start, end: performance.now(), status: r.status, upstream: r.upstream, body: r.body, good });
			} catch (err) {
				log.push({ kind, start, end: performance.now(), good: false, error: String(err.cause ?? err) });
			}
		};
		const client = async (u, i) => {
			for (let j = i; running; j++) await send(MIX[j % MIX.length], u);
		};
		const clients = users.map(client);

		// The rolling restart, with the moment each phase began.
		const marks = [];
		const mark = (what, inst = null, event = null) => marks.push({ what, inst, event, at: performance.now() });
		const exits = [];
		try {
			await sleep(SETTLE_MS);
			for (let round = 1; round <= ROUNDS; round++) {
				for (const inst of fleet.instances) {
					// A burst of quick POSTs just before the signal: connections nginx opens to the
					// instance that gets it, some accepted and not yet read when it arrives.
					const burst = Array.from({ length: BURST }, () => send("sign-out"));
					await sleep(BURST_LEAD_MS);
					mark(`SIGTERM ${inst.label} (round ${round})`, inst.label, "sigterm");
					const { code, signal } = await fleet.terminate(inst);
					exits.push(`${inst.label}: code ${code}, signal ${signal}`);
					await Promise.all(burst);
					mark(`${inst.label} exited`, inst.label, "exited");
					await sleep(DOWN_MS);
					mark(`${inst.label} starting`, inst.label, "starting");
					await fleet.launch(inst);
					mark(`${inst.label} ready`, inst.label, "ready");
					await sleep(SETTLE_MS);
				}
			}
			mark("end");
		} finally {
			running = false;
			await Promise.all(clients);
		}

		const label = (u) => (u ? fleet.labelOf(u) : null);
		const phases = marks.slice(0, -1).map((from, i) => {
			const to = marks[i + 1];
			const done = log.filter((r) => r.end >= from.at && r.end < to.at);
			const by = (l) => done.filter((r) => label(r.upstream) === l).length;
			return { from, to, done, line: `${from.what} → ${to.what} (${Math.round(to.at - from.at)} ms): ${done.length} answered (A ${by("A")}, B ${by("B")})` };
		});
		// Requests in flight on an instance when it got SIGTERM (sent before, answered by it after).
		const drained = marks
			.filter((m) => m.event === "sigterm")
			.map((m) => log.filter((r) => r.start < m.at && r.end > m.at && label(r.upstream) === m.inst).length);
		// Requests nginx moved to the other instance after a refused connection.
		const retried = log.filter((r) => r.upstream?.includes(",")).length;
		const bad = log.filter((r) => !r.good);
		t.diagnostic(`${log.length} requests by ${CLIENTS} clients; ${bad.length} failed`);
		for (const p of phases) t.diagnostic(p.line);
		const slowest = Math.max(...log.map((r) => r.end - r.start));
		t.diagnostic(`slowest answer: ${Math.round(slowest)} ms`);
		t.diagnostic(
			`in flight at each SIGTERM and completed by that instance: ${drained.join(", ")}; ` +
				`moved to the other instance after a refused connection: ${retried}`,
		);

		try {
			const clean = fleet.instances.map((i) => `${i.label}: code 0, signal null`);
			assert.deepEqual(exits, Array.from({ length: ROUNDS }, () => clean).flat(), "every instance exited 0 on SIGTERM");
			assert.deepEqual(
				bad.slice(0, 10).map((r) => `${r.kind}: ${r.error ?? `${r.status} ${JSON.stringify(r.body)} via ${r.upstream}`}`),
				[],
				`${bad.length} of ${log.length} requests failed`,
			);
			// Served throughout: every phase answered requests; while an instance was down (exited →
			// starting) the other answered them all; a restarted instance took traffic again.
			for (const { from, done, line } of phases) {
				assert.ok(done.length > 0, `no request answered during ${line}`);
				if (from.event === "exited") assert.ok(done.every((r) => label(r.upstream) !== from.inst), `${from.inst} answered while down: ${line}`);
				if (from.event === "ready") assert.ok(done.some((r) => label(r.upstream) === from.inst), `restarted ${from.inst} took no traffic: ${line}`);
			}
			for (const kind of Object.keys(kinds)) assert.ok(log.some((r) => r.kind === kind), `no ${kind} request`);
		} catch (err) {
			fleet.dumpLogs();
			throw err;
		}
	});
});
