//! `minipod`: the kubectl-shaped CLI (and, started as `minipod-runc`, runc's command
//! line). The layers are in the library (`src/lib.rs`).

fn main() {
    // A runtime stage (a re-executed sealed copy of minipod) is no CLI invocation.
    if let Some(code) = minipod::run_if_stage() {
        std::process::exit(code);
    }
    // Started as `minipod-runc` (a link to this binary): runc's command line.
    if minipod::invoked_as_runc() {
        std::process::exit(minipod::runc_main());
    }
    let code = match minipod::cli_main() {
        Ok(code) => code,
        Err(err) => {
            // One clear line: what was being done, to what, and why it failed.
            eprintln!("error: {err:#}");
            1
        }
    };
    std::process::exit(code);
}
