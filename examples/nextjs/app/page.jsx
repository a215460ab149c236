import Link from "next/link";
import { redirect } from "next/navigation";
import { getServerSession } from "@/lib/session";

export const dynamic = "force-dynamic";

export default async function Home() {
	if (await getServerSession()) redirect("/dashboard");
	return (
		<section className="card">
			<h1>Welcome to Acme</h1>
			<p className="muted">Accounts are protected by Portcullis, with optional two-factor authentication.</p>
			<div className="row">
				<Link href="/sign-in">Sign in</Link>
				<Link href="/sign-up">Create an account</Link>
			</div>
		</section>
	);
}
