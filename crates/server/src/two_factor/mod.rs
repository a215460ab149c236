//! Better Auth's `twoFactor` plugin (better-auth: dist/plugins/two-factor/**): TOTP, email/SMS
//! OTP, backup codes, trusted devices, account lockout, and the sign-in gate — plus what Better
//! Auth leaves open: TOTP replay protection, atomic single-use backup codes, constant-time
//! comparisons everywhere.

pub mod delivery;
pub mod gate;
pub mod routes;
pub mod verify;
