//! Security primitives: password hashing, random tokens, origin checks.

pub mod backup_codes;
pub mod origin;
pub mod otp;
pub mod password;
pub mod secrets;
pub mod symmetric;
pub mod tokens;
pub mod totp;
