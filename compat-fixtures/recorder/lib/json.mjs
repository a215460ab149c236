// Readable, diff-friendly JSON: a value goes on one line when it fits in WIDTH columns,
// otherwise its members go one per line (two-space indent).

const WIDTH = 110;

export function formatJson(value, indent = "") {
	const flat = JSON.stringify(value);
	if (flat === undefined) throw new Error("cannot format undefined");
	if (value === null || typeof value !== "object" || indent.length + flat.length <= WIDTH) return flat;
	const inner = `${indent}  `;
	if (Array.isArray(value)) {
		if (value.length === 0) return "[]";
		return `[\n${value.map((v) => inner + formatJson(v, inner)).join(",\n")}\n${indent}]`;
	}
	const entries = Object.entries(value).filter(([, v]) => v !== undefined);
	if (entries.length === 0) return "{}";
	return `{\n${entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${formatJson(v, inner)}`).join(",\n")}\n${indent}}`;
}
