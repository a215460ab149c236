import Link from "next/link";
import "./globals.css";

export const metadata = {
	title: "Acme — signed in with Portcullis",
	description: "A Next.js app on the Better Auth React client, served by Portcullis.",
};

export default function RootLayout({ children }) {
	return (
		<html lang="en">
			<body>
				<header className="topbar">
					<Link href="/" className="brand">
						Acme
					</Link>
					<nav aria-label="Main">
						<Link href="/dashboard">Dashboard</Link>
						<Link href="/settings/security">Security</Link>
					</nav>
				</header>
				<main id="main">{children}</main>
			</body>
		</html>
	);
}
