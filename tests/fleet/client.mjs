// Plain HTTP against a fleet's (or one instance's) origin, as a browser behind the proxy: a
// cookie jar per browser (tests/js/lib/jar.mjs), the Origin header, and an X-Forwarded-For chosen
// per request (the client IP Portcullis rate-limits by; nginx appends its own hop, which the
// instances trust). Each answer is summarised as {status, code, upstream} plus the parsed body.

import { CookieJar } from "../js/lib/jar.mjs";

/** Distinct client IPs (10.0.0.0/8), one per call: no two requests share a rate-limit bucket. */
export function ipSource() {
	let n = 0;
	return () => {
		n += 1;
		return `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
	};
}

/** The error code of a body: Better Auth's `code`; for the bare 429 (no code), "RATE_LIMITED" (our label). */
export function bodyCode(status, body) {
	if (body && typeof body === "object" && typeof body.code === "string") return body.code;
	if (status === 429 && body?.message) return "RATE_LIMITED";
	return null;
}

export class Browser {
	/** base: the origin requests go to; origin: the Origin header (the fleet's BETTER_AUTH_URL). */
	constructor({ base, origin = base, nextIp }) {
		this.base = base;
		this.origin = origin;
		this.nextIp = nextIp;
		this.jar = new CookieJar();
	}

	/** One request to `/api/auth${path}`; `ip` overrides the per-request client IP. */
	async request(method, path, { body, ip } = {}) {
		const url = `${this.base}/api/auth${path}`;
		const headers = { origin: this.origin, "x-forwarded-for": ip ?? this.nextIp() };
		const cookie = this.jar.header();
		if (cookie) headers.cookie = cookie;
		if (body !== undefined) headers["content-type"] = "application/json";
		const res = await fetch(url, {
			method,
			headers,
			body: body === undefined ? undefined : JSON.stringify(body),
			redirect: "manual",
			signal: AbortSignal.timeout(30_000),
		});
		this.jar.record(method, url, res);
		const text = await res.text();
		let json = null;
		try {
			json = text ? JSON.parse(text) : null;
		} catch {}
		return {
			status: res.status,
			code: bodyCode(res.status, json),
			body: json,
			upstream: res.headers.get("x-upstream"),
			retryAfter: res.headers.get("x-retry-after"),
		};
	}

	post(path, body, opts = {}) {
		return this.request("POST", path, { ...opts, body });
	}

	get(path, opts = {}) {
		return this.request("GET", path, opts);
	}
}
