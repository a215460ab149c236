#!/usr/bin/env node
// Writes compat-fixtures/error-codes.json: Better Auth's error-code tables as the installed package
// (pinned in package.json) exports them. crates/protocol/tests/upstream_codes.rs checks ErrorCode
// against this file. Re-run after upgrading better-auth: node tests/js/dump-error-codes.mjs
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { BASE_ERROR_CODES } from "@better-auth/core/error";
import { TWO_FACTOR_ERROR_CODES } from "better-auth/plugins/two-factor";
import { USERNAME_ERROR_CODES } from "better-auth/plugins/username";

const here = dirname(fileURLToPath(import.meta.url));
const pkg = JSON.parse(readFileSync(join(here, "node_modules/better-auth/package.json"), "utf8"));
const table = (codes) =>
	Object.fromEntries(Object.entries(codes).map(([k, v]) => [k, typeof v === "string" ? v : v.message]));
const out = {
	betterAuthVersion: pkg.version,
	core: table(BASE_ERROR_CODES),
	twoFactor: table(TWO_FACTOR_ERROR_CODES),
	username: table(USERNAME_ERROR_CODES),
};
const target = join(here, "../../compat-fixtures/error-codes.json");
writeFileSync(target, `${JSON.stringify(out, null, 2)}\n`);
console.log(`wrote ${target}`);
