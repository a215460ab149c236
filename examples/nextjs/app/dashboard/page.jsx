// A protected page rendered on the server: the session is read from Portcullis with the
// browser's cookies (lib/session.js); without one the visitor is sent to /sign-in.
import Link from "next/link";
import { SignOutButton } from "@/app/SignOutButton";
import { requireSession } from "@/lib/session";

export const dynamic = "force-dynamic";

export default async function Dashboard() {
	const { user, session } = await requireSession();
	return (
		<section className="card">
			<h1>Dashboard</h1>
			<p data-testid="welcome">
				Signed in as <strong>{user.name}</strong> ({user.email})
			</p>
			<p>
				Two-factor authentication:{" "}
				<span className={`badge ${user.twoFactorEnabled ? "on" : ""}`} data-testid="two-factor-status">
					{user.twoFactorEnabled ? "on" : "off"}
				</span>{" "}
				<Link href="/settings/security">Manage</Link>
			</p>
			<p className="muted">This session expires {new Date(session.expiresAt).toUTCString()}.</p>
			<SignOutButton />
		</section>
	);
}
