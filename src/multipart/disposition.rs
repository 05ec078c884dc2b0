//! The parameters of a `Content-Type` or `Content-Disposition` value (RFC 2045, RFC 2183,
//! RFC 7578), as Go's `mime.ParseMediaType` reads them: `type/subtype; name=value;
//! name="quoted \" value"`, names in any case, and RFC 2231's `name*=UTF-8''%xx` for
//! non-ASCII file names.

use crate::token::is_token_byte;

/// The boundary of a `multipart/form-data` content type: `Err(true)` if it is one
/// without a valid boundary, `Err(false)` if it is not one.
pub(crate) fn boundary(content_type: &str) -> Result<String, bool> {
    let (kind, params) = media_type(content_type).ok_or(false)?;
    if kind != "multipart/form-data" {
        return Err(false);
    }
    param(&params, "boundary")
        .filter(|b| !b.is_empty() && b.len() <= 70)
        .ok_or(true)
}

/// The `name` of a `form-data` disposition (Go's `FormName`).
pub(super) fn form_name(disposition: &str) -> Option<String> {
    let (kind, params) = media_type(disposition)?;
    if kind != "form-data" {
        return None;
    }
    param(&params, "name")
}

/// The `filename` of a disposition, without directories (Go's `FileName`, which passes it
/// through `filepath.Base`); `None` if absent or empty.
pub(super) fn file_name(disposition: &str) -> Option<String> {
    let (_, params) = media_type(disposition)?;
    let name = param(&params, "filename").filter(|n| !n.is_empty())?;
    let trimmed = name.trim_end_matches('/');
    if trimmed.is_empty() {
        return Some("/".to_string());
    }
    Some(trimmed.rsplit('/').next().unwrap_or(trimmed).to_string())
}

fn param(params: &[(String, String)], name: &str) -> Option<String> {
    let (_, value) = params.iter().rev().find(|(n, _)| n == name)?;
    Some(value.clone())
}

/// The lower-cased type and the parameters, names lower-cased; `None` if malformed.
fn media_type(value: &str) -> Option<(String, Vec<(String, String)>)> {
    let (kind, mut rest) = value.split_once(';').unwrap_or((value, ""));
    let kind = kind.trim().to_ascii_lowercase();
    if kind.is_empty() || !kind.bytes().all(|b| is_token_byte(b) || b == b'/') {
        return None;
    }
    let mut params = Vec::new();
    loop {
        rest = rest.trim_start_matches([' ', '\t', ';']);
        if rest.is_empty() {
            return Some((kind, params));
        }
        let (name, after) = rest.split_once('=')?;
        let name = name.trim().to_ascii_lowercase();
        if name.is_empty() || !name.bytes().all(is_token_byte) {
            return None;
        }
        let after = after.trim_start();
        let (value, tail) = match after.strip_prefix('"') {
            Some(quoted) => unquote(quoted)?,
            None => {
                let end = after.find([';', ' ', '\t']).unwrap_or(after.len());
                (after[..end].to_string(), &after[end..])
            }
        };
        match name.strip_suffix('*') {
            Some(plain) => params.push((plain.to_string(), extended(&value)?)),
            None => params.push((name, value)),
        }
        rest = tail;
    }
}

/// A quoted string's content (after its opening quote), and what follows its closing one.
fn unquote(s: &str) -> Option<(String, &str)> {
    let mut out = String::new();
    let mut chars = s.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((out, &s[i + 1..])),
            '\\' => out.push(chars.next()?.1),
            c => out.push(c),
        }
    }
    None // no closing quote
}

/// An RFC 2231 extended value: `charset'language'percent-encoded` (UTF-8 or ASCII).
fn extended(value: &str) -> Option<String> {
    let mut fields = value.splitn(3, '\'');
    let charset = fields.next()?.to_ascii_lowercase();
    let _language = fields.next()?;
    let encoded = fields.next()?;
    if charset != "utf-8" && charset != "us-ascii" {
        return None;
    }
    let mut bytes = Vec::new();
    let mut iter = encoded.bytes();
    while let Some(b) = iter.next() {
        if b == b'%' {
            let hex = [iter.next()?, iter.next()?];
            bytes.push(u8::from_str_radix(std::str::from_utf8(&hex).ok()?, 16).ok()?);
        } else {
            bytes.push(b);
        }
    }
    String::from_utf8(bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_dispositions_as_go_does() {
        let d = r#"form-data; name="field 1"; filename="C:/dir/a \"b\".txt""#;
        assert_eq!(form_name(d).as_deref(), Some("field 1"));
        assert_eq!(file_name(d).as_deref(), Some("a \"b\".txt"));
        assert_eq!(form_name("attachment; name=x"), None);
        assert_eq!(file_name("form-data; name=x"), None);
        assert_eq!(file_name("form-data; name=x; filename=\"\""), None);
        assert_eq!(file_name("form-data; filename=dir/"), Some("dir".into()));
        let utf8 = "form-data; name=f; filename*=UTF-8''%E2%82%AC%20rates.txt";
        assert_eq!(file_name(utf8).as_deref(), Some("€ rates.txt"));
        assert_eq!(form_name("FORM-DATA; NAME=up"), Some("up".into()));
        assert_eq!(form_name(r#"form-data; name="unterminated"#), None);
    }

    #[test]
    fn finds_the_boundary() {
        assert_eq!(
            boundary("multipart/form-data; boundary=----abc").as_deref(),
            Ok("----abc")
        );
        assert_eq!(
            boundary("Multipart/Form-Data; charset=x; boundary=\"a b\"").as_deref(),
            Ok("a b")
        );
        assert_eq!(boundary("multipart/mixed; boundary=x"), Err(false));
        assert_eq!(boundary("multipart/form-data"), Err(true));
        assert_eq!(boundary("multipart/form-data; boundary="), Err(true));
        assert_eq!(boundary("text/plain"), Err(false));
    }
}
