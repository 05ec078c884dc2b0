//! What a handler reads from a request besides its head and raw body: the query
//! ([`Request::query`]), URL-encoded forms ([`Request::parse_form`], [`Request::form_value`])
//! and Basic credentials ([`Request::basic_auth`]), with Go's semantics.

use std::fmt;
use std::io::{self, Read};

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine;
use http::Method;

use crate::multipart::{self, FileHeader, Multipart, MultipartError, MultipartForm};
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

/// What [`Request::form_value`] and [`Request::form_file`] let a multipart form keep in
/// memory before files go to disk (Go's `defaultMaxMemory`, 32 MB).
pub const DEFAULT_MULTIPART_MEMORY: u64 = 32 << 20;

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
        self.forms = Some(Box::new(Forms {
            form,
            post_form,
            multipart: None,
        }));
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

    /// The first value of `name` in the form, parsing it first if need be, a multipart one
    /// included (Go's `FormValue`; a form that cannot be parsed whole gives what it could).
    /// A URL-encoded body's values come before the query's; a multipart body's after them,
    /// as in Go.
    pub fn form_value(&mut self, name: &str) -> Option<&str> {
        self.parse_any_form();
        self.form().get(name)
    }

    /// The first value of `name` in the body's form, parsing it first if need be (Go's
    /// `PostFormValue`).
    pub fn post_form_value(&mut self, name: &str) -> Option<&str> {
        self.parse_any_form();
        self.post_form().get(name)
    }

    /// The body as a stream of `multipart/form-data` parts (Go's `MultipartReader`). For a
    /// blocking handler, each part's bytes are read from the client as the handler reads
    /// them. Refused if the request is not `multipart/form-data`, or has no `boundary`.
    pub fn multipart_reader(&mut self) -> Result<Multipart<&mut crate::Body>, MultipartError> {
        let content_type = self.raw_header("content-type").unwrap_or(b"");
        let boundary = multipart::boundary(&String::from_utf8_lossy(content_type)).map_err(
            |is_multipart| match is_multipart {
                true => MultipartError::MissingBoundary,
                false => MultipartError::NotMultipart,
            },
        )?;
        Ok(Multipart::new(self.body(), &boundary))
    }

    /// Reads a `multipart/form-data` body whole (Go's `ParseMultipartForm`): field values
    /// join [`form`](Request::form) and [`post_form`](Request::post_form), and files are
    /// kept in memory up to `max_memory` bytes in all, the rest in temporary files, which
    /// go with the request. [`parse_form`](Request::parse_form) runs first. Calling it again
    /// does nothing.
    pub fn parse_multipart_form(&mut self, max_memory: u64) -> Result<(), MultipartError> {
        let form_problem = self.parse_form().err();
        if self.multipart_form().is_some() {
            return Ok(());
        }
        let multipart = read_multipart(self, max_memory)?;
        let forms = self.forms.get_or_insert_with(Default::default);
        for (name, value) in &multipart.values {
            forms.form.add(name.clone(), value.clone());
            forms.post_form.add(name.clone(), value.clone());
        }
        forms.multipart = Some(multipart);
        match form_problem {
            Some(e) => Err(MultipartError::Malformed(form_error_text(&e))),
            None => Ok(()),
        }
    }

    /// The multipart form, once [`parse_multipart_form`](Request::parse_multipart_form)
    /// has read it (Go's `r.MultipartForm`).
    pub fn multipart_form(&self) -> Option<&MultipartForm> {
        self.forms.as_ref()?.multipart.as_ref()
    }

    /// The first file uploaded as `name`, reading the multipart form first if need be,
    /// with [`DEFAULT_MULTIPART_MEMORY`] (Go's `FormFile`).
    pub fn form_file(&mut self, name: &str) -> Option<&FileHeader> {
        if self.multipart_form().is_none() {
            let _ = self.parse_multipart_form(DEFAULT_MULTIPART_MEMORY);
        }
        self.multipart_form()?.file(name)
    }

    /// What `form_value` parses: a multipart form if the body is one, else the form.
    fn parse_any_form(&mut self) {
        if self.multipart_form().is_none() {
            let _ = self.parse_multipart_form(DEFAULT_MULTIPART_MEMORY);
        }
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

/// Reads `r`'s multipart body whole.
fn read_multipart(r: &mut Request, max_memory: u64) -> Result<MultipartForm, MultipartError> {
    let mut reader = r.multipart_reader()?;
    multipart::read_form(&mut reader, max_memory)
}

/// The text of a form error, for the multipart error that reports it.
fn form_error_text(e: &FormError) -> &'static str {
    match e {
        FormError::TooLarge => "form too large",
        FormError::Malformed(_) => "malformed query",
        FormError::Read(_) => "reading the form failed",
    }
}
