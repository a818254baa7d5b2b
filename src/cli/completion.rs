//! `completion bash|zsh|fish`: the shell completion script, generated from the same
//! clap definitions the verbs use (so it never lags behind them).

use super::Cli;
use anyhow::Result;
use clap::{Args, CommandFactory};
use clap_complete::Shell;

#[derive(Args, Debug)]
pub struct CompletionArgs {
    /// bash, zsh, fish (also elvish, powershell).
    pub shell: Shell,
}

pub fn run(args: &CompletionArgs) -> Result<i32> {
    let mut cmd = Cli::command();
    clap_complete::generate(args.shell, &mut cmd, "minipod", &mut std::io::stdout());
    Ok(0)
}
