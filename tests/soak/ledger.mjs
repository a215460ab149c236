// What the soak saw, client-side: every status per route, every 5xx and network failure, every
// session token received (and how), every accepted backup code, the outcome of each race, and
// the violations found on the way and afterwards.

export class Ledger {
	constructor() {
		/** "METHOD /path" → Map(status → count) */
		this.routes = new Map();
		/** 5xx responses: {route, status, body, email} */
		this.serverErrors = [];
		/** fetches that threw (connection reset, …): {route, message} */
		this.networkErrors = [];
		/** {kind, detail} — each fails the run */
		this.violations = [];
		/** session token → {userIdx, route, legit, at} */
		this.tokens = new Map();
		/** accepted backup-code spends: {userIdx, code, setId, route, mode} */
		this.spends = [];
		/** backup-code sets as issued: setId → {userIdx, codes, retired} */
		this.codeSets = new Map();
		/** race kind → {runs, outcomes: Map("N ok" → count), statuses: Map(status → count)} */
		this.races = new Map();
		/** invariant name → number of objects it was checked on */
		this.checks = new Map();
		this.signUps = 0;
	}

	status(method, path, status) {
		const route = `${method} ${path}`;
		let byStatus = this.routes.get(route);
		if (!byStatus) this.routes.set(route, (byStatus = new Map()));
		byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
	}

	serverError(method, path, status, body, email) {
		this.serverErrors.push({ route: `${method} ${path}`, status, body: body.slice(0, 300), email });
	}

	networkError(method, path, err) {
		this.networkErrors.push({ route: `${method} ${path}`, message: String(err?.cause?.code ?? err?.message ?? err) });
	}

	/** Records a violation; the first few of each kind are printed as they happen. */
	violation(kind, detail) {
		this.violations.push({ kind, detail });
		const seen = this.violations.filter((v) => v.kind === kind).length;
		if (seen <= 3) console.error(`soak: VIOLATION ${kind}: ${typeof detail === "string" ? detail : JSON.stringify(detail)}`);
	}

	/** Counts `n` objects an invariant was checked on. */
	checked(name, n = 1) {
		this.checks.set(name, (this.checks.get(name) ?? 0) + n);
	}

	race(kind, successes, statuses) {
		let r = this.races.get(kind);
		if (!r) this.races.set(kind, (r = { runs: 0, outcomes: new Map(), statuses: new Map() }));
		r.runs += 1;
		const key = `${successes} ok`;
		r.outcomes.set(key, (r.outcomes.get(key) ?? 0) + 1);
		for (const s of statuses) r.statuses.set(s, (r.statuses.get(s) ?? 0) + 1);
	}

	totalRequests() {
		let n = 0;
		for (const byStatus of this.routes.values()) for (const c of byStatus.values()) n += c;
		return n;
	}

	/** Prints the per-route table, races and checks. */
	print({ database, users, seconds, elapsedMs }) {
		const out = [];
		out.push(`soak summary — ${database}, ${users} users, ${seconds} s (load ran ${(elapsedMs / 1000).toFixed(1)} s)`);
		out.push(`  requests: ${this.totalRequests()}, sign-ups: ${this.signUps}, session tokens received: ${this.tokens.size}, backup codes accepted: ${this.spends.length}`);
		out.push("  route                                      count  statuses");
		for (const [route, byStatus] of [...this.routes].sort(([a], [b]) => a.localeCompare(b))) {
			const count = [...byStatus.values()].reduce((a, b) => a + b, 0);
			const statuses = [...byStatus].sort(([a], [b]) => a - b).map(([s, c]) => `${s}×${c}`).join(" ");
			out.push(`  ${route.padEnd(42)} ${String(count).padStart(6)}  ${statuses}`);
		}
		out.push("  races (same secret or challenge submitted concurrently):");
		for (const [kind, r] of [...this.races].sort(([a], [b]) => a.localeCompare(b))) {
			const outcomes = [...r.outcomes].map(([k, c]) => `${k}×${c}`).join(" ");
			const statuses = [...r.statuses].sort(([a], [b]) => a - b).map(([s, c]) => `${s}×${c}`).join(" ");
			out.push(`    ${kind.padEnd(30)} runs ${String(r.runs).padStart(4)}  outcomes ${outcomes}  statuses ${statuses}`);
		}
		out.push("  invariants checked:");
		for (const [name, n] of this.checks) out.push(`    ${name} (${n})`);
		const fivexx = this.serverErrors.length;
		out.push(`  5xx responses: ${fivexx}, network errors: ${this.networkErrors.length}, violations: ${this.violations.length}`);
		for (const e of this.serverErrors.slice(0, 10)) out.push(`    5xx ${e.status} ${e.route} (${e.email}): ${e.body}`);
		for (const e of this.networkErrors.slice(0, 10)) out.push(`    network ${e.route}: ${e.message}`);
		const byKind = new Map();
		for (const v of this.violations) byKind.set(v.kind, [...(byKind.get(v.kind) ?? []), v.detail]);
		for (const [kind, details] of byKind) {
			out.push(`    violation ${kind} ×${details.length}: ${JSON.stringify(details[0])}`);
		}
		console.log(out.join("\n"));
	}

	failed() {
		return this.serverErrors.length > 0 || this.networkErrors.length > 0 || this.violations.length > 0;
	}
}
