// The fixture language shared with the Rust replayer (tests/compat_replay.rs); the format is
// described in compat-fixtures/README.md. This module turns scripted exchanges into fixture
// steps: it resolves request templates (placeholders, captures, computed codes) into real
// requests, sends them to the reference server, and normalizes the answers back into
// templates (dynamic values → typed placeholders that bind on first sight).

import { createHmac } from "node:crypto";
import http from "node:http";

import { base32Decode, hotp } from "../../../tests/js/lib/totp.mjs";

/** Response headers the fixtures assert (presence and value); all others are ignored. */
export const RELEVANT_HEADERS = ["content-type", "cache-control", "pragma", "location"];

/** `<kind[:N][|variant]>` — the placeholder syntax (README "Placeholders"). */
export const PLACEHOLDER_RE =
	/<(origin|port|date|email|username|id|token|challenge|trust-id|hmac|totp-secret|backup-code)(?::(\d+))?(?:\|(upper|url))?>/g;

const CAPTURE_RE = /\{\{([A-Za-z0-9_.:-]+)(?:\|(unsigned))?\}\}/g;
const DATE_RE = /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/g;
const TOKEN32_RE = /(?<![A-Za-z0-9])[A-Za-z0-9]{32}(?![A-Za-z0-9])/g;
const CHALLENGE_RE = /(?<=2fa-)[A-Za-z0-9_-]{20}(?![A-Za-z0-9_-])/g;
const TRUST_ID_RE = /(?<=trust-device-)[A-Za-z0-9_-]{32}(?![A-Za-z0-9_-])/g;
const HMAC_RE = /^[A-Za-z0-9_-]{43}(?=!)/;
const TOTP_SECRET_RE = /(?<=^otpauth:\/\/totp\/[^?]*\?(?:[^#]*&)?secret=)[A-Z2-7]+/;
const BACKUP_CODE_RE = /^[A-Za-z0-9]{5}-[A-Za-z0-9]{5}$/;
const SIGNED_RE = /^(.*)\.([A-Za-z0-9+/]{43}=)$/s;

// ---------------------------------------------------------------- TOTP (RFC 6238, SHA-1)

// base32Decode / hotp live in tests/js/lib/totp.mjs (dependency-free, shared with the JS suites);
// re-exported here so this module's interface is unchanged.
export { base32Decode, hotp };

const PERIOD = 30;
const currentStep = () => Math.floor(Date.now() / 1000 / PERIOD);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------- cookies

/** One Set-Cookie line → {name, value, attributes} (attributes trimmed, in order). */
export function parseSetCookie(line) {
	const [pair, ...rest] = line.split(";");
	const eq = pair.indexOf("=");
	return {
		name: pair.slice(0, eq).trim(),
		value: pair.slice(eq + 1).trim(),
		attributes: rest.map((a) => a.trim()).filter(Boolean),
	};
}

const isDeletion = (c) => c.attributes.some((a) => /^max-age=0$/i.test(a));

export function signCookieValue(secret, value) {
	const sig = createHmac("sha256", secret).update(value).digest("base64");
	return encodeURIComponent(`${value}.${sig}`);
}

/** `name.sig` (URL-encoded or not) → `name` when the signature verifies, else null. */
export function verifySigned(secret, raw) {
	let decoded;
	try {
		decoded = decodeURIComponent(raw);
	} catch {
		return null;
	}
	const m = SIGNED_RE.exec(decoded);
	if (!m) return null;
	const want = createHmac("sha256", secret).update(m[1]).digest("base64");
	return want === m[2] ? m[1] : null;
}

/** The part of a signed cookie value before its signature (URL-decoded). */
export function unsigned(raw) {
	const decoded = decodeURIComponent(raw);
	const i = decoded.lastIndexOf(".");
	return i < 0 ? decoded : decoded.slice(0, i);
}

// ---------------------------------------------------------------- raw HTTP

/** Sends exactly the given headers (plus Host/Content-Length) and returns the raw answer. */
export function rawRequest(origin, { method, path, headers, body }) {
	return new Promise((resolve, reject) => {
		const u = new URL(origin);
		const h = { ...headers };
		if (body !== undefined) h["content-length"] = String(Buffer.byteLength(body));
		const req = http.request(
			{ host: u.hostname, port: u.port, method, path, headers: h, agent: false },
			(res) => {
				const chunks = [];
				res.on("data", (c) => chunks.push(c));
				res.on("end", () =>
					resolve({
						status: res.statusCode,
						headers: res.headers,
						setCookies: res.headers["set-cookie"] ?? [],
						text: Buffer.concat(chunks).toString("utf8"),
					}),
				);
			},
		);
		req.on("error", reject);
		if (body !== undefined) req.write(body);
		req.end();
	});
}

// ---------------------------------------------------------------- fixtures

const COOKIE_PREFIX = "better-auth.";
const shortCookieName = (name) => (name.startsWith(COOKIE_PREFIX) ? name.slice(COOKIE_PREFIX.length) : name);

/**
 * One scenario being recorded. `env` = { origin, port, secret, runId, db (DbSteps),
 * otpLog (Map email → [otps]) }.
 */
export class Fixture {
	constructor(env, name, title) {
		this.env = env;
		this.name = name;
		this.title = title;
		this.steps = [];
		/** "kind:N" → value, and value → "kind:N". */
		this.bound = new Map();
		this.byValue = new Map();
		this.counters = new Map();
		this.captures = new Map();
		/** jar name → Map(cookie name → capture name). */
		this.jars = new Map();
		/** TOTP secret → {step, code} of the last computed success code. */
		this.totpLast = new Map();
		this.last = null;
	}

	// ------------------------------------------------ placeholders

	bind(kind, value) {
		const existing = this.byValue.get(value);
		if (existing) return existing;
		const n = (this.counters.get(kind) ?? 0) + 1;
		this.counters.set(kind, n);
		const key = `${kind}:${n}`;
		this.bound.set(key, value);
		this.byValue.set(value, key);
		return key;
	}

	/** The placeholder (`<token:3>`) naming a value seen in a response (or generated). */
	ph(value) {
		const key = this.byValue.get(value);
		if (!key) throw new Error(`${this.name}: no placeholder for ${JSON.stringify(value)}`);
		return `<${key}>`;
	}

	generate(kind, n) {
		// Unique per recording run (one database for all scenarios); lower case so the
		// |upper variant is unambiguous.
		const tag = `${this.env.runId}${this.env.fixtureIndex}`;
		if (kind === "email") return `e${n}-${tag}@example.com`;
		if (kind === "username") return `user${n}_${tag}`;
		throw new Error(`${this.name}: <${kind}:${n}> used in a request before any response bound it`);
	}

	resolvePlaceholder(kind, n, variant) {
		let value;
		if (kind === "origin") value = this.env.origin;
		else if (kind === "port") value = String(this.env.port);
		else {
			if (n === undefined) throw new Error(`${this.name}: <${kind}> needs a number in a request`);
			const key = `${kind}:${n}`;
			value = this.bound.get(key);
			if (value === undefined) {
				value = this.generate(kind, n);
				this.bound.set(key, value);
				this.byValue.set(value, key);
				this.counters.set(kind, Math.max(this.counters.get(kind) ?? 0, Number(n)));
			}
		}
		if (variant === "upper") return value.toUpperCase();
		if (variant === "url") return encodeURIComponent(value);
		return value;
	}

	resolveString(s) {
		const withCaptures = s.replace(CAPTURE_RE, (_, name, fn) => {
			if (!this.captures.has(name)) throw new Error(`${this.name}: capture {{${name}}} not set`);
			const v = this.captures.get(name);
			return fn === "unsigned" ? unsigned(v) : v;
		});
		return withCaptures.replace(PLACEHOLDER_RE, (_, kind, n, variant) => this.resolvePlaceholder(kind, n, variant));
	}

	async compute(spec) {
		const kind = spec.$compute;
		if (kind === "repeat") return String(spec.text).repeat(spec.count);
		if (kind === "otp-wrong") {
			const otp = this.resolveString(spec.otp);
			return String((Number(otp) + 1) % 10 ** otp.length).padStart(otp.length, "0");
		}
		const secret = this.resolveString(spec.secret);
		const key = base32Decode(secret);
		if (kind === "totp-wrong") {
			const now = currentStep();
			const valid = new Set();
			for (let s = now - 3; s <= now + 3; s++) valid.add(hotp(key, s));
			for (let i = 0; ; i++) {
				const c = String(123456 + i * 7).padStart(6, "0");
				if (!valid.has(c)) return c;
			}
		}
		if (kind !== "totp") throw new Error(`${this.name}: unknown $compute ${kind}`);
		const last = this.totpLast.get(secret);
		if (spec.step === "replay") {
			if (!last) throw new Error(`${this.name}: TOTP replay before any TOTP`);
			return last.code;
		}
		if (spec.step !== "fresh") throw new Error(`${this.name}: unknown TOTP step ${spec.step}`);
		// fresh: the current step, or the next one, whichever no earlier code of this fixture
		// used (servers that refuse replays need a step above the last accepted one); when
		// both are spent, wait for the clock.
		for (;;) {
			const now = currentStep();
			const step = [now, now + 1].find((s) => !last || s > last.step);
			if (step !== undefined) {
				const code = hotp(key, step);
				this.totpLast.set(secret, { step, code });
				return code;
			}
			await sleep(250);
		}
	}

	async resolveValue(v) {
		if (typeof v === "string") return this.resolveString(v);
		if (Array.isArray(v)) return Promise.all(v.map((x) => this.resolveValue(x)));
		if (v && typeof v === "object") {
			if ("$compute" in v) return this.compute(v);
			const out = {};
			for (const [k, x] of Object.entries(v)) out[k] = await this.resolveValue(x);
			return out;
		}
		return v;
	}

	// ------------------------------------------------ normalization (answer → template)

	normString(s, hint) {
		let out = s.split(this.env.origin).join("<origin>");
		out = out.replace(new RegExp(`:${this.env.port}(?![0-9])`, "g"), ":<port>");
		// generated emails/usernames (and their variants) back to their placeholders
		for (const [key, value] of this.bound) {
			const [kind] = key.split(":");
			if (kind === "email") {
				out = out.split(value).join(`<${key}>`);
				out = out.split(value.toUpperCase()).join(`<${key}|upper>`);
				out = out.split(encodeURIComponent(value)).join(`<${key}|url>`);
			}
			if (kind === "username") {
				if (out === value) return `<${key}>`;
				if (out === value.toUpperCase()) return `<${key}|upper>`;
			}
		}
		out = out.replace(TOTP_SECRET_RE, (m) => `<${this.bind("totp-secret", m)}>`);
		out = out.replace(DATE_RE, "<date>");
		out = out.replace(CHALLENGE_RE, (m) => `<${this.bind("challenge", m)}>`);
		out = out.replace(TRUST_ID_RE, (m) => `<${this.bind("trust-id", m)}>`);
		out = out.replace(HMAC_RE, (m) => `<${this.bind("hmac", m)}>`);
		out = out.replace(TOKEN32_RE, (m) => {
			const known = this.byValue.get(m);
			if (known) return `<${known}>`;
			return `<${this.bind(hint === "token" ? "token" : "id", m)}>`;
		});
		if (BACKUP_CODE_RE.test(out)) out = `<${this.bind("backup-code", out)}>`;
		return out;
	}

	normJson(v, key) {
		if (typeof v === "string") return this.normString(v, key === "token" ? "token" : "id");
		if (Array.isArray(v)) return v.map((x) => this.normJson(x, key));
		if (v && typeof v === "object") {
			const out = {};
			// `token` first so a session's token binds as <token:N> before its id appears.
			const keys = Object.keys(v).sort((a, b) => (a === "token" ? -1 : b === "token" ? 1 : 0));
			for (const k of keys) out[k] = this.normJson(v[k], k);
			const ordered = {};
			for (const k of Object.keys(v)) ordered[k] = out[k];
			return ordered;
		}
		return v;
	}

	normCookieValue(name, value) {
		if (value === "") return "";
		const inner = verifySigned(this.env.secret, value);
		if (inner !== null) {
			const hint = name.endsWith("session_token") ? "token" : "id";
			return `<signed:${this.normString(inner, hint)}>`;
		}
		return this.normString(value, "id");
	}

	normResponse(res) {
		const headers = {};
		for (const h of RELEVANT_HEADERS) {
			if (res.headers[h] !== undefined) headers[h] = this.normString(String(res.headers[h]));
		}
		const setCookies = res.setCookies.map((line) => {
			const c = parseSetCookie(line);
			return { name: c.name, value: this.normCookieValue(c.name, c.value), attributes: c.attributes };
		});
		let body;
		let json;
		if (res.text === "") body = { empty: true };
		else {
			try {
				json = JSON.parse(res.text);
			} catch {
				json = undefined;
			}
			const isJson = /json/i.test(String(res.headers["content-type"] ?? ""));
			body = isJson && json !== undefined ? { json: this.normJson(json) } : { text: this.normString(res.text) };
		}
		return { response: { status: res.status, headers, setCookies, body }, json };
	}

	// ------------------------------------------------ cookie jars

	jarCookies(jar, { omit = [], set = {} } = {}) {
		const j = this.jars.get(jar) ?? new Map();
		const out = [];
		for (const [name, cap] of j) if (!omit.includes(name) && !(name in set)) out.push([name, `{{${cap}}}`]);
		for (const [name, v] of Object.entries(set)) out.push([name, v]);
		return out;
	}

	// ------------------------------------------------ steps

	/**
	 * One exchange. opts: method, path (under /api/auth unless it starts with "/api" or
	 * `rawPath`), title, json | form | raw (body templates), headers (templates; null removes),
	 * origin (default true: Origin: <origin>), jar (send + store cookies), cookies (explicit
	 * [[name, template]] list), store (default true), capture ({name: {otpSentTo: "<email:N>"}}).
	 */
	async ex(title, opts) {
		const method = opts.method ?? "GET";
		const path = opts.rawPath ?? `/api/auth${opts.path}`;
		const headers = {};
		if (opts.origin !== false) headers.origin = "<origin>";
		let body;
		if (opts.json !== undefined) {
			headers["content-type"] = "application/json";
			body = { json: opts.json };
		} else if (opts.form !== undefined) {
			headers["content-type"] = "application/x-www-form-urlencoded";
			body = { form: opts.form };
		} else if (opts.raw !== undefined) body = { raw: opts.raw };
		for (const [k, v] of Object.entries(opts.headers ?? {})) {
			if (v === null) delete headers[k];
			else headers[k.toLowerCase()] = v;
		}
		const cookies = opts.cookies ?? (opts.jar ? this.jarCookies(opts.jar) : []);

		// resolve
		const realHeaders = {};
		for (const [k, v] of Object.entries(headers)) realHeaders[k] = this.resolveString(v);
		if (cookies.length) {
			realHeaders.cookie = cookies.map(([n, v]) => `${n}=${this.resolveString(v)}`).join("; ");
		}
		let realBody;
		if (body?.json !== undefined) realBody = JSON.stringify(await this.resolveValue(body.json));
		else if (body?.form) {
			const pairs = await this.resolveValue(body.form);
			realBody = new URLSearchParams(pairs).toString();
		} else if (body?.raw !== undefined) realBody = await this.resolveValue(body.raw);
		const otpBefore = new Map();
		for (const [, src] of Object.entries(opts.capture ?? {})) {
			if (src.otpSentTo) {
				const email = this.resolveString(src.otpSentTo);
				otpBefore.set(email, (this.env.otpLog.get(email) ?? []).length);
			}
		}

		const res = await rawRequest(this.env.origin, {
			method,
			path: this.resolveString(path),
			headers: realHeaders,
			body: realBody,
		});
		const { response, json } = this.normResponse(res);

		// captures: every cookie a jar receives, plus explicit ones
		const capture = {};
		if (opts.jar && opts.store !== false) {
			const j = this.jars.get(opts.jar) ?? new Map();
			this.jars.set(opts.jar, j);
			for (const line of res.setCookies) {
				const c = parseSetCookie(line);
				if (isDeletion(c)) {
					j.delete(c.name);
					continue;
				}
				const cap = `${opts.jar}.${shortCookieName(c.name)}`;
				capture[cap] = { setCookie: c.name };
				this.captures.set(cap, c.value);
				j.set(c.name, cap);
			}
		}
		for (const [name, src] of Object.entries(opts.capture ?? {})) {
			if (src.otpSentTo) {
				const email = this.resolveString(src.otpSentTo);
				const sent = this.env.otpLog.get(email) ?? [];
				if (sent.length <= otpBefore.get(email)) throw new Error(`${this.name}: no OTP sent to ${email} (${title})`);
				this.captures.set(name, sent[sent.length - 1]);
				capture[name] = src;
			} else if (src.setCookie) {
				const line = [...res.setCookies].reverse().map(parseSetCookie).find((c) => c.name === src.setCookie);
				if (!line) throw new Error(`${this.name}: no Set-Cookie ${src.setCookie} to capture (${title})`);
				this.captures.set(name, line.value);
				capture[name] = src;
			} else throw new Error(`${this.name}: unknown capture source ${JSON.stringify(src)}`);
		}

		const request = { method, path };
		if (Object.keys(headers).length) request.headers = headers;
		if (cookies.length) request.cookies = cookies;
		if (body) request.body = body;
		const step = { n: this.steps.length + 1, title, request, response };
		if (Object.keys(capture).length) step.capture = capture;
		this.steps.push(step);
		this.last = { ...res, json };
		return this.last;
	}

	get(path, opts = {}, title = `GET ${path}`) {
		return this.ex(opts.title ?? title, { ...opts, method: "GET", path });
	}

	post(path, opts = {}) {
		return this.ex(opts.title ?? `POST ${path}`, { ...opts, method: "POST", path });
	}

	/** A database edit (the small vocabulary of DbSteps) between exchanges. */
	async db(action, args, title) {
		const resolved = {};
		for (const [k, v] of Object.entries(args)) resolved[k] = typeof v === "string" ? this.resolveString(v) : v;
		await this.env.db.run(action, resolved);
		this.steps.push({ n: this.steps.length + 1, title, db: action, args });
	}

	/** `{"$compute":"totp"}` for the TOTP secret in a totpURI (binds <totp-secret:N>). */
	totp(totpURIOrSecret, step = "fresh") {
		const m = /secret=([A-Z2-7]+)/.exec(totpURIOrSecret);
		const secret = m ? m[1] : totpURIOrSecret;
		return { $compute: "totp", secret: `<${this.bind("totp-secret", secret)}>`, step };
	}

	totpWrong(totpURI) {
		const { secret } = this.totp(totpURI);
		return { $compute: "totp-wrong", secret };
	}

	toJSON() {
		return { format: 1, scenario: this.name, title: this.title, steps: this.steps };
	}
}
