//! Telling systemd how the service stands (`sd_notify`): `READY=1` once the server
//! serves, `STOPPING=1` when it begins to stop, and `WATCHDOG=1` pings when the unit asks
//! for them (`WatchdogSec=`). Without `NOTIFY_SOCKET` in the environment (not under
//! systemd, or a unit that is not `Type=notify`) nothing is sent.

use std::io;
use std::os::unix::net::UnixDatagram;
use std::time::Duration;

/// Sends `state` (`READY=1`, `STOPPING=1`, `STATUS=...`, newline-separated) to systemd's
/// notification socket. Returns `Ok(false)` if there is none (`NOTIFY_SOCKET` unset).
/// The server sends `READY=1` and `STOPPING=1` itself.
///
/// ```
/// // Outside systemd this does nothing.
/// nethttp::sd_notify("STATUS=warming the cache").unwrap();
/// ```
pub fn sd_notify(state: &str) -> io::Result<bool> {
    let Some(path) = std::env::var_os("NOTIFY_SOCKET") else {
        return Ok(false);
    };
    let socket = UnixDatagram::unbound()?;
    let bytes = path.as_encoded_bytes();
    if let Some(name) = bytes.strip_prefix(b"@") {
        // An abstract socket (Linux): the name follows a NUL byte.
        use std::os::linux::net::SocketAddrExt;
        let addr = std::os::unix::net::SocketAddr::from_abstract_name(name)?;
        socket.send_to_addr(state.as_bytes(), &addr)?;
    } else {
        socket.send_to(state.as_bytes(), &path)?;
    }
    Ok(true)
}

/// How often the unit wants `WATCHDOG=1` (half its `WATCHDOG_USEC`, as `sd_watchdog_enabled`
/// advises), if it wants it from this process (`WATCHDOG_PID` unset or this process).
pub(crate) fn watchdog_interval() -> Option<Duration> {
    if let Ok(pid) = std::env::var("WATCHDOG_PID") {
        if pid != std::process::id().to_string() {
            return None;
        }
    }
    let usec: u64 = std::env::var("WATCHDOG_USEC").ok()?.parse().ok()?;
    (usec > 0).then(|| Duration::from_micros(usec / 2))
}

/// Sends `state`, logging (not returning) a failure: the server goes on either way.
pub(crate) fn notify(state: &str) {
    if let Err(e) = sd_notify(state) {
        log::warn!("sd_notify {state}: {e}");
    }
}
