//! Stand-ins for the small test servers the Kubernetes documentation's examples run
//! (`agnhost`, `goproxy`, `http-echo`, `hello-app`, `node-hello`): one static
//! multi-call program that answers as each page describes, so the tutorials run
//! offline. It picks its part from the name it was started as (`/agnhost`,
//! `/http-echo`, ...) or, started as `minipod-standin`, from its first argument.
//! The images that hold it say they are stand-ins (label `minipod.image.note`).
//!
//! Only std: it is built with `rustc -C target-feature=+crt-static` by
//! `scripts/build-images.sh` and must run in an image with no libc.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

const SIGINT: i32 = 2;
const SIGTERM: i32 = 15;

extern "C" {
    fn signal(signum: i32, handler: usize) -> usize;
    fn _exit(status: i32) -> !;
}

extern "C" fn stop(_signal: i32) {
    // SAFETY: _exit is async-signal-safe and takes no pointers.
    unsafe { _exit(0) }
}

/// As PID 1 of its container the kernel drops SIGTERM unless a handler is set: the
/// originals exit on it, so `kubectl delete` does not wait out the grace period.
fn exit_on_term() {
    let handler = stop as extern "C" fn(i32) as usize;
    // SAFETY: installs a handler that only calls the async-signal-safe _exit.
    unsafe {
        signal(SIGTERM, handler);
        signal(SIGINT, handler);
    }
}

/// One parsed HTTP request: the path and the query string.
struct Request {
    path: String,
    query: String,
}

type Handler = dyn Fn(&Request) -> (u16, String) + Send + Sync;

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        404 => "Not Found",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        _ => "",
    }
}

fn read_request(stream: &TcpStream) -> Option<Request> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let target = line.split_whitespace().nth(1)?.to_string();
    // Headers up to the blank line; bodies are not read (GET only).
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).ok()? == 0 || header.trim().is_empty() {
            break;
        }
    }
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    Some(Request {
        path: path.to_string(),
        query: query.to_string(),
    })
}

fn answer(mut stream: TcpStream, handler: &Handler) {
    let Some(request) = read_request(&stream) else {
        return;
    };
    let (status, body) = handler(&request);
    let head = format!(
        "HTTP/1.1 {status} {}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        reason(status),
        body.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body.as_bytes());
}

/// Serve HTTP on `0.0.0.0:port`, one thread per connection, forever.
fn serve_http(port: u16, handler: Box<Handler>) -> Result<(), String> {
    let listener =
        TcpListener::bind(("0.0.0.0", port)).map_err(|e| format!("listen on :{port}: {e}"))?;
    let handler: &'static Handler = Box::leak(handler);
    for stream in listener.incoming().flatten() {
        std::thread::spawn(move || answer(stream, handler));
    }
    Ok(())
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|name| name.trim().to_string())
        .unwrap_or_default()
}

/// `--name=value` or `-name=value` or `--name value` among `args`.
fn flag(args: &[String], name: &str) -> Option<String> {
    let mut words = args.iter();
    while let Some(word) = words.next() {
        let bare = word.trim_start_matches('-');
        if bare.len() == word.len() {
            continue;
        }
        if let Some(value) = bare
            .strip_prefix(name)
            .and_then(|rest| rest.strip_prefix('='))
        {
            return Some(value.to_string());
        }
        if bare == name {
            return words.next().cloned();
        }
    }
    None
}

fn port_flag(args: &[String], name: &str, default: u16) -> Result<u16, String> {
    match flag(args, name) {
        None => Ok(default),
        Some(value) => {
            let digits = value.rsplit(':').next().unwrap_or(&value);
            digits
                .parse()
                .map_err(|_| format!("invalid --{name} {value:?}"))
        }
    }
}

/// `agnhost liveness`: /healthz answers 200 for the first 10 s, then 500 (as the
/// liveness-probe tutorial shows), on :8080.
fn agnhost_liveness() -> Result<(), String> {
    let started = Instant::now();
    serve_http(
        8080,
        Box::new(move |request| {
            let elapsed = started.elapsed().as_secs_f64();
            match request.path.as_str() {
                "/started" => (200, format!("{elapsed}")),
                "/healthz" if elapsed > 10.0 => (500, format!("error: {elapsed}")),
                "/healthz" => (200, "ok".to_string()),
                _ => (404, "404 page not found\n".to_string()),
            }
        }),
    )
}

fn query_value(query: &str, key: &str) -> Option<String> {
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(name, _)| *name == key)
        .map(|(_, value)| value.replace('+', " "))
}

/// `agnhost netexec`: the HTTP part (`/`, `/echo?msg=`, `/hostname`, `/healthz`,
/// `/exit?code=`) on `--http-port` (8080). No UDP, SCTP or `/shell`.
fn agnhost_netexec(args: &[String]) -> Result<(), String> {
    let port = port_flag(args, "http-port", 8080)?;
    println!("Started HTTP server on port {port}");
    serve_http(
        port,
        Box::new(|request| match request.path.as_str() {
            "/" => {
                let now = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map(|d| d.as_secs())
                    .unwrap_or(0);
                (200, format!("NOW: {now}"))
            }
            "/echo" => (200, query_value(&request.query, "msg").unwrap_or_default()),
            "/hostname" => (200, hostname()),
            "/healthz" => (200, "ok".to_string()),
            "/exit" => {
                let code = query_value(&request.query, "code")
                    .and_then(|c| c.parse().ok())
                    .unwrap_or(0);
                std::process::exit(code)
            }
            _ => (404, "404 page not found\n".to_string()),
        }),
    )
}

/// `agnhost serve-hostname`: the hostname over HTTP on `--port` (9376).
fn agnhost_serve_hostname(args: &[String]) -> Result<(), String> {
    let port = port_flag(args, "port", 9376)?;
    println!("Serving on port {port}.");
    serve_http(port, Box::new(|_| (200, hostname())))
}

fn agnhost(args: &[String]) -> Result<(), String> {
    match args.first().map(String::as_str) {
        Some("liveness") => agnhost_liveness(),
        Some("netexec") => agnhost_netexec(&args[1..]),
        Some("serve-hostname") => agnhost_serve_hostname(&args[1..]),
        Some(other) => Err(format!(
            "agnhost stand-in: subcommand {other:?} is not implemented (liveness, netexec, serve-hostname are)"
        )),
        None => {
            println!("agnhost stand-in (minipod): subcommands liveness, netexec, serve-hostname");
            Ok(())
        }
    }
}

/// `http-echo -text=TEXT [-listen=:5678] [-status-code=200]`: TEXT and a newline
/// for every path, `{"status":"ok"}` on /health.
fn http_echo(args: &[String]) -> Result<(), String> {
    let text = flag(args, "text").ok_or("http-echo: missing -text")?;
    let port = port_flag(args, "listen", 5678)?;
    let status = match flag(args, "status-code") {
        None => 200,
        Some(code) => code
            .parse()
            .map_err(|_| format!("http-echo: invalid -status-code {code:?}"))?,
    };
    println!("[INFO] server is listening on :{port}");
    serve_http(
        port,
        Box::new(move |request| match request.path.as_str() {
            "/health" => (200, "{\"status\":\"ok\"}\n".to_string()),
            _ => (status, format!("{text}\n")),
        }),
    )
}

/// `hello-app` (2.0): the greeting, the version and the pod's hostname on $PORT (8080).
fn hello_app() -> Result<(), String> {
    let port = match std::env::var("PORT") {
        Ok(value) => value
            .parse()
            .map_err(|_| format!("hello-app: invalid PORT {value:?}"))?,
        Err(_) => 8080,
    };
    println!("Server listening on port {port}");
    serve_http(
        port,
        Box::new(|request| {
            println!("Serving request: {}", request.path);
            (
                200,
                format!("Hello, world!\nVersion: 2.0.0\nHostname: {}\n", hostname()),
            )
        }),
    )
}

/// `node-hello` (1.0): "Hello Kubernetes!" on :8080.
fn node_hello() -> Result<(), String> {
    println!("Kubernetes Bootcamp App Started At: :8080");
    serve_http(8080, Box::new(|_| (200, "Hello Kubernetes!".to_string())))
}

/// `goproxy` (0.1): the readiness/liveness tutorial only needs something listening
/// on :8080; the stand-in accepts connections there and answers 501 (no proxying).
fn goproxy() -> Result<(), String> {
    let listener =
        TcpListener::bind(("0.0.0.0", 8080)).map_err(|e| format!("listen on :8080: {e}"))?;
    for mut stream in listener.incoming().flatten() {
        std::thread::spawn(move || {
            let mut first = [0u8; 1];
            if matches!(stream.read(&mut first), Ok(1)) {
                let body = "goproxy stand-in (minipod): listening on :8080, not proxying\n";
                let _ = write!(
                    stream,
                    "HTTP/1.1 501 Not Implemented\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
    }
    Ok(())
}

/// `1048576`, `150Mi`, `1Gi`, `250M`: a size in bytes.
fn bytes(size: &str) -> Option<usize> {
    let digits = size.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let unit: usize = match &size[digits.len()..] {
        "" => 1,
        "K" | "k" => 1000,
        "Ki" => 1 << 10,
        "M" => 1_000_000,
        "Mi" => 1 << 20,
        "G" => 1_000_000_000,
        "Gi" => 1 << 30,
        _ => return None,
    };
    digits.parse::<usize>().ok()?.checked_mul(unit)
}

/// `vish/stress` (`/stress -logtostderr -cpus N -mem-total SIZE`): N threads that
/// spin and SIZE bytes allocated and touched, held until killed.
fn vish_stress(args: &[String]) -> Result<(), String> {
    let cpus: usize = match flag(args, "cpus") {
        None => 0,
        Some(n) => n
            .parse()
            .map_err(|_| format!("stress: invalid -cpus {n:?}"))?,
    };
    let total = match flag(args, "mem-total") {
        None => 0,
        Some(size) => bytes(&size).ok_or(format!("stress: invalid -mem-total {size:?}"))?,
    };
    eprintln!("stress stand-in (minipod): {cpus} busy threads, {total} bytes held");
    let mut held: Vec<Vec<u8>> = Vec::new();
    let chunk = 1 << 20;
    let mut allocated = 0;
    while allocated < total {
        let size = chunk.min(total - allocated);
        held.push(vec![1u8; size]);
        allocated += size;
    }
    for _ in 0..cpus {
        std::thread::spawn(|| {
            let mut x: u64 = 1;
            loop {
                x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
            }
        });
    }
    loop {
        std::thread::sleep(std::time::Duration::from_secs(3600));
        std::hint::black_box(&held);
    }
}

fn run(program: &str, args: &[String]) -> Result<(), String> {
    match program {
        "agnhost" => agnhost(args),
        "http-echo" => http_echo(args),
        "hello-app" => hello_app(),
        "node-hello" => node_hello(),
        "goproxy" => goproxy(),
        "stress" => vish_stress(args),
        _ => match args.split_first() {
            Some((name, rest)) if name != program => run(name, rest),
            _ => Err(format!(
                "{program}: start as agnhost, goproxy, http-echo, hello-app, node-hello or stress (by name or first argument)"
            )),
        },
    }
}

fn main() {
    exit_on_term();
    let mut argv = std::env::args();
    let zero = argv.next().unwrap_or_default();
    let program = zero.rsplit('/').next().unwrap_or(&zero).to_string();
    let args: Vec<String> = argv.collect();
    if let Err(message) = run(&program, &args) {
        eprintln!("{message}");
        std::process::exit(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(list: &[&str]) -> Vec<String> {
        list.iter().map(|w| w.to_string()).collect()
    }

    #[test]
    fn flags_as_go_and_cobra_programs_take_them() {
        let args = words(&[
            "-logtostderr",
            "-cpus",
            "2",
            "--mem-total=150Mi",
            "-text=a=b c",
        ]);
        assert_eq!(flag(&args, "cpus").as_deref(), Some("2"));
        assert_eq!(flag(&args, "mem-total").as_deref(), Some("150Mi"));
        assert_eq!(flag(&args, "text").as_deref(), Some("a=b c"));
        assert_eq!(flag(&args, "listen"), None);
        assert_eq!(port_flag(&words(&["-listen=:5678"]), "listen", 1), Ok(5678));
        assert!(port_flag(&words(&["--port=x"]), "port", 1).is_err());
    }

    #[test]
    fn sizes_in_bytes() {
        assert_eq!(bytes("150Mi"), Some(150 << 20));
        assert_eq!(bytes("250M"), Some(250_000_000));
        assert_eq!(bytes("4096"), Some(4096));
        assert_eq!(bytes("1Ti"), None);
        assert_eq!(bytes("99999999999999999999Gi"), None);
    }

    #[test]
    fn query_values() {
        assert_eq!(
            query_value("msg=hi+there&x=1", "msg").as_deref(),
            Some("hi there")
        );
        assert_eq!(query_value("code=3", "msg"), None);
    }
}
