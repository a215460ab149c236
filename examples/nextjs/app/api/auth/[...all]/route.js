// Same-origin proxy: every /api/auth/* request of the browser is forwarded to Portcullis
// unchanged (method, path, query, body, cookies, Origin), and its answer comes back unchanged
// (status, every Set-Cookie line, Location). Portcullis is configured with this app's public URL
// as BETTER_AUTH_URL, so its origin checks and cookies apply to this origin.
//
// A route handler rather than a `rewrites()` entry so that PORTCULLIS_URL is read when the server
// starts, not frozen into the build.
import { PORTCULLIS_URL } from "@/lib/portcullis";

export const dynamic = "force-dynamic";

// Hop-by-hop and transport headers are the proxy's own business (RFC 9110 §7.6.1); fetch
// decodes compressed bodies, so the encoding and length of the upstream answer no longer apply.
const DROP = new Set([
	"connection",
	"keep-alive",
	"proxy-connection",
	"transfer-encoding",
	"upgrade",
	"te",
	"trailer",
	"host",
	"content-length",
	"content-encoding",
	"accept-encoding",
]);

async function forward(request) {
	const url = new URL(request.url);
	const target = `${PORTCULLIS_URL}${url.pathname}${url.search}`;
	const headers = new Headers();
	for (const [name, value] of request.headers) {
		if (!DROP.has(name)) headers.set(name, value);
	}
	const hasBody = request.method !== "GET" && request.method !== "HEAD";
	let upstream;
	try {
		upstream = await fetch(target, {
			method: request.method,
			headers,
			body: hasBody ? await request.arrayBuffer() : undefined,
			redirect: "manual",
			cache: "no-store",
		});
	} catch {
		return Response.json(
			{ code: "AUTH_SERVER_UNAVAILABLE", message: "The sign-in service is unavailable. Try again shortly." },
			{ status: 503 },
		);
	}
	const out = new Headers();
	for (const [name, value] of upstream.headers) {
		if (!DROP.has(name) && name !== "set-cookie") out.set(name, value);
	}
	for (const cookie of upstream.headers.getSetCookie()) out.append("set-cookie", cookie);
	const body = request.method === "HEAD" ? null : await upstream.arrayBuffer();
	return new Response(body, { status: upstream.status, statusText: upstream.statusText, headers: out });
}

export { forward as GET, forward as POST };
