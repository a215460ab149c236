// Reading the session on the server (server components): the browser's cookies are passed to
// Portcullis's GET /api/auth/get-session, as Better Auth's `auth.api.getSession({ headers })` would.
import { headers } from "next/headers";
import { redirect } from "next/navigation";
import { PORTCULLIS_URL } from "./portcullis";

/** { session, user } or null. */
export async function getServerSession() {
	const cookie = (await headers()).get("cookie");
	if (!cookie) return null;
	const res = await fetch(`${PORTCULLIS_URL}/api/auth/get-session`, {
		headers: { cookie },
		cache: "no-store",
	});
	if (!res.ok) return null;
	return res.json();
}

/** The session, or a redirect to the sign-in page. */
export async function requireSession() {
	const session = await getServerSession();
	if (!session) redirect("/sign-in");
	return session;
}
