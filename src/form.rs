//! What a handler reads from a request besides its head and raw body: the query
//! ([`Request::query`]), URL-encoded forms ([`Request::parse_form`], [`Request::form_value`])
//! and Basic credentials ([`Request::basic_auth`]), with Go's semantics.

use std::fmt;
use std::io::{self, Read};

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine;
use http::Method;

use crate::query::{parse_query, Forms, QueryError, Values};
use crate::request::Request;

/// Most bytes of a URL-encoded body [`Request::parse_form`] reads (Go's 10 MB), unless a
/// [`max_bytes`](crate::max_bytes) limit is set on the body, which then applies instead.
pub const MAX_FORM_BYTES: u64 = 10 << 20;

/// Go's standard base64 decoding: padding required, trailing bits ignored.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::RequireCanonical),
);

/// No values: what [`Request::form`] shows before the form is parsed.
static EMPTY: Values = Values::new();

/// Why [`Request::parse_form`] could not read the whole form. What it could read is kept.
#[derive(Debug)]
pub enum FormError {
    /// The body is larger than [`MAX_FORM_BYTES`] (Go's "http: POST too large").
    TooLarge,
    /// The body or the query holds a malformed pair (see [`QueryError`]).
    Malformed(QueryError),
    /// Reading the body failed (the client went away, or a `max_bytes` limit was passed).
    Read(io::Error),
}

impl fmt::Display for FormError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FormError::TooLarge => f.write_str("http: POST too large"),
            FormError::Malformed(e) => e.fmt(f),
            FormError::Read(e) => write!(f, "reading the form body: {e}"),
        }
    }
}

impl std::error::Error for FormError {}

impl Request {
    /// The decoded query parameters, in order (Go's `r.URL.Query()`); malformed pairs are
    /// skipped. [`parse_query`]`(r.uri().query())` says what was wrong with them.
    pub fn query(&self) -> Values {
        let query = self.uri().query().unwrap_or("");
        parse_query(query).unwrap_or_else(QueryError::into_values)
    }

    /// The first value of the query parameter `name`, decoded.
    pub fn query_value(&self, name: &str) -> Option<String> {
        self.query().get(name).map(str::to_owned)
    }

    /// Parses the query and, for `POST`, `PUT` and `PATCH` with an
    /// `application/x-www-form-urlencoded` body, the body (Go's `ParseForm`); then
    /// [`form`](Request::form) holds the body's values followed by the query's, and
    /// [`post_form`](Request::post_form) the body's alone. The body is read whole, up to
    /// [`MAX_FORM_BYTES`]. Calling it again does nothing.
    ///
    /// ```
    /// use std::io::Write;
    /// use nethttp::{Request, ResponseWriter};
    ///
    /// fn greet(w: &mut ResponseWriter, r: &mut Request) {
    ///     if let Err(e) = r.parse_form() {
    ///         return nethttp::error(w, &e.to_string(), nethttp::http::StatusCode::BAD_REQUEST);
    ///     }
    ///     let name = r.form().get("name").unwrap_or("stranger");
    ///     let _ = write!(w, "hello, {name}");
    /// }
    /// ```
    pub fn parse_form(&mut self) -> Result<(), FormError> {
        if self.forms.is_some() {
            return Ok(());
        }
        let mut problem = None;
        let post_form = match self.method {
            Method::POST | Method::PUT | Method::PATCH => self.read_post_form(),
            _ => Ok(Values::new()),
        }
        .unwrap_or_else(|(values, e)| {
            problem = Some(e);
            values
        });
        let mut form = post_form.clone();
        form.extend(
            &parse_query(self.uri().query().unwrap_or("")).unwrap_or_else(|e| {
                problem.get_or_insert(FormError::Malformed(e.clone()));
                e.into_values()
            }),
        );
        self.forms = Some(Box::new(Forms { form, post_form }));
        problem.map_or(Ok(()), Err)
    }

    /// The form's values once [`parse_form`](Request::parse_form) has run (Go's `r.Form`):
    /// the body's, then the query's. Empty before.
    pub fn form(&self) -> &Values {
        self.forms.as_ref().map_or(&EMPTY, |forms| &forms.form)
    }

    /// The body's form values once [`parse_form`](Request::parse_form) has run (Go's
    /// `r.PostForm`). Empty before.
    pub fn post_form(&self) -> &Values {
        self.forms.as_ref().map_or(&EMPTY, |forms| &forms.post_form)
    }

    /// The first value of `name` in the form, body before query, parsing it first if need
    /// be (Go's `FormValue`; a form that cannot be parsed whole gives what it could).
    pub fn form_value(&mut self, name: &str) -> Option<&str> {
        let _ = self.parse_form();
        self.form().get(name)
    }

    /// The first value of `name` in the body's form, parsing it first if need be (Go's
    /// `PostFormValue`).
    pub fn post_form_value(&mut self, name: &str) -> Option<&str> {
        let _ = self.parse_form();
        self.post_form().get(name)
    }

    /// The user name and password of an `Authorization: Basic` field (Go's `BasicAuth`);
    /// `None` if there is none or it is malformed.
    pub fn basic_auth(&self) -> Option<(String, String)> {
        parse_basic_auth(self.raw_header("authorization")?)
    }

    /// The values of a URL-encoded body (Go's `parsePostForm`); other bodies have none.
    fn read_post_form(&mut self) -> Result<Values, (Values, FormError)> {
        let content_type = self.raw_header("content-type").unwrap_or(b"");
        let media_type = content_type.split(|&b| b == b';').next().unwrap_or(b"");
        if !media_type
            .trim_ascii()
            .eq_ignore_ascii_case(b"application/x-www-form-urlencoded")
        {
            return Ok(Values::new());
        }
        let limit = match self.body.limit {
            Some(_) => u64::MAX, // the `max_bytes` limit decides
            None => MAX_FORM_BYTES,
        };
        let mut bytes = Vec::new();
        let read = self
            .body()
            .take(limit.saturating_add(1))
            .read_to_end(&mut bytes);
        if let Err(e) = read {
            return Err((Values::new(), FormError::Read(e)));
        }
        if bytes.len() as u64 > limit {
            return Err((Values::new(), FormError::TooLarge));
        }
        parse_query(&String::from_utf8_lossy(&bytes))
            .map_err(|e| (e.values().clone(), FormError::Malformed(e)))
    }
}

/// The user name and password of an `Authorization` value `Basic <base64 of user:password>`
/// (Go's `parseBasicAuth`): the scheme in any case, standard base64 with its padding.
pub(crate) fn parse_basic_auth(auth: &[u8]) -> Option<(String, String)> {
    let (scheme, credentials) = auth.split_at_checked(6)?;
    if !scheme.eq_ignore_ascii_case(b"Basic ") {
        return None;
    }
    let decoded = BASE64.decode(credentials).ok()?;
    let text = String::from_utf8_lossy(&decoded);
    let (user, password) = text.split_once(':')?;
    Some((user.to_string(), password.to_string()))
}
