"use client";
// Security settings: two-factor enrolment (password → QR code + secret → confirm with a code →
// backup codes shown once), backup-code regeneration, disabling, and the session list.
import { QRCodeSVG } from "qrcode.react";
import { useCallback, useEffect, useState } from "react";
import { FormError } from "@/app/FormError";
import { authClient, errorText } from "@/lib/auth-client";

export function SecuritySettings({ twoFactorEnabled, currentToken }) {
	return (
		<>
			<h1>Security</h1>
			<TwoFactorCard enabled={twoFactorEnabled} />
			<SessionsCard currentToken={currentToken} />
		</>
	);
}

function TwoFactorCard({ enabled }) {
	// idle → scan (QR shown, waiting for the first code) → codes (backup codes shown once)
	const [step, setStep] = useState("idle");
	const [enrolment, setEnrolment] = useState(null);
	const [codes, setCodes] = useState(null);

	if (step === "scan") {
		return (
			<ScanStep
				totpURI={enrolment.totpURI}
				onConfirmed={() => {
					setCodes(enrolment.backupCodes);
					setStep("codes");
				}}
			/>
		);
	}
	if (step === "codes") {
		return (
			<section className="card" aria-labelledby="codes-title">
				<h2 id="codes-title">Save your backup codes</h2>
				<p>
					Each code signs you in once if you lose your authenticator. They are shown only now: store them
					somewhere safe.
				</p>
				<BackupCodes codes={codes} />
				<button type="button" onClick={() => window.location.reload()}>
					I have saved my backup codes
				</button>
			</section>
		);
	}
	return (
		<section className="card" aria-labelledby="tf-title">
			<h2 id="tf-title">
				Two-factor authentication{" "}
				<span className={`badge ${enabled ? "on" : ""}`} data-testid="two-factor-status">
					{enabled ? "on" : "off"}
				</span>
			</h2>
			{enabled ? (
				<>
					<PasswordAction
						id="regenerate"
						title="Backup codes"
						description="New backup codes replace all unused ones."
						button="Generate new backup codes"
						run={(password) => authClient.twoFactor.generateBackupCodes({ password })}
						onDone={(data) => {
							setCodes(data.backupCodes);
							setStep("codes");
						}}
					/>
					<PasswordAction
						id="disable"
						title="Turn two-factor off"
						description="Signing in will need only your password."
						button="Turn off two-factor authentication"
						danger
						run={(password) => authClient.twoFactor.disable({ password })}
						onDone={() => window.location.reload()}
					/>
				</>
			) : (
				<PasswordAction
					id="enable"
					title="Authenticator app"
					description="Protect your account with an authenticator app (Google Authenticator, 1Password, …)."
					button="Set up two-factor authentication"
					run={(password) => authClient.twoFactor.enable({ password })}
					onDone={(data) => {
						setEnrolment(data);
						setStep("scan");
					}}
				/>
			)}
		</section>
	);
}

/** A password-confirmed action: one password field, one button, errors inline. */
function PasswordAction({ id, title, description, button, danger = false, run, onDone }) {
	const [error, setError] = useState(null);
	const [pending, setPending] = useState(false);
	async function onSubmit(event) {
		event.preventDefault();
		const password = String(new FormData(event.currentTarget).get("password"));
		setPending(true);
		setError(null);
		const { data, error } = await run(password);
		setPending(false);
		if (error) return setError(errorText(error));
		onDone(data);
	}
	return (
		<form onSubmit={onSubmit} aria-labelledby={`${id}-title`} style={{ marginBottom: "1.5rem" }}>
			<h3 id={`${id}-title`} style={{ margin: 0, fontSize: "1rem" }}>
				{title}
			</h3>
			<p className="muted" style={{ margin: 0 }}>
				{description}
			</p>
			<label>
				Current password
				<input name="password" type="password" autoComplete="current-password" required data-testid={`${id}-password`} />
			</label>
			{error && <FormError>{error}</FormError>}
			<button type="submit" className={danger ? "danger" : undefined} disabled={pending}>
				{button}
			</button>
		</form>
	);
}

function ScanStep({ totpURI, onConfirmed }) {
	const [error, setError] = useState(null);
	const [pending, setPending] = useState(false);
	const secret = new URL(totpURI).searchParams.get("secret") ?? "";
	async function onSubmit(event) {
		event.preventDefault();
		const code = String(new FormData(event.currentTarget).get("code")).trim();
		setPending(true);
		setError(null);
		// Signed in, with two-factor not yet on: a valid code turns it on (Better Auth's enrolment).
		const { error } = await authClient.twoFactor.verifyTotp({ code });
		setPending(false);
		if (error) return setError(errorText(error));
		onConfirmed();
	}
	return (
		<section className="card" aria-labelledby="scan-title">
			<h2 id="scan-title">Scan this QR code with your authenticator app</h2>
			<div className="qr" data-testid="totp-qr">
				<QRCodeSVG value={totpURI} size={208} marginSize={4} title="QR code for your authenticator app" />
			</div>
			<p>
				Can&apos;t scan it? Enter this key instead:
				<br />
				<code className="secret" data-testid="totp-secret">
					{secret.replace(/(.{4})/g, "$1 ").trim()}
				</code>
			</p>
			<form onSubmit={onSubmit}>
				<label>
					Code from the app
					<input name="code" type="text" inputMode="numeric" autoComplete="one-time-code" required />
				</label>
				{error && <FormError>{error}</FormError>}
				<button type="submit" disabled={pending}>
					Confirm and turn on
				</button>
			</form>
		</section>
	);
}

function BackupCodes({ codes }) {
	const [copied, setCopied] = useState(false);
	const text = `${codes.join("\n")}\n`;
	function download() {
		const url = URL.createObjectURL(new Blob([text], { type: "text/plain" }));
		const a = document.createElement("a");
		a.href = url;
		a.download = "acme-backup-codes.txt";
		a.click();
		setTimeout(() => URL.revokeObjectURL(url), 10_000);
	}
	return (
		<>
			<ul className="codes" data-testid="backup-codes">
				{codes.map((code) => (
					<li key={code}>{code}</li>
				))}
			</ul>
			<div className="row" style={{ marginBottom: "1rem" }}>
				<button
					type="button"
					className="secondary"
					onClick={async () => {
						await navigator.clipboard.writeText(text);
						setCopied(true);
					}}
				>
					{copied ? "Copied" : "Copy"}
				</button>
				<button type="button" className="secondary" onClick={download}>
					Download
				</button>
			</div>
		</>
	);
}

function SessionsCard({ currentToken }) {
	const [sessions, setSessions] = useState(null);
	const [error, setError] = useState(null);
	const load = useCallback(async () => {
		const { data, error } = await authClient.listSessions();
		if (error) return setError(errorText(error));
		setSessions(data);
	}, []);
	useEffect(() => {
		load();
	}, [load]);

	async function revoke(token) {
		const { error } = await authClient.revokeSession({ token });
		if (error) return setError(errorText(error));
		if (token === currentToken) return window.location.assign("/sign-in");
		load();
	}

	return (
		<section className="card" aria-labelledby="sessions-title">
			<h2 id="sessions-title">Where you are signed in</h2>
			{error && <FormError>{error}</FormError>}
			{!sessions ? (
				<p className="muted">Loading…</p>
			) : (
				<table data-testid="sessions">
					<thead>
						<tr>
							<th scope="col">Device</th>
							<th scope="col">IP address</th>
							<th scope="col">Signed in</th>
							<th scope="col">
								<span className="visually-hidden">Actions</span>
							</th>
						</tr>
					</thead>
					<tbody>
						{sessions.map((s) => (
							<tr key={s.id}>
								<td>
									{describeAgent(s.userAgent)}
									{s.token === currentToken && <span className="badge on"> this device</span>}
								</td>
								<td>{s.ipAddress || "—"}</td>
								<td>{new Date(s.createdAt).toLocaleString()}</td>
								<td>
									<button type="button" className="secondary" onClick={() => revoke(s.token)}>
										{s.token === currentToken ? "Sign out" : "Revoke"}
									</button>
								</td>
							</tr>
						))}
					</tbody>
				</table>
			)}
		</section>
	);
}

function describeAgent(ua) {
	if (!ua) return "Unknown device";
	const browser = /Firefox\//.test(ua) ? "Firefox" : /Edg\//.test(ua) ? "Edge" : /Chrome\//.test(ua) ? "Chrome" : /Safari\//.test(ua) ? "Safari" : "Browser";
	const os = /Windows/.test(ua) ? "Windows" : /Mac OS X/.test(ua) ? "macOS" : /Android/.test(ua) ? "Android" : /Linux/.test(ua) ? "Linux" : "";
	return os ? `${browser} on ${os}` : browser;
}
