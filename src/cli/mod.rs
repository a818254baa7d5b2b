//! The command line: kubectl-shaped verbs. Parses, calls the pod layer or the image
//! store, prints. No kernel calls here.

mod apply;
mod apply_apps;
mod apply_duplicates;
mod apply_explain_apps;
mod apps_edit;
mod attach;
mod completion;
mod cp;
mod create;
mod delete;
mod delete_apps;
mod delete_pods;
mod demo;
mod describe;
mod describe_apps;
mod describe_container;
pub mod display;
mod exec;
mod explain;
mod explain_apps;
mod explain_fields;
mod get;
mod get_apps;
mod image;
mod label;
mod label_cells;
mod label_selector;
mod lesson_bundle;
mod lesson_page;
mod logs;
mod namespaces;
mod output;
mod pod_targets;
mod port_forward;
mod rollout;
mod run;
mod scale;
mod set_image;
mod sort_by;
mod top;
mod top_metrics;
mod version;
pub mod views;
mod wait;
mod watch;
mod yaml_out;
#[cfg(test)]
mod yaml_roundtrip_tests;
mod yaml_scalar;

use crate::state::paths::StateRoot;
use anyhow::Result;
use clap::{Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "minipod",
    version,
    about = "A real Kubernetes Pod on one Linux host: an infra process holds the pod's namespaces, containers join it",
    propagate_version = true
)]
pub struct Cli {
    /// Keep every file minipod writes under DIR (DIR/run, DIR/images, DIR/pods, DIR/log);
    /// default: $MINIPOD_ROOT, else the system's directories.
    // MINIPOD_ROOT is read in `run`, not by clap: clap would print `--root <DIR>` in
    // every usage line as if the user had to give it.
    #[arg(long, global = true, value_name = "DIR")]
    pub root: Option<PathBuf>,

    /// The pod network's CNI config directory: its first *.conflist (containerd's
    /// conf_dir; default: minipod's own network in DIR/cni/net.d).
    #[arg(long, global = true, env = "MINIPOD_CNI_CONF_DIR", value_name = "DIR")]
    pub cni_conf_dir: Option<PathBuf>,

    /// Where the CNI plugins are, `:`-separated (containerd's bin_dir; default:
    /// /usr/lib/cni:/opt/cni/bin).
    #[arg(long, global = true, env = "MINIPOD_CNI_BIN_DIR", value_name = "DIRS")]
    pub cni_bin_dir: Option<String>,

    /// Say more about what is being done (repeat for more).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Manage the local image store (load, import, ls, inspect, tag, rm).
    #[command(
        subcommand,
        after_help = "Example:\n  minipod image ls\n  minipod image load -i nginx.oci.tar"
    )]
    Image(image::ImageCommand),

    /// Create pods from manifests, or leave them as they are when unchanged.
    #[command(
        after_help = "Example:\n  minipod apply -f sidecar-pod.yaml --explain\n  minipod apply -f sidecar-pod.yaml --dry-run=server -o yaml"
    )]
    Apply(apply::ApplyArgs),

    /// Create pods from manifests (an existing pod is an error), or a namespace.
    #[command(
        after_help = "Example:\n  minipod create -f two-containers.yaml\n  minipod create namespace team-a"
    )]
    Create(create::CreateArgs),

    /// Replace pods from manifests (--force: delete and create again).
    #[command(after_help = "Example:\n  minipod replace --force -f sidecar-pod.yaml")]
    Replace(apply::ReplaceArgs),

    /// List pods as kubectl does.
    #[command(
        after_help = "Example:\n  minipod get pods -o wide\n  minipod get pod sidecar-pod -o jsonpath='{.metadata.uid}'\n  minipod get pods -w\n  minipod get pods -o custom-columns=NAME:.metadata.name,PHASE:.status.phase"
    )]
    Get(get::GetArgs),

    /// Delete pods: SIGTERM, the grace period, SIGKILL, then every file of the pod.
    #[command(after_help = "Example:\n  minipod delete pod sidecar-pod --grace-period=0 --force")]
    Delete(delete::DeleteArgs),

    /// Show a pod in detail: containers, conditions, volumes and its events.
    #[command(
        after_help = "Example:\n  minipod describe pod sidecar-pod\n  minipod describe -f sidecar-pod.yaml"
    )]
    Describe(describe::DescribeArgs),

    /// Set a Deployment's (ReplicaSet's) number of replicas.
    #[command(after_help = "Example:\n  minipod scale deployment/nginx-deployment --replicas=3")]
    Scale(scale::ScaleArgs),

    /// Change a field of a controller's pod template (`set image`).
    #[command(subcommand)]
    Set(set_image::SetCommand),

    /// Follow, undo, restart, pause and resume a Deployment's rollouts.
    #[command(subcommand)]
    Rollout(rollout::RolloutCommand),

    /// Print a container's logs.
    #[command(
        after_help = "Example:\n  minipod logs sidecar-pod -c log-reader\n  minipod logs sidecar-pod --all-containers --prefix --since 5m -f"
    )]
    Logs(logs::LogsArgs),

    /// Run a command in a running container: it joins all of the container's namespaces.
    #[command(
        after_help = "Example:\n  minipod exec sidecar-pod -c log-reader -- wget -qO- http://localhost/"
    )]
    Exec(exec::ExecArgs),

    /// Attach to a running container's own stdin/stdout (`stdin: true`, `tty: true`).
    #[command(
        after_help = "Example:\n  minipod attach nginx -c shell -i -t\n  echo 'echo hi' | minipod attach nginx -c shell -i"
    )]
    Attach(attach::AttachArgs),

    /// What a pod is made of, read from the kernel (namespaces, volumes, a picture, the
    /// steps); `explain pod.spec.containers`: the field's documentation.
    #[command(
        after_help = "Example:\n  minipod explain pod.spec.containers\n  minipod explain pod sidecar-pod\n  minipod explain pod sidecar-pod -o svg > pod.svg\n  minipod explain pod sidecar-pod --steps\n  minipod explain deployment nginx-deployment"
    )]
    Explain(explain::ExplainArgs),

    /// CPU and memory of pods (kubectl's table); --processes: a pod's process tree.
    #[command(
        after_help = "Example:\n  minipod top pod\n  minipod top pod sidecar-pod --containers\n  minipod top pod sidecar-pod --processes"
    )]
    Top(top::TopArgs),

    /// Present a lesson (built in; docs/lessons in a checkout): show each command, run
    /// it on Enter. Without a name: list the lessons.
    #[command(
        after_help = "Example:\n  minipod demo\n  minipod demo a-shared-network\n  minipod demo docs/lessons/pod-lives-with-infra.md --no-pause"
    )]
    Demo(demo::DemoArgs),

    /// Forward local ports to ports of a pod (inside its network namespace).
    #[command(
        after_help = "Example:\n  minipod port-forward sidecar-pod 8080:80\n  minipod port-forward pod/sidecar-pod --address 0.0.0.0 8080:80"
    )]
    PortForward(port_forward::PortForwardArgs),

    /// Create and run one pod with one container (`--dry-run=client -o yaml`: print it).
    #[command(
        after_help = "Example:\n  minipod run web --image=nginx:1.27\n  minipod run box --image=busybox:1.36 --restart=Never -- sleep 3600\n  minipod run web --image=nginx:1.27 --dry-run=client -o yaml > web.yaml"
    )]
    Run(run::RunArgs),

    /// Add, change (--overwrite) or remove (`KEY-`) a pod's labels.
    #[command(
        after_help = "Example:\n  minipod label pod sidecar-pod tier=web\n  minipod label pod sidecar-pod tier=db --overwrite\n  minipod label pod sidecar-pod tier-"
    )]
    Label(label::LabelArgs),

    /// Add, change (--overwrite) or remove (`KEY-`) a pod's annotations.
    #[command(
        after_help = "Example:\n  minipod annotate pod sidecar-pod description='the seed'\n  minipod annotate pod sidecar-pod description-"
    )]
    Annotate(label::LabelArgs),

    /// Wait until pods meet a condition (Ready, deleted, a jsonpath value).
    #[command(
        after_help = "Example:\n  minipod wait --for=condition=Ready pod/sidecar-pod --timeout=60s\n  minipod wait --for=delete pod/sidecar-pod\n  minipod wait --for=jsonpath='{.status.phase}'=Running pod/sidecar-pod"
    )]
    Wait(wait::WaitArgs),

    /// Copy files and directories to and from a container (tar runs in the container).
    #[command(
        after_help = "Example:\n  minipod cp ./index.html sidecar-pod:/usr/share/nginx/html/index.html -c nginx\n  minipod cp sidecar-pod:/var/log/nginx ./nginx-logs -c nginx"
    )]
    Cp(cp::CpArgs),

    /// Print the client and server versions.
    #[command(after_help = "Example:\n  minipod version")]
    Version(version::VersionArgs),

    /// Print the kinds of objects minipod serves.
    #[command(after_help = "Example:\n  minipod api-resources")]
    ApiResources(version::ApiResourcesArgs),

    /// Print a shell completion script.
    #[command(
        after_help = "Example:\n  source <(minipod completion bash)\n  minipod completion zsh > \"${fpath[1]}/_minipod\""
    )]
    Completion(completion::CompletionArgs),

    /// The controllers of Deployments, ReplicaSets and DaemonSets (started on demand).
    #[command(hide = true)]
    ControllerManager,
}

/// Global settings every verb needs.
pub struct Context {
    pub state: StateRoot,
    pub verbose: u8,
}

/// Prints a line on standard output, and goes on when nobody reads it any more
/// (`| head -1`): for verbs that change state, whose work must finish either way.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

/// `outln!` for standard error.
macro_rules! errln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}
pub(crate) use {errln, outln};

/// Verbs that only read and print end like kubectl when their reader goes away
/// (`minipod get pods | head -1`): killed by SIGPIPE, quietly. Rust starts every
/// program with SIGPIPE ignored, which turns such a write into a panic.
///
/// Only these verbs: `port-forward` and `exec` (which copy bytes between sockets and
/// pipes), `demo` (which runs commands), and the verbs that change state (apply,
/// delete, image load...) keep ignoring it: their work must not stop half-done because a reader
/// went away; they print with `outln!`, which drops what nobody reads.
fn restore_sigpipe_for_readers(command: &Command) {
    let reader = match command {
        Command::Get(_)
        | Command::Describe(_)
        | Command::Logs(_)
        | Command::Explain(_)
        | Command::Top(_)
        | Command::Completion(_)
        | Command::Version(_)
        | Command::ApiResources(_) => true,
        Command::Image(cmd) => cmd.only_reads(),
        _ => false,
    };
    if reader {
        // SAFETY: signal(2) with SIG_DFL installs no handler; nothing else runs yet.
        unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    }
}

/// `--root DIR`, else `$MINIPOD_ROOT` when set and not empty.
fn root_dir(flag: Option<PathBuf>) -> Option<PathBuf> {
    flag.or_else(|| {
        std::env::var_os("MINIPOD_ROOT")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    })
}

/// Parse the command line and run the verb; the returned number is the exit code.
pub fn run() -> Result<i32> {
    let cli = Cli::parse();
    restore_sigpipe_for_readers(&cli.command);
    let ctx = Context {
        state: StateRoot::new(root_dir(cli.root).as_deref())
            .with_cni_dirs(cli.cni_conf_dir, cli.cni_bin_dir),
        verbose: cli.verbose,
    };
    // The controller manager runs whenever a controller object exists: any command
    // starts it again if it died.
    if !matches!(cli.command, Command::ControllerManager) {
        if let Err(e) = crate::controllers::manager::ensure_running(&ctx.state) {
            errln!("warning: {e:#}");
        }
    }
    match cli.command {
        Command::Image(cmd) => image::run(&ctx, cmd),
        Command::Apply(args) => apply::run(&ctx, &args, apply::Verb::Apply),
        Command::Create(args) => create::run(&ctx, &args),
        Command::Replace(args) => apply::run(
            &ctx,
            &args.apply,
            apply::Verb::Replace { force: args.force },
        ),
        Command::Get(args) => get::run(&ctx, &args),
        Command::Delete(args) => delete::run(&ctx, &args),
        Command::Scale(args) => scale::run(&ctx, &args),
        Command::Set(cmd) => set_image::run(&ctx, &cmd),
        Command::Rollout(cmd) => rollout::run(&ctx, &cmd),
        Command::Describe(args) => describe::run(&ctx, &args),
        Command::Logs(args) => logs::run(&ctx, &args),
        Command::Exec(args) => exec::run(&ctx, &args),
        Command::Attach(args) => attach::run(&ctx, &args),
        Command::Explain(args) => explain::run(&ctx, &args),
        Command::Top(args) => top::run(&ctx, &args),
        Command::Demo(args) => demo::run(&ctx, &args),
        Command::Completion(args) => completion::run(&args),
        Command::Run(args) => run::run(&ctx, &args),
        Command::Label(args) => label::run(&ctx, &args, label::Field::Labels),
        Command::Annotate(args) => label::run(&ctx, &args, label::Field::Annotations),
        Command::Wait(args) => wait::run(&ctx, &args),
        Command::Cp(args) => cp::run(&ctx, &args),
        Command::Version(args) => version::version(&args),
        Command::ApiResources(args) => version::api_resources(&args),
        Command::ControllerManager => crate::controllers::manager::run(&ctx.state),
        Command::PortForward(args) => port_forward::run(&ctx, &args),
    }
}
