// The app talks to Portcullis through its own origin (app/api/auth/[...all]/route.js), so the
// session cookies Portcullis sets are first-party cookies of this app.
/** @type {import('next').NextConfig} */
const nextConfig = {
	reactStrictMode: true,
	poweredByHeader: false,
};

export default nextConfig;
