"use client";
// The Better Auth React client, exactly as an app on a Node Better Auth server would create it.
// No baseURL: it talks to this app's own origin (/api/auth/*), which forwards to Portcullis.
import { twoFactorClient } from "better-auth/client/plugins";
import { createAuthClient } from "better-auth/react";

export const authClient = createAuthClient({
	plugins: [
		twoFactorClient({
			// Sign-in answered { twoFactorRedirect: true }: no session yet, the second factor is due.
			onTwoFactorRedirect() {
				window.location.assign("/two-factor");
			},
		}),
	],
});

/** A Better Auth error ({ code, message, status }) as one line for the user. */
export function errorText(error, fallback = "Something went wrong. Please try again.") {
	if (!error) return fallback;
	if (error.status === 429) return "Too many attempts. Wait a moment and try again.";
	return error.message || error.statusText || fallback;
}
