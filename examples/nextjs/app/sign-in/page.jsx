"use client";
import Link from "next/link";
import { useState } from "react";
import { FormError } from "@/app/FormError";
import { authClient, errorText } from "@/lib/auth-client";

export default function SignInPage() {
	const [error, setError] = useState(null);
	const [pending, setPending] = useState(false);

	async function onSubmit(event) {
		event.preventDefault();
		const form = new FormData(event.currentTarget);
		setPending(true);
		setError(null);
		const { data, error } = await authClient.signIn.email({
			email: String(form.get("email")),
			password: String(form.get("password")),
			rememberMe: form.get("rememberMe") === "on",
		});
		if (error) {
			setPending(false);
			return setError(errorText(error));
		}
		// With two-factor on, the client's onTwoFactorRedirect (lib/auth-client.js) has already
		// sent the browser to /two-factor; there is no session yet.
		if (data?.twoFactorRedirect) return;
		window.location.assign("/dashboard");
	}

	return (
		<section className="card">
			<h1>Sign in</h1>
			<form onSubmit={onSubmit}>
				<label>
					Email
					<input name="email" type="email" autoComplete="username" required />
				</label>
				<label>
					Password
					<input name="password" type="password" autoComplete="current-password" required />
				</label>
				<label className="inline">
					<input name="rememberMe" type="checkbox" defaultChecked /> Keep me signed in
				</label>
				{error && <FormError>{error}</FormError>}
				<button type="submit" disabled={pending}>
					{pending ? "Signing in…" : "Sign in"}
				</button>
			</form>
			<p className="muted">
				New here? <Link href="/sign-up">Create an account</Link>
			</p>
		</section>
	);
}
