//! The command line of the examples that take one optional argument, an address.

/// The one optional argument, ADDR (else `default`): `--help` prints `usage` and exits 0;
/// anything else is refused with it on stderr (exit status 2).
pub fn addr_arg(usage: &str, default: &str) -> String {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "-h" || a == "--help") {
        println!("{usage}");
        std::process::exit(0);
    }
    match args.as_slice() {
        [] => default.to_string(),
        [addr] if !addr.starts_with('-') => addr.clone(),
        _ => {
            eprintln!("{usage}");
            std::process::exit(2);
        }
    }
}
