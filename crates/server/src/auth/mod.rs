//! Security primitives: password hashing, random tokens, origin checks.

pub mod origin;
pub mod password;
pub mod tokens;
