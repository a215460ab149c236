// Two instances behind nginx give the results of one: the same scenario (scenario.mjs) runs
// through nginx against one instance, then against two on the same database and Redis, with
// requests alternating between them; every step must meet its expectation in both runs, and the
// two transcripts must be equal step by step. The fleet run also proves the alternation (nginx's
// X-Upstream header): consecutive requests were answered by different instances, and each step
// marked `cross` by another instance than the step it names.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { startFleet } from "./fleet.mjs";
import { describeSteps, outcome, runScenario } from "./scenario.mjs";

/** Every step met its expectation. */
function assertExpectations(steps, what) {
	const got = (s) => (s.status === "race" ? s.result : `${s.status} ${s.result}`);
	const missed = steps.filter((s) => got(s) !== s.expect);
	assert.deepEqual(
		missed.map((s) => `${s.label}: got ${got(s)}, expected ${s.expect}`),
		[],
		`${what}:\n${describeSteps(steps)}`,
	);
}

describe("two instances behind nginx answer as one", () => {
	let single;
	let fleet;
	const transcripts = {};

	before(async () => {
		single = await startFleet({ name: "single", size: 1 });
		fleet = await startFleet({ name: "pair", size: 2 });
	});
	after(async () => {
		await single?.stop();
		await fleet?.stop();
	});

	test("the scenario against one instance", async (t) => {
		const steps = await runScenario({ base: single.origin, origin: single.origin, tag: "single" });
		transcripts.single = steps;
		t.diagnostic(`${steps.length} steps, ${steps.at(-1).n + steps.at(-1).upstreams.length} requests`);
		try {
			assertExpectations(steps, "one instance");
			const [a] = single.instances;
			assert.ok(steps.every((s) => s.upstreams.every((u) => u === a.address)));
		} catch (err) {
			single.dumpLogs();
			throw err;
		}
	});

	test("the same scenario against two instances, alternating", async (t) => {
		const steps = await runScenario({ base: fleet.origin, origin: fleet.origin, tag: "pair" });
		transcripts.fleet = steps;
		const label = (u) => fleet.labelOf(u);
		try {
			assertExpectations(steps, "two instances");
			// Consecutive single requests went to different instances.
			for (let i = 1; i < steps.length; i++) {
				const [prev, cur] = [steps[i - 1], steps[i]];
				if (prev.status === "race" || cur.status === "race") continue;
				assert.notEqual(label(cur.upstreams[0]), label(prev.upstreams[0]), `${prev.label} → ${cur.label} on one instance`);
			}
			// Each crossing step really crossed.
			const crossing = steps.filter((s) => s.cross);
			assert.ok(crossing.length >= 8);
			for (const s of crossing) {
				const from = steps.find((x) => x.label === s.cross);
				assert.notEqual(label(s.upstreams[0]), label(from.upstreams[0]), `${s.label} answered where ${s.cross} was`);
			}
			// Each race was served by both instances at once.
			for (const s of steps.filter((x) => x.status === "race")) {
				assert.deepEqual(new Set(s.upstreams.map(label)), new Set(["A", "B"]), s.label);
			}
			const served = { A: 0, B: 0 };
			for (const s of steps) for (const u of s.upstreams) served[label(u)] += 1;
			t.diagnostic(`${steps.length} steps; requests answered by A: ${served.A}, by B: ${served.B}`);
		} catch (err) {
			fleet.dumpLogs();
			throw err;
		}
	});

	test("both runs have the same result at every step", () => {
		assert.ok(transcripts.single && transcripts.fleet, "both runs completed");
		assert.deepEqual(transcripts.fleet.map(outcome), transcripts.single.map(outcome));
	});
});
