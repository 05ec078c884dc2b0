//! The examples' last steps: a graceful shutdown on SIGINT or SIGTERM (up to 10 s), the
//! `listening on` line, and waiting until the server has stopped.

use std::io::{self, Write};
use std::time::Duration;

/// Watches for signals, says where `running` listens (`scheme://addr`), and waits for it;
/// a shutdown on a signal returns `Ok`. The signals are watched before the line is
/// printed: a signal sent as soon as it is read must find them.
pub fn until_signalled(running: nethttp::Running, scheme: &str) -> io::Result<()> {
    nethttp::shutdown_on_signals(running.handle(), Duration::from_secs(10))?;
    let mut stdout = io::stdout();
    writeln!(stdout, "listening on {scheme}://{}", running.local_addr())?;
    stdout.flush()?;
    match running.wait() {
        Err(e) if nethttp::is_server_closed(&e) => Ok(()),
        other => other,
    }
}
