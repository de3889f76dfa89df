//! Who is on the other end. The host application signs short-lived tokens for its users and
//! operators; livehelp verifies them and trusts nothing else a browser says about identity.

mod claims;
mod join;
mod principal;
mod signer;
mod verifier;

pub use claims::{Claims, TokenKind};
pub use join::{JOIN_AUDIENCE, JoinClaims};
pub use principal::{Operator, Principal, Staff, User, is_operator_privilege};
pub use signer::TokenSigner;
pub use verifier::{AuthError, TokenVerifier};

/// The audience every livehelp token names.
pub const AUDIENCE: &str = "livehelp";
