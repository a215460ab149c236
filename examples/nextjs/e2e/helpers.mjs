// The authenticator side of TOTP, shared with the JS compatibility suites (node:crypto only).
export { hotp, parseOtpauth, totpStep } from "../../../tests/js/lib/totp.mjs";
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
