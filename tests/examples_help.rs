//! Every example answers `--help` with its usage (exit 0), and a bad argument with the
//! usage on stderr (exit status 2).

use std::path::PathBuf;
use std::process::Command;

const EXAMPLES: &[&str] = &[
    #[cfg(feature = "websocket")]
    "chat",
    "connect_proxy",
    "hello",
    "echo",
    "fileserver",
    "stream",
    "graceful",
    "trace",
    "middleware",
    "soak",
    "flood",
];

/// The example's binary, built first if missing (as after `cargo test --test examples_help`).
fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    let dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target dir");
    let path = dir.join("examples").join(name);
    if !path.exists() {
        let status = Command::new(env!("CARGO"))
            .args(["build", "--all-features", "--example", name])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .expect("cargo build");
        assert!(status.success(), "building example {name}");
    }
    path
}

#[test]
fn every_example_prints_its_usage_on_help_and_refuses_a_bad_argument() {
    for &name in EXAMPLES {
        let help = Command::new(example(name))
            .arg("--help")
            .output()
            .expect(name);
        let text = String::from_utf8_lossy(&help.stdout);
        assert!(help.status.success(), "{name} --help: {:?}", help.status);
        assert!(
            text.starts_with("usage: "),
            "{name} --help printed {text:?}"
        );
        let bad = Command::new(example(name))
            .arg("--no-such-flag")
            .output()
            .expect(name);
        assert_eq!(bad.status.code(), Some(2), "{name} --no-such-flag");
        assert!(
            String::from_utf8_lossy(&bad.stderr).contains("usage: "),
            "{name}"
        );
    }
}
