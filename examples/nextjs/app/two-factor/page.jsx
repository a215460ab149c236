"use client";
// The challenge after a password sign-in answered { twoFactorRedirect: true }. The pending
// sign-in lives in Better Auth's two_factor cookie; a verified code turns it into a session.
import Link from "next/link";
import { useState } from "react";
import { FormError } from "@/app/FormError";
import { authClient, errorText } from "@/lib/auth-client";

const METHODS = {
	totp: {
		title: "Enter the code from your authenticator app",
		label: "Authentication code",
		hint: "6-digit code",
		autoComplete: "one-time-code",
	},
	otp: {
		title: "Enter the code we emailed you",
		label: "Emailed code",
		hint: "6-digit code",
		autoComplete: "one-time-code",
	},
	backup: {
		title: "Enter one of your backup codes",
		label: "Backup code",
		hint: "e.g. AbCde-12345",
		autoComplete: "off",
	},
};

export default function TwoFactorPage() {
	const [method, setMethod] = useState("totp");
	const [error, setError] = useState(null);
	const [notice, setNotice] = useState(null);
	const [pending, setPending] = useState(false);
	const m = METHODS[method];

	function choose(next) {
		setMethod(next);
		setError(null);
		setNotice(null);
	}

	async function emailMeACode() {
		setPending(true);
		setError(null);
		const { error } = await authClient.twoFactor.sendOtp();
		setPending(false);
		if (error) return setError(expiredOr(error));
		choose("otp");
		setNotice("We sent a code to your email address. It is valid for 3 minutes.");
	}

	async function onSubmit(event) {
		event.preventDefault();
		const form = new FormData(event.currentTarget);
		const code = String(form.get("code")).trim();
		const trustDevice = form.get("trustDevice") === "on";
		setPending(true);
		setError(null);
		const verify = {
			totp: () => authClient.twoFactor.verifyTotp({ code, trustDevice }),
			otp: () => authClient.twoFactor.verifyOtp({ code, trustDevice }),
			backup: () => authClient.twoFactor.verifyBackupCode({ code, trustDevice }),
		}[method];
		const { error } = await verify();
		if (error) {
			setPending(false);
			return setError(expiredOr(error));
		}
		window.location.assign("/dashboard");
	}

	return (
		<section className="card">
			<h1>Two-factor authentication</h1>
			<h2>{m.title}</h2>
			{notice && (
				<p role="status" className="success">
					{notice}
				</p>
			)}
			<form onSubmit={onSubmit} key={method}>
				<label>
					{m.label}
					<input
						name="code"
						type="text"
						inputMode={method === "backup" ? "text" : "numeric"}
						autoComplete={m.autoComplete}
						placeholder={m.hint}
						autoFocus
						required
					/>
				</label>
				<label className="inline">
					<input name="trustDevice" type="checkbox" /> Trust this device for 30 days
				</label>
				{error && <FormError>{error}</FormError>}
				<button type="submit" disabled={pending}>
					Verify
				</button>
			</form>
			<div className="row" style={{ marginTop: "1rem" }}>
				{method !== "totp" && (
					<button type="button" className="link" onClick={() => choose("totp")}>
						Use my authenticator app
					</button>
				)}
				{method !== "backup" && (
					<button type="button" className="link" onClick={() => choose("backup")}>
						Use a backup code
					</button>
				)}
				<button type="button" className="link" onClick={emailMeACode} disabled={pending}>
					{method === "otp" ? "Email me a new code" : "Email me a code"}
				</button>
			</div>
		</section>
	);
}

/** A missing or expired pending sign-in cannot be verified any more: say so plainly. */
function expiredOr(error) {
	if (error.code === "INVALID_TWO_FACTOR_COOKIE") {
		return (
			<>
				This sign-in has expired. <Link href="/sign-in">Sign in again</Link>.
			</>
		);
	}
	return errorText(error);
}
