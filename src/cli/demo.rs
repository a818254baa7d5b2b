//! `demo LESSON`: present a lesson page live. Each command is shown, run (after Enter,
//! unless `--no-pause`) with `sh`, and its output printed. `--check` compares each
//! output with the one the page shows and fails on the first difference: that is how
//! the test suite keeps the lessons true.

use super::lesson_page::{self, Part};
use super::Context;
use anyhow::{bail, Context as _, Result};
use clap::Args;
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// A lesson page: a path, or a lesson's name (`a-shared-network`, or `a`); none:
    /// list the lessons.
    pub lesson: Option<String>,
    /// Run every step without waiting for Enter.
    #[arg(long)]
    pub no_pause: bool,
    /// Compare each output with the page's and fail on the first difference.
    #[arg(long)]
    pub check: bool,
}

/// Commands that only look: when their output does not match yet (a pod still
/// starting, a container not yet killed), they are run again for a while.
const LOOKING: &[&str] = &[
    "minipod get ",
    "minipod logs ",
    "minipod explain ",
    "minipod top ",
    "ls ",
    "cat ",
];
const SETTLE: Duration = Duration::from_secs(30);

/// Where the default state root keeps its persistent files, as pages write it.
const DEFAULT_LIB: &str = "/var/lib/minipod";

pub fn run(ctx: &Context, args: &DemoArgs) -> Result<i32> {
    let Some(lesson) = &args.lesson else {
        list_lessons();
        return Ok(0);
    };
    // In a checkout the pages on disk; else (an installed minipod) the bundled ones,
    // written to a directory of their own where the page's commands run.
    let (path, bundle) = match find_lesson(lesson, Path::new("docs/lessons")) {
        Ok(path) => (path, None),
        Err(on_disk) => {
            let Some(page) = bundled_page(lesson) else {
                return Err(on_disk);
            };
            let bundle = Bundle::write()?;
            (bundle.dir.join(page), Some(bundle))
        }
    };
    let page =
        std::fs::read_to_string(&path).with_context(|| format!("read {}", path.display()))?;
    let shell = Shell::new(ctx, bundle.as_ref().map(|b| b.dir.clone()))?;
    for part in lesson_page::parse(&page) {
        match part {
            Part::Text(text) => {
                if !args.check {
                    println!("{text}\n");
                }
            }
            Part::Command { line, expected } => {
                show_command(&line);
                if !args.no_pause {
                    pause()?;
                }
                let mut output = shell.run(&line)?;
                if args.check && !lesson_page::matches(&expected, &output) {
                    let looking = LOOKING.iter().any(|p| line.starts_with(p));
                    let until = Instant::now() + SETTLE;
                    while looking && Instant::now() < until {
                        std::thread::sleep(Duration::from_millis(300));
                        output = shell.run(&line)?;
                        if lesson_page::matches(&expected, &output) {
                            break;
                        }
                    }
                    if !lesson_page::matches(&expected, &output) {
                        print!("{output}");
                        eprintln!(
                            "\n{}: `{line}` printed the output above; the page shows:\n{}",
                            path.display(),
                            expected.join("\n")
                        );
                        return Ok(1);
                    }
                }
                print!("{output}");
                println!();
            }
        }
    }
    Ok(0)
}

/// The bundled lessons' pages (`docs/lessons/a-shared-network.md`, ...).
fn bundled_pages() -> Vec<&'static str> {
    super::lesson_bundle::FILES
        .iter()
        .map(|(path, _)| *path)
        .filter(|p| {
            p.strip_prefix("docs/lessons/")
                .is_some_and(|f| f.ends_with(".md") && !f.contains('/') && f != "README.md")
        })
        .collect()
}

/// The bundled page NAME names: `a-shared-network`, its file name, or the one page
/// whose name starts with NAME.
fn bundled_page(name: &str) -> Option<&'static str> {
    let pages = bundled_pages();
    let file = |p: &&str| p.rsplit('/').next().unwrap_or(p).to_string();
    let found: Vec<&str> = pages
        .iter()
        .filter(|p| {
            let f = file(p);
            f == name || f == format!("{name}.md") || f.starts_with(name)
        })
        .copied()
        .collect();
    match found.as_slice() {
        [one] => Some(one),
        _ => pages
            .iter()
            .find(|p| file(p) == format!("{name}.md"))
            .copied(),
    }
}

/// `demo` alone: each lesson's name and title.
fn list_lessons() {
    println!("Lessons (run one with: minipod demo NAME, e.g. minipod demo a):");
    let mut rows = Vec::new();
    for page in bundled_pages() {
        let name = page
            .rsplit('/')
            .next()
            .unwrap_or(page)
            .trim_end_matches(".md");
        let title = super::lesson_bundle::file(page)
            .and_then(|text| text.lines().next())
            .map(|line| line.trim_start_matches('#').trim().to_string())
            .unwrap_or_default();
        rows.push(vec![format!("  {name}"), title]);
    }
    super::get::print_columns(&rows);
}

/// The bundled lessons written out (pages, their manifests, the seed's sidecar), in
/// a directory removed when the demo ends.
struct Bundle {
    dir: PathBuf,
}

impl Bundle {
    fn write() -> Result<Bundle> {
        let dir = std::env::temp_dir().join(format!("minipod-lessons-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        for (path, text) in super::lesson_bundle::FILES {
            let file = dir.join(path);
            if let Some(parent) = file.parent() {
                std::fs::create_dir_all(parent)
                    .with_context(|| format!("create {}", parent.display()))?;
            }
            std::fs::write(&file, text).with_context(|| format!("write {}", file.display()))?;
        }
        Ok(Bundle { dir })
    }
}

impl Drop for Bundle {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The lesson file: a path, `DIR/NAME.md`, or the one page in DIR whose name starts
/// with NAME.
fn find_lesson(name: &str, dir: &Path) -> Result<PathBuf> {
    let direct = PathBuf::from(name);
    if direct.is_file() {
        return Ok(direct);
    }
    let exact = dir.join(format!("{name}.md"));
    if exact.is_file() {
        return Ok(exact);
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("no lesson {name}: list {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension().is_some_and(|e| e == "md")
                && p.file_name()
                    .and_then(|f| f.to_str())
                    .is_some_and(|f| f.starts_with(name) && f != "README.md")
        })
        .collect();
    found.sort();
    match found.as_slice() {
        [one] => Ok(one.clone()),
        [] => bail!("no lesson \"{name}\" in {}", dir.display()),
        many => bail!("\"{name}\" names several lessons: {many:?}"),
    }
}

/// The command as a prompt line, bold on a terminal.
fn show_command(line: &str) {
    if std::io::stdout().is_terminal() {
        println!("\x1b[1m$ {line}\x1b[0m");
    } else {
        println!("$ {line}");
    }
}

/// Wait for Enter (the prompt only on a terminal, where Enter also ends its line).
fn pause() -> Result<()> {
    if std::io::stdout().is_terminal() {
        print!("\x1b[2m(Enter to run)\x1b[0m");
        std::io::stdout().flush().context("write to the terminal")?;
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("read Enter")?;
    Ok(())
}

/// Runs a page's commands the way a student types them: `minipod` is this very
/// binary, and with `--root DIR` the page's `/var/lib/minipod` is DIR.
struct Shell {
    path: String,
    root: Option<PathBuf>,
    /// Where the commands run (the bundled lessons' directory), else here.
    cwd: Option<PathBuf>,
}

impl Shell {
    fn new(ctx: &Context, cwd: Option<PathBuf>) -> Result<Shell> {
        let exe = std::env::current_exe().context("find the minipod binary")?;
        let dir = exe
            .parent()
            .context("the minipod binary has no directory")?
            .display()
            .to_string();
        let path = match std::env::var("PATH") {
            Ok(old) => format!("{dir}:{old}"),
            Err(_) => dir,
        };
        Ok(Shell {
            path,
            root: ctx.state.root.clone(),
            cwd,
        })
    }

    /// Run one command line; its output (stdout and stderr, as a terminal shows them).
    fn run(&self, line: &str) -> Result<String> {
        let mut command = std::process::Command::new("sh");
        command.env("PATH", &self.path);
        if let Some(dir) = &self.cwd {
            command.current_dir(dir);
        }
        let line = match &self.root {
            Some(root) => {
                command.env("MINIPOD_ROOT", root);
                line.replace(DEFAULT_LIB, &root.display().to_string())
            }
            None => line.to_string(),
        };
        let out = command
            .arg("-c")
            .arg(format!("exec 2>&1\n{line}"))
            .stdin(std::process::Stdio::null())
            .output()
            .with_context(|| format!("run sh -c {line:?}"))?;
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        Ok(match &self.root {
            Some(root) => text.replace(&root.display().to_string(), DEFAULT_LIB),
            None => text,
        })
    }
}
