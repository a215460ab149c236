// The authenticator side of TOTP (RFC 6238 over RFC 4226 HOTP, HMAC-SHA-1), as the 2FA suites
// need it: decode the base32 secret of an otpauth:// URI and compute the code of a time step.
// Dependency-free (node:crypto only), so compat-fixtures/recorder/lib/fixture.mjs imports it
// by relative path too.

import { createHmac } from "node:crypto";

/** RFC 4648 base32 (padding optional, case-insensitive) → bytes. */
export function base32Decode(s) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	let bits = 0;
	let value = 0;
	const out = [];
	for (const ch of s.replace(/=+$/, "").toUpperCase()) {
		const i = alphabet.indexOf(ch);
		if (i === -1) throw new Error(`bad base32 character ${ch} in ${s}`);
		value = (value << 5) | i;
		bits += 5;
		if (bits >= 8) {
			out.push((value >>> (bits - 8)) & 0xff);
			bits -= 8;
		}
	}
	return Buffer.from(out);
}

/** HOTP (RFC 4226, SHA-1): the `digits`-digit code for `counter` (a TOTP time step). */
export function hotp(key, counter, digits = 6) {
	const msg = Buffer.alloc(8);
	msg.writeBigUInt64BE(BigInt(counter));
	const mac = createHmac("sha1", key).update(msg).digest();
	const offset = mac[mac.length - 1] & 0x0f;
	const bin = mac.readUInt32BE(offset) & 0x7fffffff;
	return String(bin % 10 ** digits).padStart(digits, "0");
}

/** The current TOTP time step for a `period`-second window. */
export const totpStep = (period = 30) => Math.floor(Date.now() / 1000 / period);

/** key, digits and period of an otpauth://totp/… URI (RFC 6238 defaults: 6 digits, 30 s). */
export function parseOtpauth(totpURI) {
	const u = new URL(totpURI);
	return {
		key: base32Decode(u.searchParams.get("secret")),
		digits: Number(u.searchParams.get("digits") ?? 6),
		period: Number(u.searchParams.get("period") ?? 30),
	};
}
