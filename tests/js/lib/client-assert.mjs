// Assertions on the official client's `{ data, error }` results, shared by the JS suites.

import assert from "node:assert/strict";

/** The `data` of a successful client call; fails with the error body otherwise. */
export function ok({ data, error }, what = "call") {
	assert.equal(error, null, `${what} failed: ${JSON.stringify(error)}`);
	return data;
}

/** The client's `error` has exactly this status, code and message. */
export function assertClientError(error, status, code, message) {
	assert.ok(error, "expected an error");
	assert.equal(error.status, status, `status (error: ${JSON.stringify(error)})`);
	assert.equal(error.code, code);
	assert.equal(error.message, message);
}
