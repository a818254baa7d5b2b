#!/usr/bin/env python3
"""Small, stdlib-only helper that turns rootfs trees into OCI image layout tarballs.

Sub-commands (used by scripts/build-images.sh and scripts/test-images.sh):

  layer   --tree DIR [--base DIR] --out LAYER.tar.gz [--comment TEXT]
          Write one gzip-compressed layer tar of DIR. With --base, write only the
          difference DIR minus BASE (new/changed entries plus `.wh.NAME` whiteouts
          for removed ones), i.e. what `RUN apt-get install ...` adds on top of a
          parent image. Also writes LAYER.tar.gz.json with digest/diff_id/size.

  image   --layer LAYER.tar.gz [--layer ...] --name NAME --tag TAG [--tag ...]
          [--cmd JSON] [--entrypoint JSON] [--env K=V ...] [--workdir DIR]
          [--user USER] [--expose 80/tcp ...] [--stop-signal SIG]
          [--label K=V ...] --out IMAGE.tar
          Write an OCI image layout (oci-layout, index.json, blobs/sha256/...)
          as an uncompressed tar. index.json holds one manifest descriptor per tag.

  verify  IMAGE.tar        Check every digest and size; print a summary.
  extract IMAGE.tar DIR    Apply the layers in order into DIR (whiteouts included),
                           the way a container runtime unpacks an image.

Layers are deterministic: entries sorted by path (a directory before its
contents), numeric uid/gid only, integer mtimes from the tree, gzip header with
mtime 0 and no file name. The same tree therefore always gives the same blob digest.
"""

import argparse
import datetime
import gzip
import hashlib
import io
import json
import os
import platform
import shutil
import stat
import sys
import tarfile
import tempfile

MT_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
MT_CONFIG = "application/vnd.oci.image.config.v1+json"
MT_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MT_INDEX = "application/vnd.oci.image.index.v1+json"
WH_PREFIX = ".wh."
WH_OPAQUE = ".wh..wh..opq"

# uname -m -> GOARCH-style names used by OCI image configs
ARCH = {
    "x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64",
    "armv7l": "arm", "armv6l": "arm", "i386": "386", "i686": "386",
    "ppc64le": "ppc64le", "s390x": "s390x", "riscv64": "riscv64",
}


def die(msg):
    print(f"oci_image.py: error: {msg}", file=sys.stderr)
    sys.exit(1)


# ---------------------------------------------------------------- writing helpers

class HashingWriter:
    """File-like wrapper: counts and sha256-hashes every byte written through it."""

    def __init__(self, f):
        self.f, self.h, self.size = f, hashlib.sha256(), 0

    def write(self, b):
        self.h.update(b)
        self.size += len(b)
        return self.f.write(b)

    def flush(self):
        self.f.flush()

    def tell(self):  # tarfile's stream mode does not need it, gzip may ask
        return self.size


def atomic_output(path):
    """Temp file next to `path`; caller os.replace()s it when complete."""
    d = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".tmp-" + os.path.basename(path) + ".", dir=d)
    return os.fdopen(fd, "wb"), tmp


# ---------------------------------------------------------------- tree walking

def walk(top, rel=""):
    """Yield (relpath, lstat) for every entry under top, sorted, parents first."""
    path = os.path.join(top, rel) if rel else top
    with os.scandir(path) as it:
        names = sorted(e.name for e in it)
    for name in names:
        r = f"{rel}/{name}" if rel else name
        st = os.lstat(os.path.join(top, r))
        yield r, st
        if stat.S_ISDIR(st.st_mode):
            yield from walk(top, r)


def same_content(a, b):
    with open(a, "rb") as fa, open(b, "rb") as fb:
        while True:
            x, y = fa.read(1 << 20), fb.read(1 << 20)
            if x != y:
                return False
            if not x:
                return True


def entry_changed(tree, base, rel, st, bst):
    """Does tree/rel differ from base/rel? mtime alone is not a change."""
    if bst is None:
        return True
    if stat.S_IFMT(st.st_mode) != stat.S_IFMT(bst.st_mode):
        return True
    if (stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid) != \
            (stat.S_IMODE(bst.st_mode), bst.st_uid, bst.st_gid):
        return True
    if stat.S_ISLNK(st.st_mode):
        return os.readlink(os.path.join(tree, rel)) != os.readlink(os.path.join(base, rel))
    if stat.S_ISREG(st.st_mode):
        return st.st_size != bst.st_size or not same_content(
            os.path.join(tree, rel), os.path.join(base, rel))
    if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
        return st.st_rdev != bst.st_rdev
    return False  # directories (metadata compared above), fifos


def diff_entries(tree, base):
    """Entries of a diff layer: [(relpath, kind)] with kind 'entry' or 'whiteout'."""
    changed = set()
    whiteouts = []

    def rec(rel, base_is_dir):
        path = os.path.join(tree, rel) if rel else tree
        with os.scandir(path) as it:
            names = sorted(e.name for e in it)
        for name in names:
            r = f"{rel}/{name}" if rel else name
            st = os.lstat(os.path.join(tree, r))
            bst = None
            if base_is_dir:  # never lstat through a symlink in base (could leave base)
                try:
                    bst = os.lstat(os.path.join(base, r))
                except FileNotFoundError:
                    pass
            if entry_changed(tree, base, r, st, bst):
                changed.add(r)
            if stat.S_ISDIR(st.st_mode):
                rec(r, bst is not None and stat.S_ISDIR(bst.st_mode))

    rec("", True)

    # removed: present in base, absent in tree -> whiteout (topmost only)
    for r, bst in walk_pruned(base, tree):
        whiteouts.append(r)

    # every emitted entry brings its parent directories along
    needed = set(changed)
    for r in list(changed) + whiteouts:
        parts = r.split("/")
        for i in range(1, len(parts)):
            needed.add("/".join(parts[:i]))
    items = [(r, "entry") for r in needed]
    for r in whiteouts:
        d, _, n = r.rpartition("/")
        items.append(((d + "/" if d else "") + WH_PREFIX + n, "whiteout"))
    items.sort(key=lambda x: x[0].split("/"))
    return items


def walk_pruned(base, tree, rel=""):
    """Paths in base missing from tree; do not descend into a removed directory."""
    path = os.path.join(base, rel) if rel else base
    with os.scandir(path) as it:
        names = sorted(e.name for e in it)
    for name in names:
        r = f"{rel}/{name}" if rel else name
        bst = os.lstat(os.path.join(base, r))
        tst = lexists_inside(tree, r)
        if tst is None:
            yield r, bst
        elif stat.S_ISDIR(bst.st_mode) and stat.S_ISDIR(tst.st_mode):
            yield from walk_pruned(base, tree, r)


def lexists_inside(top, rel):
    """lstat top/rel without following symlinks in any component; None if absent."""
    cur = top
    st = None
    for part in rel.split("/"):
        if st is not None and not stat.S_ISDIR(st.st_mode):
            return None
        cur = os.path.join(cur, part)
        try:
            st = os.lstat(cur)
        except (FileNotFoundError, NotADirectoryError):
            return None
    return st


# ---------------------------------------------------------------- layer tar

def tarinfo_for(top, rel, st, hardlinks):
    ti = tarfile.TarInfo(rel)
    ti.mode = stat.S_IMODE(st.st_mode)
    ti.uid, ti.gid = st.st_uid, st.st_gid
    ti.uname = ti.gname = ""
    ti.mtime = int(st.st_mtime)
    m = st.st_mode
    if stat.S_ISREG(m):
        key = (st.st_dev, st.st_ino)
        if st.st_nlink > 1 and key in hardlinks:
            ti.type, ti.linkname = tarfile.LNKTYPE, hardlinks[key]
        else:
            if st.st_nlink > 1:
                hardlinks[key] = rel
            ti.type, ti.size = tarfile.REGTYPE, st.st_size
    elif stat.S_ISDIR(m):
        ti.type = tarfile.DIRTYPE
    elif stat.S_ISLNK(m):
        ti.type, ti.linkname = tarfile.SYMTYPE, os.readlink(os.path.join(top, rel))
    elif stat.S_ISCHR(m) or stat.S_ISBLK(m):
        ti.type = tarfile.CHRTYPE if stat.S_ISCHR(m) else tarfile.BLKTYPE
        ti.devmajor, ti.devminor = os.major(st.st_rdev), os.minor(st.st_rdev)
    elif stat.S_ISFIFO(m):
        ti.type = tarfile.FIFOTYPE
    else:
        return None  # sockets and the like do not belong in an image
    return ti


def write_layer(tree, base, out, comment):
    if base:
        items = diff_entries(tree, base)
    else:
        items = [(r, "entry") for r, _ in walk(tree)]
    f, tmp = atomic_output(out)
    try:
        compressed = HashingWriter(f)
        # mtime=0 and filename='' keep the gzip header identical on every build
        gz = gzip.GzipFile(filename="", mode="wb", fileobj=compressed, mtime=0, compresslevel=6)
        raw = HashingWriter(gz)
        hardlinks = {}
        n = 0
        with tarfile.open(fileobj=raw, mode="w|", format=tarfile.PAX_FORMAT) as tar:
            for rel, kind in items:
                if kind == "whiteout":
                    ti = tarfile.TarInfo(rel)
                    ti.mode, ti.mtime, ti.uname, ti.gname = 0o644, 0, "", ""
                    tar.addfile(ti)
                else:
                    st = os.lstat(os.path.join(tree, rel))
                    ti = tarinfo_for(tree, rel, st, hardlinks)
                    if ti is None:
                        continue
                    if ti.type == tarfile.REGTYPE:
                        with open(os.path.join(tree, rel), "rb") as src:
                            tar.addfile(ti, src)
                    else:
                        tar.addfile(ti)
                n += 1
        gz.close()
        f.close()
    except BaseException:
        f.close()
        os.unlink(tmp)
        raise
    meta = {
        "mediaType": MT_LAYER,
        "digest": "sha256:" + compressed.h.hexdigest(),
        "size": compressed.size,
        "diff_id": "sha256:" + raw.h.hexdigest(),
        "uncompressed_size": raw.size,
        "entries": n,
        "comment": comment or "",
    }
    os.replace(tmp, out)
    with open(out + ".json", "w") as mf:
        json.dump(meta, mf, indent=1)
    print(f"  layer {os.path.basename(out)}: {n} entries, "
          f"{raw.size / 1e6:.1f} MB tar, {compressed.size / 1e6:.1f} MB gzip, {meta['digest'][:19]}")


# ---------------------------------------------------------------- image layout

def kv(items):
    out = {}
    for it in items or []:
        k, sep, v = it.partition("=")
        if not sep:
            die(f"expected KEY=VALUE, got {it!r}")
        out[k] = v
    return out


def jbytes(obj):
    return json.dumps(obj, indent=2, sort_keys=False).encode() + b"\n"


def descriptor(mt, data_or_meta, annotations=None):
    if isinstance(data_or_meta, bytes):
        d = {"mediaType": mt, "digest": "sha256:" + hashlib.sha256(data_or_meta).hexdigest(),
             "size": len(data_or_meta)}
    else:
        d = {"mediaType": mt, "digest": data_or_meta["digest"], "size": data_or_meta["size"]}
    if annotations:
        d["annotations"] = annotations
    return d


def write_image(a):
    layers = []
    for path in a.layer:
        with open(path + ".json") as mf:
            layers.append((path, json.load(mf)))
    created = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    cfg = {}
    if a.entrypoint:
        cfg["Entrypoint"] = json.loads(a.entrypoint)
    if a.cmd:
        cfg["Cmd"] = json.loads(a.cmd)
    cfg["Env"] = a.env or []
    if a.workdir:
        cfg["WorkingDir"] = a.workdir
    if a.user:
        cfg["User"] = a.user
    if a.expose:
        cfg["ExposedPorts"] = {p: {} for p in a.expose}
    if a.stop_signal:
        cfg["StopSignal"] = a.stop_signal
    cfg["Labels"] = kv(a.label)
    machine = platform.machine()
    if machine not in ARCH:
        die(f"unknown machine {machine!r}; add it to ARCH")
    config = {
        "created": created,
        "architecture": ARCH[machine],
        "os": "linux",
        "config": cfg,
        "rootfs": {"type": "layers", "diff_ids": [m["diff_id"] for _, m in layers]},
        "history": [{"created": created, "created_by": m.get("comment") or "minipod build-images.sh"}
                    for _, m in layers],
    }
    config_b = jbytes(config)
    manifest = {
        "schemaVersion": 2,
        "mediaType": MT_MANIFEST,
        "config": descriptor(MT_CONFIG, config_b),
        "layers": [descriptor(MT_LAYER, m) for _, m in layers],
    }
    manifest_b = jbytes(manifest)
    index = {"schemaVersion": 2, "mediaType": MT_INDEX, "manifests": []}
    first = a.name.split("/")[0]
    if "/" in a.name and ("." in first or ":" in first or first == "localhost"):
        full = a.name                      # registry.k8s.io/pause: its own registry
    else:
        full = "docker.io/" + (a.name if "/" in a.name else "library/" + a.name)
    for tag in a.tag:
        index["manifests"].append(descriptor(MT_MANIFEST, manifest_b, {
            "io.containerd.image.name": f"{full}:{tag}",
            "org.opencontainers.image.ref.name": tag,
        }))
    index_b = jbytes(index)

    def add_bytes(tar, name, data, mode=0o644):
        ti = tarfile.TarInfo(name)
        ti.size, ti.mode, ti.mtime, ti.uname, ti.gname = len(data), mode, 0, "", ""
        tar.addfile(ti, io.BytesIO(data))

    def add_dir(tar, name):
        ti = tarfile.TarInfo(name)
        ti.type, ti.mode, ti.mtime, ti.uname, ti.gname = tarfile.DIRTYPE, 0o755, 0, "", ""
        tar.addfile(ti)

    f, tmp = atomic_output(a.out)
    try:
        with tarfile.open(fileobj=f, mode="w", format=tarfile.PAX_FORMAT) as tar:
            add_bytes(tar, "oci-layout", jbytes({"imageLayoutVersion": "1.0.0"}))
            add_bytes(tar, "index.json", index_b)
            add_dir(tar, "blobs")
            add_dir(tar, "blobs/sha256")
            seen = set()
            for path, m in layers:
                hexd = m["digest"].split(":", 1)[1]
                if hexd in seen:
                    continue
                seen.add(hexd)
                ti = tarfile.TarInfo("blobs/sha256/" + hexd)
                ti.size, ti.mode, ti.mtime, ti.uname, ti.gname = m["size"], 0o644, 0, "", ""
                with open(path, "rb") as src:
                    tar.addfile(ti, src)
            add_bytes(tar, "blobs/sha256/" + manifest["config"]["digest"].split(":")[1], config_b)
            add_bytes(tar, "blobs/sha256/" + index["manifests"][0]["digest"].split(":")[1], manifest_b)
        f.close()
    except BaseException:
        f.close()
        os.unlink(tmp)
        raise
    os.replace(tmp, a.out)
    print(f"  image {os.path.basename(a.out)}: tags {', '.join(a.tag)}, "
          f"manifest {index['manifests'][0]['digest'][:19]}")


# ---------------------------------------------------------------- verify / extract

def read_layout(path):
    """Return {member name: bytes-reader} without extracting; checks every blob digest."""
    tar = tarfile.open(path, "r:")
    members = {m.name.lstrip("./"): m for m in tar.getmembers()}
    return tar, members


def blob(tar, members, digest, expect_size=None):
    algo, hexd = digest.split(":", 1)
    if algo != "sha256":
        die(f"unsupported digest {digest}")
    m = members.get("blobs/sha256/" + hexd)
    if m is None:
        die(f"missing blob {digest}")
    data = tar.extractfile(m).read()
    if hashlib.sha256(data).hexdigest() != hexd:
        die(f"blob {digest}: content does not match digest")
    if expect_size is not None and len(data) != expect_size:
        die(f"blob {digest}: size {len(data)} != descriptor size {expect_size}")
    return data


def load_image(path):
    tar, members = read_layout(path)
    if json.loads(tar.extractfile(members["oci-layout"]).read()) != {"imageLayoutVersion": "1.0.0"}:
        die("bad oci-layout")
    index = json.loads(tar.extractfile(members["index.json"]).read())
    mds = index["manifests"]
    if not mds or len({d["digest"] for d in mds}) != 1:
        die("index.json: expected one manifest (one descriptor per tag)")
    manifest = json.loads(blob(tar, members, mds[0]["digest"], mds[0]["size"]))
    cd = manifest["config"]
    config = json.loads(blob(tar, members, cd["digest"], cd["size"]))
    return tar, members, index, manifest, config


def verify(a):
    tar, members, index, manifest, config = load_image(a.image)
    diff_ids = config["rootfs"]["diff_ids"]
    if len(diff_ids) != len(manifest["layers"]):
        die("number of diff_ids != number of layers")
    for ld, diff_id in zip(manifest["layers"], diff_ids):
        if ld["mediaType"] != MT_LAYER:
            die(f"unexpected layer media type {ld['mediaType']}")
        data = blob(tar, members, ld["digest"], ld["size"])
        raw = gzip.decompress(data)
        if "sha256:" + hashlib.sha256(raw).hexdigest() != diff_id:
            die(f"layer {ld['digest']}: diff_id mismatch")
        n = len(tarfile.open(fileobj=io.BytesIO(raw)).getmembers())
        print(f"  ok layer {ld['digest'][:19]} size {ld['size']} diff_id {diff_id[:19]} ({n} entries)")
    refs = [d["annotations"]["io.containerd.image.name"] for d in index["manifests"]]
    print(f"  ok {a.image}: {', '.join(refs)} arch={config['architecture']} "
          f"Cmd={json.dumps(config['config'].get('Cmd'))}")
    if a.json:
        print(json.dumps({"layers": [l["digest"] for l in manifest["layers"]],
                          "manifest": index["manifests"][0]["digest"]}))


def safe_join(root, name):
    name = name.lstrip("/")
    if name.startswith("./"):
        name = name[2:]
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if ".." in parts:
        die(f"refusing path with '..': {name}")
    return os.path.join(root, *parts) if parts else root, parts


def remove(path):
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    elif os.path.lexists(path):
        os.unlink(path)


def extract(a):
    tar, members, index, manifest, config = load_image(a.image)
    os.makedirs(a.dir, exist_ok=True)
    for ld in manifest["layers"]:
        data = blob(tar, members, ld["digest"], ld["size"])
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as lt:
            dirs = []
            for m in lt:
                dest, parts = safe_join(a.dir, m.name)
                if not parts:
                    continue
                base = parts[-1]
                parent = os.path.dirname(dest)
                if base == WH_OPAQUE:
                    for e in os.listdir(parent):
                        remove(os.path.join(parent, e))
                    continue
                if base.startswith(WH_PREFIX):
                    remove(os.path.join(parent, base[len(WH_PREFIX):]))
                    continue
                if os.path.lexists(dest) and not (m.isdir() and os.path.isdir(dest)
                                                  and not os.path.islink(dest)):
                    remove(dest)
                m.name = "/".join(parts)
                kw = {"filter": "fully_trusted"} if hasattr(tarfile, "data_filter") else {}
                lt.extract(m, a.dir, set_attrs=not m.isdir(), numeric_owner=True, **kw)
                if m.isdir():
                    dirs.append(m)
            for m in reversed(dirs):  # directory attributes last, like tar does
                p = os.path.join(a.dir, m.name)
                os.chown(p, m.uid, m.gid)
                os.chmod(p, m.mode)
                os.utime(p, (m.mtime, m.mtime))
    print(f"  extracted {len(manifest['layers'])} layer(s) into {a.dir}")


# ---------------------------------------------------------------- CLI

def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    l = sub.add_parser("layer")
    l.add_argument("--tree", required=True)
    l.add_argument("--base")
    l.add_argument("--out", required=True)
    l.add_argument("--comment")
    i = sub.add_parser("image")
    i.add_argument("--layer", action="append", required=True)
    i.add_argument("--name", required=True)
    i.add_argument("--tag", action="append", required=True)
    i.add_argument("--cmd")
    i.add_argument("--entrypoint")
    i.add_argument("--env", action="append")
    i.add_argument("--workdir")
    i.add_argument("--user")
    i.add_argument("--expose", action="append")
    i.add_argument("--stop-signal")
    i.add_argument("--label", action="append")
    i.add_argument("--out", required=True)
    v = sub.add_parser("verify")
    v.add_argument("image")
    v.add_argument("--json", action="store_true", help="also print layer digests as JSON")
    e = sub.add_parser("extract")
    e.add_argument("image")
    e.add_argument("dir")
    a = p.parse_args()
    if a.command == "layer":
        write_layer(a.tree, a.base, a.out, a.comment)
    elif a.command == "image":
        write_image(a)
    elif a.command == "verify":
        verify(a)
    else:
        extract(a)


if __name__ == "__main__":
    main()
