// A browser-ish cookie jar for one host and the official client wired to it, shared by the JS
// suites: every request carries the jar's cookies and an Origin header (browsers send one on
// these requests; Node's fetch does not), redirects are not followed, and each response's
// Set-Cookie lines update the jar and are logged so tests can inspect the exact lines.

import { createAuthClient } from "better-auth/client";

/** Parses one Set-Cookie line into {name, value, attrs, line} (attribute names lower-cased). */
export function parseSetCookie(line) {
	const [pair, ...rest] = line.split(";");
	const eq = pair.indexOf("=");
	const attrs = new Map();
	for (const raw of rest) {
		const a = raw.trim();
		if (!a) continue;
		const i = a.indexOf("=");
		if (i === -1) attrs.set(a.toLowerCase(), true);
		else attrs.set(a.slice(0, i).trim().toLowerCase(), a.slice(i + 1).trim());
	}
	return { name: pair.slice(0, eq).trim(), value: pair.slice(eq + 1).trim(), attrs, line };
}

/**
 * Keeps name=value pairs, honours Max-Age<=0 / past Expires as deletion, and logs each
 * exchange ({method, path, status, setCookies}).
 */
export class CookieJar {
	constructor() {
		this.cookies = new Map();
		/** @type {{method: string, path: string, status: number, setCookies: ReturnType<typeof parseSetCookie>[]}[]} */
		this.log = [];
	}
	header() {
		return [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
	}
	get(name) {
		return this.cookies.get(name);
	}
	has(name) {
		return this.cookies.has(name);
	}
	set(name, value) {
		this.cookies.set(name, value);
	}
	/** Records a response: updates the jar and appends to the log. */
	record(method, url, response) {
		const setCookies = response.headers.getSetCookie().map(parseSetCookie);
		for (const c of setCookies) {
			const maxAge = c.attrs.get("max-age");
			const expires = c.attrs.get("expires");
			const expired =
				(maxAge !== undefined && Number(maxAge) <= 0) ||
				(typeof expires === "string" && Date.parse(expires) <= Date.now());
			if (expired) this.cookies.delete(c.name);
			else this.cookies.set(c.name, c.value);
		}
		this.log.push({ method, path: new URL(url).pathname, status: response.status, setCookies });
	}
	/** Set-Cookie lines of the most recent response to `path` (relative to /api/auth). */
	lastSetCookies(path) {
		const full = `/api/auth${path}`;
		for (let i = this.log.length - 1; i >= 0; i--) if (this.log[i].path === full) return this.log[i].setCookies;
		throw new Error(`no request to ${full} recorded`);
	}
}

/** The value inside a signed cookie value (`<value>.<sig>`, URL-encoded), e.g. a session token. */
export function unsigned(value) {
	const decoded = decodeURIComponent(value);
	return decoded.slice(0, decoded.lastIndexOf("."));
}

/** A fetch (for the client's `customFetchImpl`) that sends `jar`'s cookies and `origin`. */
export function jarFetch(jar, origin) {
	return async (input, init = {}) => {
		const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
		const headers = new Headers(init.headers);
		headers.set("origin", origin);
		const cookie = jar.header();
		if (cookie) headers.set("cookie", cookie);
		else headers.delete("cookie");
		const response = await fetch(url, { ...init, headers, redirect: "manual" });
		jar.record(init.method ?? "GET", url, response);
		return response;
	};
}

/**
 * The official client (`createAuthClient` from better-auth/client) at `baseURL` with `plugins`,
 * whose requests go through `jar` and carry `origin` (default: baseURL's origin).
 */
export function jarClient({ jar, baseURL, origin = new URL(baseURL).origin, plugins = [] }) {
	return createAuthClient({ baseURL, plugins, fetchOptions: { customFetchImpl: jarFetch(jar, origin) } });
}
