import { requireSession } from "@/lib/session";
import { SecuritySettings } from "./SecuritySettings";

export const dynamic = "force-dynamic";

export const metadata = { title: "Security settings — Acme" };

export default async function SecurityPage() {
	const { user, session } = await requireSession();
	return <SecuritySettings twoFactorEnabled={Boolean(user.twoFactorEnabled)} currentToken={session.token} />;
}
