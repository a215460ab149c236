// The soak runner's third-party modules, resolved from tests/js (whose package.json pins them and
// whose node_modules `npm ci` fills): ESM resolution would otherwise look in tests/soak.

import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";

const fromJs = createRequire(new URL("../js/package.json", import.meta.url));
const load = (specifier) => import(pathToFileURL(fromJs.resolve(specifier)).href);

export const { createAuthClient } = await load("better-auth/client");
export const { twoFactorClient } = await load("better-auth/client/plugins");
export const { symmetricDecrypt, symmetricEncrypt, parseEnvelope } = await load("better-auth/crypto");
export const pg = (await load("pg")).default;
export const mysql = (await load("mysql2/promise")).default;
export const Sqlite = (await load("better-sqlite3")).default;
