//! The pod network through CNI (issue 16): every pod its own IP from the standard
//! plugins (bridge + host-local + portmap), shown by get/describe, given to the
//! downward API and /etc/hosts, reachable from another pod, torn down without a
//! trace. Each test runs minipod in a network namespace of its own (common::netns):
//! the bridge, the NAT rules and the pod IPs never touch the host's, and all traffic
//! stays inside the test's namespaces.

mod common;
use common::pod_network::{leftovers, net_env, pod_ip, wait_running};
use common::pods::seed;
use std::process::Command;

#[test]
fn the_sidecar_pod_gets_its_own_ip_and_another_pod_reaches_it() {
    let (env, ns) = net_env("net-sidecar");
    env.ok(&["apply", "-f", &seed("sidecar-pod.yaml")]);
    wait_running(&env, "sidecar-pod", "2/2");
    let ip = pod_ip(&env, "sidecar-pod");
    assert!(ip.starts_with("10.244."), "podIP {ip:?}");

    let wide = env.ok(&["get", "pods", "-o", "wide"]);
    assert!(wide.lines().next().unwrap_or("").contains(" IP "), "{wide}");
    let row = wide
        .lines()
        .find(|l| l.starts_with("sidecar-pod"))
        .unwrap_or("");
    assert!(
        row.contains(&ip) && row.contains("2/2") && row.contains("Running"),
        "{wide}"
    );
    let describe = env.ok(&["describe", "pod", "sidecar-pod"]);
    assert!(
        describe
            .lines()
            .any(|l| l.starts_with("IP:") && l.ends_with(&ip)),
        "{describe}"
    );
    assert!(
        describe.contains(&format!("IPs:\n  IP:  {ip}\n")),
        "{describe}"
    );
    let json = env.pod_json("sidecar-pod");
    assert_eq!(json["status"]["podIPs"][0]["ip"], ip.as_str());
    assert!(json["status"]["hostIP"]
        .as_str()
        .is_some_and(|h| !h.is_empty()));

    // Both containers see the one eth0: the same MAC, the pod's IP as a local address.
    let mut macs = Vec::new();
    for c in ["nginx", "log-reader"] {
        let mac = env.ok(&[
            "exec",
            "sidecar-pod",
            "-c",
            c,
            "--",
            "cat",
            "/sys/class/net/eth0/address",
        ]);
        let trie = env.ok(&[
            "exec",
            "sidecar-pod",
            "-c",
            c,
            "--",
            "cat",
            "/proc/net/fib_trie",
        ]);
        assert!(trie.contains(&ip), "{c}: {ip} not local in\n{trie}");
        macs.push(mac);
    }
    assert_eq!(macs[0], macs[1]);
    assert!(!macs[0].trim().is_empty());
    let hosts = env.ok(&[
        "exec",
        "sidecar-pod",
        "-c",
        "log-reader",
        "--",
        "cat",
        "/etc/hosts",
    ]);
    assert!(hosts.contains(&format!("{ip}\tsidecar-pod\n")), "{hosts}");

    // Another pod fetches nginx's page by the pod's IP.
    let client = format!(
        "apiVersion: v1\nkind: Pod\nmetadata: {{name: client}}\nspec:\n  restartPolicy: Never\n  containers:\n  - name: wget\n    image: busybox:1.36\n    command: [\"wget\", \"-qO-\", \"http://{ip}/\"]\n"
    );
    env.ok(&["apply", "-f", &env.manifest("client.yaml", &client)]);
    env.wait_for(30, "client Completed", || {
        env.pod_json("client")["status"]["phase"] == "Succeeded"
    });
    let page = env.ok(&["logs", "client"]);
    assert!(page.contains("Welcome to nginx!"), "{page}");
    let client_ip = pod_ip(&env, "client");
    assert!(
        !client_ip.is_empty() && client_ip != ip,
        "client {client_ip} vs {ip}"
    );
    // nginx logged the other pod as its client (bridge: no NAT between pods).
    env.wait_for(10, "nginx logs the client", || {
        env.ok(&["logs", "sidecar-pod", "-c", "log-reader"])
            .contains(&client_ip)
    });

    // explain pod reads the interfaces from the pod's namespace and runs CNI CHECK.
    let explain = env.ok(&["explain", "pod", "sidecar-pod"]);
    assert!(explain.lines().any(|l| l.starts_with("eth0 ")), "{explain}");
    assert!(
        explain.contains(&format!("Local addresses: {ip}")),
        "{explain}"
    );
    assert!(
        explain.contains("CNI CHECK of network minipod: passed"),
        "{explain}"
    );
    // The veth pair as the kernel links it: eth0's peer index (read inside the pod)
    // is the host-side veth's index in the test's "host" namespace, a port of minipod0.
    let iflink: u32 = env
        .ok(&[
            "exec",
            "sidecar-pod",
            "-c",
            "log-reader",
            "--",
            "cat",
            "/sys/class/net/eth0/iflink",
        ])
        .trim()
        .parse()
        .expect("eth0's iflink");
    let veth = ns
        .links()
        .into_iter()
        .filter(|l| l.starts_with("veth"))
        .find(|l| {
            let name = l.clone();
            ns.in_it(move || nix::net::if_::if_nametoindex(name.as_str()).ok()) == Some(iflink)
        })
        .expect("the host-side veth of eth0");
    let pair = format!("eth0 ({ip}/16, index ");
    assert!(
        explain.lines().any(|l| l.starts_with("Veth pair: ")
            && l.contains(&pair)
            && l.ends_with(&format!("⇄ {veth} (index {iflink}) on bridge minipod0"))),
        "{explain}"
    );
    let picture = env.ok(&["explain", "pod", "sidecar-pod", "-o", "text"]);
    assert!(
        picture.contains(&format!(
            "veth pair  eth0 {ip}/16 ⇄ {veth} ─ bridge minipod0"
        )),
        "{picture}"
    );
    let svg = env.ok(&["explain", "pod", "sidecar-pod", "-o", "svg"]);
    assert!(
        svg.contains(&format!(
            "veth pair eth0 {ip}/16 ⇄ {veth} ─ bridge minipod0"
        )),
        "{svg}"
    );
    // --explain's CNI step named the same pair (the pod keeps its steps).
    let steps = env.ok(&["explain", "pod", "sidecar-pod", "--steps"]);
    assert!(
        steps.contains(&format!("veth pair eth0 ⇄ {veth} on bridge minipod0")),
        "{steps}"
    );
    // Without its lease, host-local's CHECK complains, naming the plugin.
    let lease = env.root().join("cni/networks/minipod").join(&ip);
    std::fs::remove_file(&lease).expect("the pod's lease file");
    let explain = env.ok(&["explain", "pod", "sidecar-pod"]);
    assert!(
        explain.contains(
            "CNI CHECK failed: network \"minipod\": CNI plugin bridge (CHECK eth0) failed"
        ),
        "{explain}"
    );
}

#[test]
fn the_documentations_downward_api_example_prints_the_pods_ip() {
    let (env, _ns) = net_env("net-dapi");
    // The example's image is registry.k8s.io/busybox:1.27.2; only busybox's sh,
    // printenv and sleep are used, so the local busybox plays it.
    let yaml = std::fs::read_to_string(format!(
        "{}/../shared/k8s-examples/pods/inject/dapi-envars-pod.yaml",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("read the documentation's example")
    .replace("registry.k8s.io/busybox:1.27.2", "busybox:1.36");
    env.ok(&["apply", "-f", &env.manifest("dapi.yaml", &yaml)]);
    wait_running(&env, "dapi-envars-fieldref", "1/1");
    let ip = pod_ip(&env, "dapi-envars-fieldref");
    assert!(ip.starts_with("10.244."), "podIP {ip:?}");
    env.wait_for(10, "the pod prints its IP", || {
        let logs = env.ok(&["logs", "dapi-envars-fieldref"]);
        logs.lines().any(|l| l == ip) && logs.contains("dapi-envars-fieldref\ndefault\n")
    });
}

#[test]
fn a_host_port_answers_through_portmap() {
    let (env, ns) = net_env("net-hostport");
    let yaml = "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  containers:\n  - name: nginx\n    image: nginx:1.27\n    ports:\n    - {containerPort: 80, hostPort: 8080}\n";
    env.ok(&["apply", "-f", &env.manifest("web.yaml", yaml)]);
    wait_running(&env, "web", "1/1");
    // The host's side of the pod network (the bridge's address) is an address of the
    // test's "host": portmap's DNAT takes port 8080 there to the pod's port 80.
    let gateway = "10.244.0.1:8080";
    let mut page = String::new();
    for _ in 0..50 {
        page = ns.http_get(gateway);
        if page.contains("Welcome to nginx!") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(page.contains("Welcome to nginx!"), "{page:?}");
    // Through DNAT (and portmap's masquerade) nginx sees the bridge's address, not the
    // loopback a user-space forwarder inside the pod would connect from.
    let from_bridge = |logs: &str| {
        logs.lines()
            .any(|l| l.starts_with("10.244.0.1 ") && l.contains("GET / "))
    };
    let mut logs = String::new();
    for _ in 0..50 {
        logs = env.ok(&["logs", "web"]);
        if from_bridge(&logs) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(from_bridge(&logs), "{logs}");
    env.ok(&["delete", "pod", "web"]);
    assert_eq!(leftovers(&env, &ns), Vec::<String>::new());
}

#[test]
fn the_documentations_custom_dns_example_gets_exactly_its_resolv_conf() {
    let (env, _ns) = net_env("net-dns");
    let file = format!(
        "{}/../shared/k8s-examples/service/networking/custom-dns.yaml",
        env!("CARGO_MANIFEST_DIR")
    );
    env.ok(&["apply", "-f", &file]);
    wait_running(&env, "dns-example", "1/1");
    let resolv = env.ok(&["exec", "dns-example", "--", "cat", "/etc/resolv.conf"]);
    assert_eq!(
        resolv,
        "nameserver 192.0.2.1\nsearch ns1.svc.cluster-domain.example my.dns.search.suffix\noptions ndots:2 edns0\n"
    );
}

#[test]
fn a_host_network_pod_shares_the_hosts_namespace_and_ip() {
    let (env, ns) = net_env("net-hostnet");
    let yaml = "apiVersion: v1\nkind: Pod\nmetadata: {name: hn}\nspec:\n  hostNetwork: true\n  terminationGracePeriodSeconds: 0\n  containers:\n  - name: c\n    image: busybox:1.36\n    command: [sleep, \"3600\"]\n    env:\n    - {name: MY_IP, valueFrom: {fieldRef: {fieldPath: status.podIP}}}\n";
    env.ok(&["apply", "-f", &env.manifest("hn.yaml", yaml)]);
    wait_running(&env, "hn", "1/1");
    // The container's network namespace is the test's "host" namespace itself.
    let inside = env.ok(&["exec", "hn", "--", "readlink", "/proc/self/ns/net"]);
    let host = ns.in_it(|| std::fs::read_link("/proc/thread-self/ns/net").unwrap());
    assert_eq!(inside.trim(), host.to_string_lossy());
    // No CNI call: no cache entry, no veth; the pod's IP is the host's.
    assert_eq!(leftovers(&env, &ns), Vec::<String>::new());
    let json = env.pod_json("hn");
    assert_eq!(json["status"]["podIP"], json["status"]["hostIP"]);
    let ip = json["status"]["podIP"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(!ip.is_empty());
    let env_ip = env.ok(&["exec", "hn", "--", "printenv", "MY_IP"]);
    assert_eq!(env_ip.trim(), ip);
}

#[test]
fn a_plugin_error_is_one_line_naming_the_plugin_and_leaves_nothing() {
    let (env, ns) = net_env("net-bad");
    // containerd's conf_dir: another conflist directory, here with a broken subnet.
    let conf = env.root().join("other-net.d");
    std::fs::create_dir_all(&conf).unwrap();
    let data = env.root().join("other-leases");
    std::fs::write(
        conf.join("10-bad.conflist"),
        format!(
            r#"{{"cniVersion":"1.0.0","name":"bad","plugins":[{{"type":"bridge","bridge":"bad0","ipam":{{"type":"host-local","ranges":[[{{"subnet":"10.99.0.0/33"}}]],"dataDir":"{}"}}}}]}}"#,
            data.display()
        ),
    )
    .unwrap();
    let mut cmd = env.mp.command(&["apply", "-f", &seed("sidecar-pod.yaml")]);
    cmd.env("MINIPOD_CNI_CONF_DIR", &conf);
    let out = cmd.output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert_eq!(
        err.trim(),
        "error: create pod \"sidecar-pod\": set up the pod network (CNI ADD): network \"bad\": CNI plugin bridge (ADD eth0) failed: CNI error 999: invalid CIDR address: 10.99.0.0/33"
    );
    assert!(env.pods().is_empty());
    assert_eq!(leftovers(&env, &ns), Vec::<String>::new());
}

#[test]
fn cni_directories_given_as_flags_win_over_the_environment_and_stay_with_the_pod() {
    let (env, ns) = net_env("net-dirs");
    // A network of our own (containerd's conf_dir) and a plugin directory (bin_dir)
    // whose bridge logs each call before running Debian's.
    let conf = env.root().join("my-net.d");
    let bins = env.root().join("my-bin");
    let leases = env.root().join("my-leases");
    let calls = env.root().join("bridge-calls.log");
    std::fs::create_dir_all(&conf).unwrap();
    std::fs::create_dir_all(&bins).unwrap();
    std::fs::write(
        conf.join("20-mine.conflist"),
        format!(
            r#"{{"cniVersion":"1.0.0","name":"mine","plugins":[{{"type":"bridge","bridge":"mine0","isGateway":true,"ipMasq":true,"ipam":{{"type":"host-local","ranges":[[{{"subnet":"10.123.0.0/24"}}]],"routes":[{{"dst":"0.0.0.0/0"}}],"dataDir":"{}"}}}}]}}"#,
            leases.display()
        ),
    )
    .unwrap();
    let plugins = ["/usr/lib/cni", "/opt/cni/bin"]
        .iter()
        .map(std::path::Path::new)
        .find(|d| d.join("bridge").is_file())
        .expect("containernetworking-plugins installed");
    std::fs::write(
        bins.join("bridge"),
        format!(
            "#!/bin/sh\necho \"$CNI_COMMAND\" >> {}\nexec {}/bridge\n",
            calls.display(),
            plugins.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(bins.join("bridge"), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::os::unix::fs::symlink(plugins.join("host-local"), bins.join("host-local")).unwrap();

    let yaml = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  terminationGracePeriodSeconds: 0\n  containers:\n  - name: c\n    image: busybox:1.36\n    command: [sleep, \"3600\"]\n";
    let file = env.manifest("p.yaml", yaml);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_minipod"));
    cmd.arg("--root")
        .arg(env.root())
        .env_remove("MINIPOD_ROOT")
        .arg("--cni-conf-dir")
        .arg(&conf)
        .arg("--cni-bin-dir")
        .arg(&bins)
        .args(["apply", "-f", &file])
        // The flags win over the environment.
        .env("MINIPOD_CNI_CONF_DIR", "/nonexistent-conf")
        .env("MINIPOD_CNI_BIN_DIR", "/nonexistent-bin");
    ns.enter_before_exec(&mut cmd);
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    wait_running(&env, "p", "1/1");
    let ip = pod_ip(&env, "p");
    assert!(ip.starts_with("10.123.0."), "podIP {ip:?}");
    assert!(ns.links().contains(&"mine0".to_string()));
    assert!(leases.join("mine").join(&ip).is_file());
    let log = || std::fs::read_to_string(&calls).unwrap_or_default();
    assert_eq!(log(), "ADD\n");

    // The supervisor re-creates the sandbox with the same directories.
    let infra = env.infra_pid("p");
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(infra),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    env.wait_for(20, "a new sandbox on my network", || {
        let new_ip = pod_ip(&env, "p");
        env.status("p")["infra"]["pid"]
            .as_i64()
            .is_some_and(|p| p != i64::from(infra))
            && new_ip.starts_with("10.123.0.")
            && new_ip != ip
            && env.row("p").get(2).map(String::as_str) == Some("Running")
    });
    assert_eq!(log(), "ADD\nDEL\nADD\n");

    // The supervisor dies; a `delete` without any flag still uses the pod's plugins.
    let sup = env.status("p")["supervisor"]["pid"].as_i64().unwrap() as i32;
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(sup),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    env.wait_for(10, "the supervisor is gone", || {
        !std::path::Path::new(&format!("/proc/{sup}/exe")).exists()
    });
    env.ok(&["delete", "-f", &file]);
    assert_eq!(log(), "ADD\nDEL\nADD\nDEL\n");
    let left: Vec<_> = std::fs::read_dir(leases.join("mine"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.parse::<std::net::IpAddr>().is_ok())
        .collect();
    assert!(left.is_empty(), "leases left: {left:?}");
    assert_eq!(leftovers(&env, &ns), Vec::<String>::new());
}

#[test]
fn port_forward_listens_on_both_loopbacks_and_reaches_into_the_pod() {
    use std::io::BufRead;
    let (env, ns) = net_env("net-pf");
    let yaml = "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  terminationGracePeriodSeconds: 0\n  containers:\n  - name: nginx\n    image: nginx:1.27\n";
    env.ok(&["apply", "-f", &env.manifest("web.yaml", yaml)]);
    wait_running(&env, "web", "1/1");
    let mut pf = env.mp.spawn(&["port-forward", "pod/web", ":80"]);
    let mut out = std::io::BufReader::new(pf.stdout.take().unwrap());
    let mut said = Vec::new();
    for _ in 0..2 {
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
        said.push(line.trim().to_string());
    }
    // kubectl's lines: one per address, the same free port on both.
    let port = said[0]
        .strip_prefix("Forwarding from 127.0.0.1:")
        .and_then(|r| r.strip_suffix(" -> 80"))
        .unwrap_or_else(|| panic!("{said:?}"))
        .to_string();
    assert_eq!(said[1], format!("Forwarding from [::1]:{port} -> 80"));
    for addr in [format!("127.0.0.1:{port}"), format!("[::1]:{port}")] {
        // Running is not listening: nginx binds port 80 a moment after it starts
        // (a refused connection inside the pod closes ours with nothing said).
        let mut page = String::new();
        for _ in 0..50 {
            page = ns.http_get(&addr);
            if page.contains("Welcome to nginx!") {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        assert!(page.contains("Welcome to nginx!"), "{addr}: {page:?}");
    }
    let _ = pf.kill();
    let _ = pf.wait();
    // Both connections entered the pod's namespace and came to nginx over its own
    // loopback (not by the pod's IP through the bridge). nginx logs a request after
    // answering it, and the supervisor relays the line from its pipe: wait for both.
    let loopback_gets = |logs: &str| {
        logs.lines()
            .filter(|l| l.starts_with("127.0.0.1 ") && l.contains("GET / "))
            .count()
    };
    env.wait_for(10, "both requests in nginx's log", || {
        loopback_gets(&env.ok(&["logs", "web"])) >= 2
    });
    let logs = env.ok(&["logs", "web"]);
    assert_eq!(loopback_gets(&logs), 2, "{logs}");

    // --address as kubectl's: an IP given is the only one listened on.
    let mut pf = env
        .mp
        .spawn(&["port-forward", "pod/web", ":80", "--address", "::1"]);
    let mut line = String::new();
    std::io::BufReader::new(pf.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let _ = pf.kill();
    let _ = pf.wait();
    assert!(
        line.starts_with("Forwarding from [::1]:") && line.trim_end().ends_with(" -> 80"),
        "{line:?}"
    );
    env.ok(&["delete", "pod", "web"]);
}
