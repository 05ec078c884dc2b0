//! [`access_log`]: one line per response through `log`, in the Combined Log Format that
//! web servers write (and log tools read), followed by the microseconds the response took.
//!
//! ```text
//! 203.0.113.7 - ada [05/Dec/2026:10:52:42 +0000] "GET /files/a.txt HTTP/1.1" 200 1043 "-" "curl/8.5.0" 412
//! ```
//!
//! The address is [`Request::client_addr`](crate::Request::client_addr) (the real client
//! behind trusted proxies), the user is the Basic-auth user if any, the byte count is the
//! body's (`-` for none). The line is written when the response ends, at level `info` with
//! the target `nethttp::access`, so a logger can send it elsewhere than diagnostics.

use std::fmt::Write as _;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use http::{HeaderMap, StatusCode};

use crate::filter::Filter;
use crate::handler::{wrap, Handler, Wrap};
use crate::request::Request;
use crate::response::ResponseWriter;

/// The `log` target of access lines.
pub const ACCESS_LOG_TARGET: &str = "nethttp::access";

/// Wraps `next` so that every response it writes is logged (see the module's docs).
/// Blocking routes stay blocking.
///
/// ```no_run
/// use nethttp::{access_log, ServeMux, Server};
///
/// let mux = ServeMux::new();
/// Server::new(access_log(mux)).listen_and_serve()?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn access_log<H: Handler>(
    next: H,
) -> Wrap<H, impl Fn(&mut ResponseWriter, &mut Request, &H) + Send + Sync + 'static> {
    wrap(next, |w: &mut ResponseWriter, r: &mut Request, next: &H| {
        w.add_filter(Entry::new(r));
        next.serve_http(w, r);
    })
}

/// One response's line, completed as the response goes out.
struct Entry {
    /// Everything up to the request line's closing quote.
    start: String,
    /// The `"referer" "user-agent"` part.
    end: String,
    status: u16,
    bytes: u64,
    began: Instant,
}

impl Entry {
    fn new(r: &Request) -> Entry {
        let user = r.basic_auth().map(|(user, _)| user);
        let mut start = format!("{} - ", r.client_addr());
        quote_free(&mut start, user.as_deref().unwrap_or("-"));
        let _ = write!(start, " [{}] \"", clf_time(SystemTime::now()));
        quote_free(
            &mut start,
            &format!("{} {} {:?}", r.method(), r.request_uri(), r.version()),
        );
        start.push('"');
        let field = |name: &str| r.headers().get(name).map(|v| v.as_bytes().to_vec());
        let mut end = String::from("\"");
        escape(&mut end, field("referer").as_deref().unwrap_or(b"-"));
        end.push_str("\" \"");
        escape(&mut end, field("user-agent").as_deref().unwrap_or(b"-"));
        end.push('"');
        Entry {
            start,
            end,
            status: 0,
            bytes: 0,
            began: Instant::now(),
        }
    }
}

impl Filter for Entry {
    fn head(&mut self, status: &mut StatusCode, _: &mut HeaderMap, _: Option<u64>) {
        self.status = status.as_u16();
    }

    fn body(&mut self, bytes: &[u8], out: &mut Vec<u8>) {
        self.bytes += bytes.len() as u64;
        out.extend_from_slice(bytes);
    }

    fn end(&mut self, _out: &mut Vec<u8>) {
        let micros = self.began.elapsed().as_micros();
        let (start, end, status) = (&self.start, &self.end, self.status);
        let bytes = match self.bytes {
            0 => "-".to_string(),
            n => n.to_string(),
        };
        log::info!(target: ACCESS_LOG_TARGET, "{start} {status} {bytes} {end} {micros}");
    }
}

/// Appends `text` with quotes and control characters escaped.
fn quote_free(out: &mut String, text: &str) {
    escape(out, text.as_bytes());
}

/// Appends `bytes` as printable ASCII: `"` and `\` escaped, anything else outside the
/// printable range as `\xNN`, so a client cannot forge a line or a field.
fn escape(out: &mut String, bytes: &[u8]) {
    for &b in bytes {
        match b {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            0x20..=0x7e => out.push(char::from(b)),
            _ => {
                let _ = write!(out, "\\x{b:02x}");
            }
        }
    }
}

/// `05/Dec/2026:10:52:42 +0000`: the Common Log Format's time, in UTC.
fn clf_time(now: SystemTime) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let secs = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(days as i64);
    let (h, m, s) = (rest / 3600, rest % 3600 / 60, rest % 60);
    let month = MONTHS[(month - 1) as usize];
    format!("{day:02}/{month}/{year}:{h:02}:{m:02}:{s:02} +0000")
}

/// The calendar date of a count of days since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn times_are_written_as_the_common_log_format_writes_them() {
        let at = |secs| clf_time(UNIX_EPOCH + Duration::from_secs(secs));
        assert_eq!(at(0), "01/Jan/1970:00:00:00 +0000");
        assert_eq!(at(951_782_400), "29/Feb/2000:00:00:00 +0000");
        assert_eq!(at(1_796_467_962), "05/Dec/2026:10:52:42 +0000");
    }

    #[test]
    fn fields_cannot_forge_a_line() {
        let mut out = String::new();
        escape(&mut out, b"evil\" \"x\nGET /\\");
        assert_eq!(out, "evil\\\" \\\"x\\x0aGET /\\\\");
    }
}
