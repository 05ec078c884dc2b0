//! Tokens (RFC 9110 §5.6.2): what field names, methods, cookie names and media-type
//! parameters are made of.

/// A byte a token may hold: a letter, a digit, or one of ``!#$%&'*+-.^_`|~``.
pub(crate) fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// `s` is a token: not empty, and every byte a token byte.
pub(crate) fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(is_token_byte)
}
