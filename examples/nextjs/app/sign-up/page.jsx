"use client";
import Link from "next/link";
import { useState } from "react";
import { FormError } from "@/app/FormError";
import { authClient, errorText } from "@/lib/auth-client";

export default function SignUpPage() {
	const [error, setError] = useState(null);
	const [pending, setPending] = useState(false);

	async function onSubmit(event) {
		event.preventDefault();
		const form = new FormData(event.currentTarget);
		setPending(true);
		setError(null);
		const { error } = await authClient.signUp.email({
			name: String(form.get("name")),
			email: String(form.get("email")),
			password: String(form.get("password")),
		});
		setPending(false);
		if (error) return setError(errorText(error));
		window.location.assign("/dashboard");
	}

	return (
		<section className="card">
			<h1>Create an account</h1>
			<form onSubmit={onSubmit}>
				<label>
					Name
					<input name="name" type="text" autoComplete="name" required />
				</label>
				<label>
					Email
					<input name="email" type="email" autoComplete="email" required />
				</label>
				<label>
					Password
					<input name="password" type="password" autoComplete="new-password" minLength={8} required />
				</label>
				{error && <FormError>{error}</FormError>}
				<button type="submit" disabled={pending}>
					{pending ? "Creating…" : "Create account"}
				</button>
			</form>
			<p className="muted">
				Already have an account? <Link href="/sign-in">Sign in</Link>
			</p>
		</section>
	);
}
